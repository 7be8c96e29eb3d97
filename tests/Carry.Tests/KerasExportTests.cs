using Carry.Arithmetic;
using Carry.Cli;
using Carry.Interop;
using Carry.Layers;
using Carry.Numerics;
using PureHDF;

namespace Carry.Tests;

/// <summary>
/// <c>carry export -o x.h5</c>: a Carry model in tf.keras 2.x's HDF5 layout. Checked by importing
/// it back (every output of an 8-bit concat adder the same) and by reading its layout.
/// </summary>
[Collection("Console")]
public sealed class KerasExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-kexport-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The seed's concat adder shape (LSTM → Dropout → Dense(9, sigmoid)), smaller, with both biases non-zero.</summary>
    private static Sequential<float> ConcatAdder(int units)
    {
        var model = new Sequential<float>(new Lstm<float>(1, units), new Dropout<float>(0.2), new Dense<float>(units, 9, Activation.Sigmoid));
        model.Initialize(Initialization.PyTorch, 5);
        return model;
    }

    [Fact]
    public void GivenAConcatAdder_WhenExportedAndImportedBack_ThenAll65536PredictionsAreTheSame()
    {
        var model = ConcatAdder(16);
        string path = Path.Combine(_dir, "adder.h5");
        KerasExport.Save(model, path, [16, 1]);
        var back = KerasImport.Load(path);
        Assert.Equal(new[] { 16, 1 }, back.InputShape);
        Assert.Equal(model.Layers.Select(l => l.Spec), back.Layers);
        var before = AllPairsInference.Predict(model, 8);
        var after = AllPairsInference.Predict(back.Model, 8);
        Assert.Equal(65536, before.Dim(0));
        int same = 0;
        double worst = 0;
        for (int i = 0; i < 65536; i++)
        {
            if (ConcatEncoding.Decode<float>(before.Span.Slice(i * 9, 9)) == ConcatEncoding.Decode<float>(after.Span.Slice(i * 9, 9))) same++;
            for (int j = 0; j < 9; j++) worst = Math.Max(worst, Math.Abs(before[i, j] - after[i, j]));
        }
        Assert.Equal(65536, same);
        Assert.True(worst < 1e-6, $"largest output difference {worst:E2} (the two biases become their sum)");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GivenGruEmbeddingAndSoftmaxLayers_WhenExportedAndImportedBack_ThenOutputsAgree(bool resetAfter)
    {
        var model = new Sequential<float>(new Embedding<float>(6, 3), new Gru<float>(3, 4, returnSequences: true, recurrentActivation: Activation.HardSigmoid, resetAfter: resetAfter),
            new SimpleRnn<float>(4, 3, Activation.Relu), new RepeatVector<float>(2), new Dense<float>(3, 5), new ActivationLayer<float>("softmax"));
        model.Initialize(Initialization.PyTorch, 9);
        string path = Path.Combine(_dir, "gru.h5");
        KerasExport.Save(model, path, [-1, 1]);
        var back = KerasImport.Load(path);
        Assert.Equal(model.Layers.Select(l => l.Spec), back.Layers);
        var x = new Tensor<float>([0, 5, 2, 3, 1, 4, 4, 0], 2, 4, 1);
        var expected = model.Predict(x);
        var actual = back.Model.Predict(x);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected.Span[i], actual.Span[i], 1e-6);
    }

    [Fact]
    public void GivenAnExport_WhenReadAsHdf5_ThenItHasTfKerasGroupsAttributesNamesShapesAndDtypes()
    {
        string path = Path.Combine(_dir, "adder.h5");
        KerasExport.Save(ConcatAdder(8), path, [16, 1]);
        using var file = H5File.OpenRead(path);
        Assert.Equal("2.8.0", file.Attribute("keras_version").Read<string>());
        Assert.Contains("\"batch_input_shape\":[null,16,1]", file.Attribute("model_config").Read<string>(), StringComparison.Ordinal);
        var weights = file.Group("model_weights");
        Assert.Equal(["lstm", "dropout", "dense"], weights.Attribute("layer_names").Read<string[]>());
        Assert.Equal(["lstm/lstm_cell/kernel:0", "lstm/lstm_cell/recurrent_kernel:0", "lstm/lstm_cell/bias:0"], weights.Group("lstm").Attribute("weight_names").Read<string[]>());
        var kernel = weights.Dataset("lstm/lstm/lstm_cell/recurrent_kernel:0");
        Assert.Equal(new ulong[] { 8, 32 }, kernel.Space.Dimensions);
        Assert.Equal((H5DataTypeClass.FloatingPoint, 4), (kernel.Type.Class, kernel.Type.Size));
        Assert.Equal(new ulong[] { 8, 9 }, weights.Dataset("dense/dense/kernel:0").Space.Dimensions);
        Assert.Equal(H5DataTypeClass.FloatingPoint, weights.Group("dropout").Attribute("weight_names").Type.Class); // Keras's empty float array
    }

    [Fact]
    public void GivenAJordanModelOrAnUnknownExtension_WhenExporting_ThenOneLineSaysWhyAndExitIs2()
    {
        string model = Path.Combine(_dir, "jordan.carry");
        var jordan = new Sequential<float>(new Jordan<float>(2, 3, 1));
        Carry.Serialization.ModelFile.Save(model, jordan, new Carry.Serialization.ModelMetadata());
        var (code, _, error) = CliRunner.Run("export", "--model", model, "-o", Path.Combine(_dir, "j.h5"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("jordan layer has no Keras equivalent", error, StringComparison.Ordinal);
        (code, _, error) = CliRunner.Run("export", "--model", model, "-o", Path.Combine(_dir, "j.xyz"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("unknown format '.xyz'", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "j.h5")));
    }
}
