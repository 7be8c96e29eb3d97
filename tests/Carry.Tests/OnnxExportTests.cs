using System.Numerics;
using Carry.Arithmetic;
using Carry.Interop;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;
using Microsoft.ML.OnnxRuntime;
using ModelMetadata = Carry.Serialization.ModelMetadata;
using Xunit.Abstractions;

namespace Carry.Tests;

/// <summary>
/// Exported models run in ONNX Runtime (a test-only dependency) and agree with Carry's own
/// forward pass within 1e-5: outputs and final states, from non-zero initial states.
/// </summary>
public sealed class OnnxExportTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-5f;
    private readonly ITestOutputHelper _output = output;

    private static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "onnx", name);

    [Theory]
    [InlineData("elman", "tanh", false, true)]
    [InlineData("elman", "relu", false, true)]
    [InlineData("elman", "sigmoid", false, false)]
    [InlineData("elman", "identity", false, true)]
    [InlineData("lstm", null, false, true)]
    [InlineData("lstm", null, false, false)]
    [InlineData("gru", null, false, true)]
    [InlineData("gru", null, false, false)]
    [InlineData("elman", "tanh", true, true)]
    [InlineData("elman", "identity", true, false)]
    [InlineData("lstm", null, true, true)]
    [InlineData("gru", null, true, true)]
    public void GivenOneRecurrentLayerAndDense_WhenExported_ThenOnnxRuntimeAgrees(string kind, string? activation, bool bidirectional, bool bias)
    {
        var cell = new LayerSpec { Kind = kind, InputSize = 3, Units = 5, Activation = activation, Bias = bias, ReturnSequences = true };
        var model = Build(seed: 7, Wrap(cell, bidirectional), new LayerSpec { Kind = LayerKinds.Dense, InputSize = bidirectional ? 10 : 5, Units = 2, Activation = "sigmoid", Bias = bias });
        AssertAgrees(model, batch: 4, time: 6, seed: 1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GivenStackedLayersEndingOnTheLastStep_WhenExported_ThenOnnxRuntimeAgrees(bool bidirectional)
    {
        int d = bidirectional ? 2 : 1;
        var model = Build(
            seed: 11,
            Wrap(new LayerSpec { Kind = LayerKinds.Lstm, InputSize = 2, Units = 6, ReturnSequences = true }, bidirectional),
            new LayerSpec { Kind = LayerKinds.Dropout, Rate = 0.5 },
            Wrap(new LayerSpec { Kind = LayerKinds.Gru, InputSize = 6 * d, Units = 4, ReturnSequences = true }, bidirectional),
            new LayerSpec { Kind = LayerKinds.Dense, InputSize = 4 * d, Units = 3, Activation = "tanh" },
            Wrap(new LayerSpec { Kind = LayerKinds.Elman, InputSize = 3, Units = 5, Activation = "relu" }, bidirectional),
            new LayerSpec { Kind = LayerKinds.Dense, InputSize = 5 * d, Units = 2, Activation = "relu" });
        AssertAgrees(model, batch: 3, time: 7, seed: 2);
    }

    [Fact]
    public void GivenAJordanLayer_WhenExported_ThenItIsRefusedNamingTheLayer()
    {
        var model = Build(seed: 1, new LayerSpec { Kind = LayerKinds.Jordan, InputSize = 2, Units = 4, OutputSize = 1 });
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(model));
        Assert.Contains("layer 0 (jordan) has no ONNX operator", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenARecurrentLayerAfterALastStepOutput_WhenExported_ThenItIsRefusedNamingTheLayer()
    {
        var model = Build(seed: 1,
            new LayerSpec { Kind = LayerKinds.Gru, InputSize = 2, Units = 3 },
            new LayerSpec { Kind = LayerKinds.Lstm, InputSize = 3, Units = 2 });
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(model));
        Assert.Contains("layer 1 (lstm) cannot be exported to ONNX here", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The committed 8-bit concat adder (GRU(24), made by the command in Data/onnx/README.md): all
    /// 65,536 pairs through ONNX Runtime give the same decoded sums as Carry. Its outputs are
    /// held to Carry's float64 pass rather than to 1e-5 of Carry's float32 one: in this trained
    /// model (weights up to 21) float32 rounding alone moves outputs by ~5e-5 (Carry float32 vs
    /// float64), so two float32 implementations differ by that much; ONNX Runtime must be as
    /// close to float64 as Carry's own float32 pass is (within a factor 1.5).
    /// </summary>
    [Fact]
    public void GivenThe8BitConcatAdder_WhenAll65536PairsRunInOnnxRuntime_ThenEveryPredictionAgrees()
    {
        string path = DataFile("adder8-concat-gru.carry");
        var model = ModelFile.Load<float>(path).Model;
        var reference = AllPairsInference.Predict(ModelFile.Load<double>(path).Model, 8).Data.Select(v => (float)v).ToArray();
        var carry = AllPairsInference.Predict(model, 8).Data;
        var (inputs, _) = ConcatEncoding.AllPairs<float>(8);
        var onnx = OnnxRun(OnnxExport.ToBytes(model), ZeroStates(model, inputs.Dim(0)), inputs)[OnnxExport.OutputName];
        Assert.Equal([65536L, 9], onnx.Shape);
        double carryError = MaxAbsDifference(carry, reference), onnxError = MaxAbsDifference(onnx.Data, reference);
        _output.WriteLine($"adder8: max |onnx - carry f32| = {MaxAbsDifference(carry, onnx.Data):E2} ({ArgMaxAbsDifference(carry, onnx.Data)}); vs carry f64: onnx {onnxError:E2}, carry f32 {carryError:E2}");
        Assert.True(onnxError <= 1.5 * carryError, $"ONNX Runtime is {onnxError:E2} from float64, Carry's float32 {carryError:E2}");
        int same = 0, right = 0;
        for (int k = 0; k < 65536; k++)
        {
            var sum = ConcatEncoding.Decode<float>(carry.AsSpan(k * 9, 9));
            if (sum == ConcatEncoding.Decode<float>(onnx.Data.AsSpan(k * 9, 9))) same++;
            if (sum == (k >> 8) + (k & 255)) right++;
        }
        _output.WriteLine($"adder8: {same}/65536 decoded sums the same; {right}/65536 right");
        Assert.Equal(65536, same);
    }

    /// <summary>
    /// The iamtrask Elman adder (aligned, sigmoid, no bias; Data/onnx/README.md) adds two 4096-bit
    /// numbers streamed through ONNX Runtime in chunks of 512 steps (the last of one step), the
    /// final state of each chunk fed as the next one's initial state: every step within 1e-5 of
    /// Carry's single pass, and the sum right.
    /// </summary>
    [Fact]
    public void GivenTheIamtraskElman_WhenA4096BitSumIsStreamedInChunks_ThenEveryStepAgreesAndTheSumIsRight()
    {
        const int bits = 4096, chunk = 512;
        var model = ModelFile.Load<float>(DataFile("iamtrask-elman-seed0.carry")).Model;
        var random = new RandomGenerator(4096);
        var (a, b) = (RandomBits.Next(bits, random), RandomBits.Next(bits, random));
        var (inputs, _) = AlignedEncoding.Batch<float>([(a, b)], AlignedEncoding.Steps(bits)); // [1, 4097, 2]
        var carry = model.Predict(inputs);                                                     // [1, 4097, 1]
        var bytes = OnnxExport.ToBytes(model);
        var state = ZeroStates(model, 1);
        var streamed = new List<float>();
        for (int start = 0; start < inputs.Dim(1); start += chunk)
        {
            int steps = Math.Min(chunk, inputs.Dim(1) - start);
            var x = new Tensor<float>(inputs.Span.Slice(start * 2, steps * 2).ToArray(), 1, steps, 2);
            var result = OnnxRun(bytes, state, x);
            streamed.AddRange(result[OnnxExport.OutputName].Data);
            state = new Dictionary<string, (float[] Data, long[] Shape)> { ["h0_0"] = result["hn_0"] };
        }
        Assert.Equal(inputs.Dim(1), streamed.Count);
        double diff = MaxAbsDifference(carry.Data, [.. streamed]);
        _output.WriteLine($"4096-bit stream: max |onnx - carry f32| = {diff:E2} over {streamed.Count} steps");
        Assert.True(diff <= Tolerance, $"max |carry - onnx| = {diff:E3}");
        Assert.Equal(a + b, AlignedEncoding.Decode<float>(streamed.ToArray()));
    }

    internal static LayerSpec Wrap(LayerSpec cell, bool bidirectional) =>
        bidirectional ? new LayerSpec { Kind = LayerKinds.Bidirectional, Inner = cell, InputSize = cell.InputSize, ReturnSequences = cell.ReturnSequences } : cell;

    internal static Sequential<float> Build(ulong seed, params LayerSpec[] specs)
    {
        var model = new Sequential<float>(specs.Select(s => s.Create<float>()).ToArray());
        model.Initialize(Initialization.PyTorch, seed);
        // Biases drawn too (PyTorch's scheme), so that every weight the export moves is non-zero.
        return model;
    }

    /// <summary>Runs Carry layer by layer from random initial states and the exported graph from the same ones; compares everything.</summary>
    private void AssertAgrees(Sequential<float> model, int batch, int time, ulong seed)
    {
        var random = new RandomGenerator(seed);
        int inputSize = model.Layers[0] is RecurrentLayer<float> r0 ? r0.InputSize : ((Dense<float>)model.Layers[0]).InputSize;
        var x = new Tensor<float>(batch, time, inputSize);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (float)(4 * random.NextDouble() - 2);
        var onnxStates = new Dictionary<string, (float[] Data, long[] Shape)>();
        var carryStates = new Dictionary<int, RecurrentState<float>>();
        foreach (var s in OnnxExport.States(model))
        {
            var h = RandomState(batch, s, random);
            var c = s.InitialCell is null ? null : RandomState(batch, s, random);
            carryStates[s.Layer] = new RecurrentState<float>(h, c);
            onnxStates[s.InitialHidden] = ToOnnxState(h, s.Directions);
            if (c is not null) onnxStates[s.InitialCell!] = ToOnnxState(c, s.Directions);
        }
        var expected = CarryForward(model, x, carryStates);
        var actual = OnnxRun(OnnxExport.ToBytes(model), onnxStates, x);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, (data, shape)) in expected)
        {
            Assert.Equal(shape, actual[name].Shape);
            double diff = MaxAbsDifference(data, actual[name].Data);
            _output.WriteLine($"{name}: max |onnx - carry| = {diff:E2} over {data.Length} values");
            Assert.True(diff <= Tolerance, $"{name}: max |carry - onnx| = {diff:E2}");
        }
    }

    private static Tensor<float> RandomState(int batch, OnnxState s, RandomGenerator random)
    {
        var t = new Tensor<float>(batch, s.Directions * s.HiddenSize);
        for (int i = 0; i < t.Length; i++) t.Span[i] = (float)(1.6 * random.NextDouble() - 0.8);
        return t;
    }

    /// <summary>Carry's forward pass layer by layer, keeping each recurrent layer's final state in ONNX's layout.</summary>
    private static Dictionary<string, (float[] Data, long[] Shape)> CarryForward(Sequential<float> model, Tensor<float> x, Dictionary<int, RecurrentState<float>> initial)
    {
        var result = new Dictionary<string, (float[] Data, long[] Shape)>();
        var current = x;
        for (int k = 0; k < model.Layers.Count; k++)
        {
            if (model.Layers[k] is RecurrentLayer<float> r)
            {
                var output = r.Forward(current, initial[k], training: false);
                int d = r is Bidirectional<float> ? 2 : 1;
                result[$"hn_{k}"] = ToOnnxState(output.FinalState.Hidden, d);
                if (output.FinalState.Cell is { } cell) result[$"cn_{k}"] = ToOnnxState(cell, d);
                current = output.Output;
            }
            else
            {
                current = model.Layers[k].Forward(current, training: false);
            }
            current = new Tensor<float>(current.Data.ToArray(), current.Shape.ToArray()); // layers reuse their buffers
        }
        result[OnnxExport.OutputName] = (current.Data, [.. current.Shape.ToArray().Select(d => (long)d)]);
        return result;
    }

    /// <summary>Carry's <c>[B, D·H]</c> (forward half first) as ONNX's <c>[D, B, H]</c>.</summary>
    internal static (float[] Data, long[] Shape) ToOnnxState(Tensor<float> state, int directions)
    {
        int batch = state.Dim(0), h = state.Dim(1) / directions;
        var data = new float[state.Length];
        for (int d = 0; d < directions; d++)
        {
            for (int b = 0; b < batch; b++) state.Span.Slice((b * directions * h) + (d * h), h).CopyTo(data.AsSpan(((d * batch) + b) * h, h));
        }
        return (data, [directions, batch, h]);
    }

    internal static Dictionary<string, (float[] Data, long[] Shape)> ZeroStates<T>(Sequential<T> model, int batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var states = new Dictionary<string, (float[] Data, long[] Shape)>();
        foreach (var s in OnnxExport.States(model))
        {
            states[s.InitialHidden] = (new float[s.Directions * batch * s.HiddenSize], [s.Directions, batch, s.HiddenSize]);
            if (s.InitialCell is { } c) states[c] = (new float[s.Directions * batch * s.HiddenSize], [s.Directions, batch, s.HiddenSize]);
        }
        return states;
    }

    /// <summary>Runs an ONNX model in ONNX Runtime; returns every graph output by name.</summary>
    internal static Dictionary<string, (float[] Data, long[] Shape)> OnnxRun(byte[] model, Dictionary<string, (float[] Data, long[] Shape)> states, Tensor<float> input)
    {
        using var session = new InferenceSession(model);
        var names = new List<string> { OnnxExport.InputName };
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(input.Data.ToArray(), [.. input.Shape.ToArray().Select(d => (long)d)]) };
        foreach (var (name, (data, shape)) in states)
        {
            names.Add(name);
            values.Add(OrtValue.CreateTensorValueFromMemory(data.ToArray(), shape));
        }
        try
        {
            var outputNames = session.OutputNames;
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, names, values, outputNames);
            var result = new Dictionary<string, (float[] Data, long[] Shape)>();
            for (int i = 0; i < outputNames.Count; i++)
            {
                result[outputNames[i]] = (outputs[i].GetTensorDataAsSpan<float>().ToArray(), outputs[i].GetTensorTypeAndShape().Shape);
            }
            return result;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    private static string ArgMaxAbsDifference(float[] a, float[] b)
    {
        int at = 0;
        for (int i = 0; i < a.Length; i++) if (Math.Abs(a[i] - b[i]) > Math.Abs(a[at] - b[at])) at = i;
        return $"element {at}: carry {a[at]:R}, onnx {b[at]:R}";
    }

    internal static double MaxAbsDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}

/// <summary><c>carry export</c>: writes a graph ONNX Runtime runs; refuses Jordan layers and unknown formats with one line, exit 2.</summary>
[Collection("Console")]
public sealed class OnnxExportCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void GivenABidirectionalLstmModel_WhenExportedByTheCli_ThenOnnxRuntimeRunsItAsCarryDoes()
    {
        var model = OnnxExportTests.Build(5,
            OnnxExportTests.Wrap(new LayerSpec { Kind = LayerKinds.Lstm, InputSize = 1, Units = 3 }, bidirectional: true),
            new LayerSpec { Kind = LayerKinds.Dense, InputSize = 6, Units = 2, Activation = "sigmoid" });
        string modelPath = Path.Combine(_dir, "m.carry"), onnxPath = Path.Combine(_dir, "m.onnx");
        ModelFile.Save(modelPath, model, new ModelMetadata());
        var (code, stdout, stderr) = CliRunner.Run("export", "--model", modelPath, "-o", onnxPath);
        Assert.True(code == 0, stderr);
        Assert.Contains("layer 0 state [2, batch, 3]: h0_0 -> hn_0, c0_0 -> cn_0", stdout, StringComparison.Ordinal);
        var x = new Tensor<float>([0f, 1, 1, 0, 1, 0, 0, 1], 2, 4, 1);
        var onnx = OnnxExportTests.OnnxRun(File.ReadAllBytes(onnxPath), OnnxExportTests.ZeroStates(model, 2), x)[OnnxExport.OutputName];
        Assert.True(OnnxExportTests.MaxAbsDifference(model.Predict(x).Data, onnx.Data) <= 1e-5);
    }

    [Fact]
    public void GivenAJordanModel_WhenExported_ThenExit2WithOneLineAndNoFile()
    {
        string modelPath = Path.Combine(_dir, "j.carry"), onnxPath = Path.Combine(_dir, "j.onnx");
        ModelFile.Save(modelPath, OnnxExportTests.Build(1, new LayerSpec { Kind = LayerKinds.Jordan, InputSize = 2, Units = 4, OutputSize = 1 }), new ModelMetadata());
        var (code, _, stderr) = CliRunner.Run("export", "--model", modelPath, "-o", onnxPath);
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("jordan) has no ONNX operator", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(onnxPath));
    }

    [Fact]
    public void GivenAnUnknownExtension_WhenExported_ThenExit2NamingIt()
    {
        var (code, _, stderr) = CliRunner.Run("export", "--model", "m.carry", "-o", Path.Combine(_dir, "m.pb"));
        Assert.Equal(2, code);
        Assert.Contains("unknown format '.pb'", stderr, StringComparison.Ordinal);
    }
}
