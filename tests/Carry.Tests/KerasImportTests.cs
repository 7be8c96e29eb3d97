using System.Text.Json;
using Carry.Cli;
using Carry.Interop;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// <c>carry import keras</c> against the .h5 files in tests/fixtures/keras, which bench/keras_h5.py
/// writes in each Keras version's layout, with the outputs of Keras's equations computed there in
/// numpy from the files' own weights (not from Carry).
/// </summary>
[Collection("Console")]
public sealed class KerasImportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-keras-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>tests/fixtures/keras in the repository this test was built from.</summary>
    internal static string FixturePath(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures", "keras");
            if (Directory.Exists(candidate)) return Path.Combine(candidate, name);
        }
        throw new DirectoryNotFoundException($"tests/fixtures/keras not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>A case file's input and Keras's output, as tensors.</summary>
    internal static (string H5, Tensor<float> Input, Tensor<double> Expected) Case(string jsonPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(jsonPath));
        var root = doc.RootElement;
        int[] Shape(string key) => root.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var input = new Tensor<float>(root.GetProperty("input").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray(), Shape("input_shape"));
        var expected = new Tensor<double>(root.GetProperty("output").EnumerateArray().Select(e => e.GetDouble()).ToArray(), Shape("output_shape"));
        return (root.GetProperty("h5").GetString()!, input, expected);
    }

    [Theory]
    [InlineData("keras2-addition-rnn")]
    [InlineData("keras2-gru")]
    [InlineData("tfkeras-gru")]
    [InlineData("tfkeras-embedding")]
    [InlineData("tfkeras-seed-lstm")]
    [InlineData("keras3-lstm-gru")]
    public void GivenAKerasFile_WhenImported_ThenItsOutputsMatchKerasEquationsWithin1e5(string name)
    {
        var (h5, input, expected) = Case(FixturePath(name + ".json"));
        var model = KerasImport.Load(FixturePath(h5)).Model;
        var output = model.Predict(input);
        Assert.Equal(expected.Shape.ToArray(), output.Shape.ToArray());
        double worst = 0;
        for (int i = 0; i < output.Length; i++) worst = Math.Max(worst, Math.Abs(output.Span[i] - expected.Span[i]));
        Assert.True(worst < 1e-5, $"{name}: largest difference from Keras's equations {worst:E2}");
    }

    [Fact]
    public void GivenTheSeedsKerasModel_WhenImported_ThenItIsLstm256DropoutDense9Sigmoid()
    {
        var imported = KerasImport.Load(FixturePath("tfkeras-seed-lstm.h5"));
        Assert.Equal(new[] { 16, 1 }, imported.InputShape);
        Assert.Equal("2.8.0", imported.KerasVersion);
        Assert.Equal(
            [
                new LayerSpec { Kind = LayerKinds.Lstm, InputSize = 1, Units = 256 },
                new LayerSpec { Kind = LayerKinds.Dropout, Rate = 0.2 },
                new LayerSpec { Kind = LayerKinds.Dense, InputSize = 256, Units = 9, Activation = "sigmoid" },
            ],
            imported.Layers);
    }

    [Fact]
    public void GivenEachKerasVersionsOptions_WhenImported_ThenTheSpecsNameThem()
    {
        var old = KerasImport.Load(FixturePath("keras2-gru.h5")).Layers[0];
        Assert.Equal("hard_sigmoid", old.RecurrentActivation);
        Assert.False(old.ResetAfter); // Keras 2.0's GRU resets before the product
        var tf = KerasImport.Load(FixturePath("tfkeras-gru.h5")).Layers;
        Assert.True(tf[0].ResetAfter);
        Assert.Null(tf[0].RecurrentActivation);
        Assert.False(tf[1].ResetAfter);
        var keras3 = KerasImport.Load(FixturePath("keras3-lstm-gru.h5")).Layers;
        Assert.Equal("hard_sigmoid_v3", keras3[0].RecurrentActivation);
        Assert.Equal([LayerKinds.Lstm, LayerKinds.Gru, LayerKinds.Dense, LayerKinds.Activation], keras3.Select(s => s.Kind));
        Assert.Equal("softmax", keras3[3].Activation);
    }

    [Theory]
    [InlineData("refused-mask-zero.h5", "layer 'embedding' (Embedding): mask_zero=True")]
    [InlineData("refused-conv1d.h5", "layer 'conv1d' (Conv1D): Carry has no such layer")]
    public void GivenALayerCarryCannotRepresent_WhenImportingOnTheCommandLine_ThenOneLineNamesItAndExitIs2(string file, string expected)
    {
        string output = Path.Combine(_dir, "m.carry");
        var (code, _, error) = CliRunner.Run("import", "keras", FixturePath(file), "-o", output);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void GivenAFileThatIsNotHdf5_WhenImporting_ThenOneLineSaysSoAndExitIs2()
    {
        string bad = Path.Combine(_dir, "bad.h5");
        File.WriteAllText(bad, "not an HDF5 file at all");
        var (code, _, error) = CliRunner.Run("import", "keras", bad, "-o", Path.Combine(_dir, "m.carry"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("not an HDF5 file", error, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenAKerasFile_WhenImportingOnTheCommandLine_ThenTheModelIsSavedAndItsSummaryPrinted()
    {
        string output = Path.Combine(_dir, "addition.carry");
        var (code, text, error) = CliRunner.Run("import", "keras", FixturePath("keras2-addition-rnn.h5"), "-o", output);
        Assert.True(code == 0, error);
        Assert.Contains("repeat_vector (RepeatVector)", text, StringComparison.Ordinal);
        Assert.Contains("activation (Activation)", text, StringComparison.Ordinal);
        var (_, input, expected) = Case(FixturePath("keras2-addition-rnn.json"));
        var saved = Carry.Serialization.ModelFile.Load<float>(output).Model.Predict(input);
        for (int i = 0; i < saved.Length; i++) Assert.Equal(expected.Span[i], saved.Span[i], 1e-5);
    }
}
