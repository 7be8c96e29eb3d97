using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Tests;

/// <summary>
/// The options Keras models need: a recurrent activation other than the sigmoid (Keras 2's and
/// Keras 3's hard sigmoids) for LSTM and GRU, and the GRU with the reset gate before the recurrent
/// product (Keras's <c>reset_after=False</c>).
/// </summary>
public sealed class LayerOptionsTests
{
    private const int Batch = 2, Time = 4, InputSize = 2, Hidden = 3;

    public static TheoryData<string, string, bool, bool> Cases()
    {
        var data = new TheoryData<string, string, bool, bool>();
        foreach (var sigma in new[] { "sigmoid", "hard_sigmoid", "hard_sigmoid_v3" })
        {
            foreach (bool reverse in new[] { false, true })
            {
                data.Add("lstm", sigma, true, reverse);
                data.Add("gru", sigma, true, reverse);
                data.Add("gru", sigma, false, reverse);
            }
        }
        return data;
    }

    private static RecurrentLayer<double> Build(string kind, string sigma, bool resetAfter, bool reverse, bool bias = true, double widen = 1.5)
    {
        var act = Activations.Parse(sigma);
        RecurrentLayer<double> layer = kind == "lstm"
            ? new Lstm<double>(InputSize, Hidden, bias, returnSequences: true, reverse, act)
            : new Gru<double>(InputSize, Hidden, bias, returnSequences: true, reverse, act, resetAfter);
        layer.Initialize(Initialization.PyTorch, new RandomGenerator(3));
        foreach (var p in layer.Parameters) System.Numerics.Tensors.TensorPrimitives.Multiply(p.Value.Span, widen, p.Value.Span);
        return layer;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GivenARecurrentActivationAndResetPlacement_WhenBackpropagating_ThenEveryGradientMatchesCentralDifferences(
        string kind, string sigma, bool resetAfter, bool reverse)
    {
        // Hard sigmoids saturate beyond ±2.5 (±3): weights four times PyTorch's range reach both regions.
        var layer = Build(kind, sigma, resetAfter, reverse, widen: sigma == "sigmoid" ? 1.5 : 4.0);
        if (sigma != "sigmoid") AssertGatesInsideAndSaturated((GatedRecurrentLayer<double>)layer, sigma == "hard_sigmoid" ? 2.5 : 3.0);
        GradientCheckTests.CheckRecurrent(layer, withInitialState: true, seed: 11);
    }

    [Fact]
    public void GivenAResetBeforeGruWithoutBias_WhenBackpropagating_ThenEveryGradientMatchesCentralDifferences()
    {
        GradientCheckTests.CheckRecurrent(Build("gru", "sigmoid", resetAfter: false, reverse: false, bias: false), withInitialState: false, seed: 5);
    }

    [Fact]
    public void GivenABidirectionalResetBeforeGru_WhenBackpropagating_ThenTheReverseTwinKeepsTheOptions()
    {
        var layer = new Bidirectional<double>(new Gru<double>(InputSize, Hidden, returnSequences: true, recurrentActivation: Activation.HardSigmoid, resetAfter: false));
        layer.Initialize(Initialization.PyTorch, new RandomGenerator(3));
        var twin = Assert.IsType<Gru<double>>(layer.Backwards);
        Assert.False(twin.ResetAfter);
        Assert.Equal(Activation.HardSigmoid, twin.RecurrentActivation);
        GradientCheckTests.CheckRecurrent(layer, withInitialState: true, seed: 13);
    }

    /// <summary>
    /// The σ gates' pre-activations at the first step, computed here from the weights, include
    /// some beyond the hard sigmoid's knee and some inside it, so both derivatives (the slope and 0) are checked.
    /// </summary>
    private static void AssertGatesInsideAndSaturated(GatedRecurrentLayer<double> layer, double knee)
    {
        var x = GradientCheck.Random(11, 1.0, Batch, Time, InputSize);
        var h0 = GradientCheck.Random(12, 0.8, Batch, Hidden);
        int sigmaRows = layer.GateCount == 4 ? 4 * Hidden : 2 * Hidden; // LSTM: i, f, (g), o; GRU: r, z
        int inside = 0, outside = 0;
        for (int b = 0; b < Batch; b++)
        {
            int t = layer.Reverse ? Time - 1 : 0;
            for (int row = 0; row < sigmaRows; row++)
            {
                if (layer.GateCount == 4 && row / Hidden == 2) continue; // the cell gate is tanh
                double pre = layer.BiasIh!.Value.Span[row] + layer.BiasHh!.Value.Span[row];
                for (int i = 0; i < InputSize; i++) pre += layer.WeightIh.Value[row, i] * x[b, t, i];
                for (int k = 0; k < Hidden; k++) pre += layer.WeightHh.Value[row, k] * h0[b, k];
                if (Math.Abs(pre) > knee) outside++; else inside++;
            }
        }
        Assert.True(inside > 0 && outside > 0, $"first-step gate pre-activations: {inside} inside ±{knee}, {outside} outside");
    }

    [Theory]
    [InlineData(-3.0, 0.0, 0.0, 0.0, 0.0)]
    [InlineData(-1.0, 0.3, 0.2, 1.0 / 3, 1.0 / 6)]
    [InlineData(0.0, 0.5, 0.2, 0.5, 1.0 / 6)]
    [InlineData(2.0, 0.9, 0.2, 5.0 / 6, 1.0 / 6)]
    [InlineData(2.75, 1.0, 0.0, 0.9583333333333333, 1.0 / 6)]
    [InlineData(4.0, 1.0, 0.0, 1.0, 0.0)]
    public void GivenTheHardSigmoids_WhenEvaluated_ThenTheyAreKerasClipsWithSlopeInsideAndZeroOutside(double x, double keras2, double slope2, double keras3, double slope3)
    {
        double y2 = Activations.Value(Activation.HardSigmoid, x), y3 = Activations.Value(Activation.HardSigmoidV3, x);
        Assert.Equal(keras2, y2, 15);
        Assert.Equal(keras3, y3, 15);
        Assert.Equal(slope2, Activations.Derivative(Activation.HardSigmoid, y2), 15);
        Assert.Equal(slope3, Activations.Derivative(Activation.HardSigmoidV3, y3), 15);
        Assert.Equal(Activation.HardSigmoid, Activations.Parse("hard_sigmoid"));
        Assert.Equal("hard_sigmoid_v3", Activation.HardSigmoidV3.Name());
    }

    [Fact]
    public void GivenAResetBeforeGru_WhenStepping_ThenTheResetGateActsOnTheStateBeforeTheRecurrentProduct()
    {
        var gru = (Gru<double>)Build("gru", "hard_sigmoid", resetAfter: false, reverse: false);
        var x = GradientCheck.Random(1, 1.0, 1, 1, InputSize);
        var h0 = GradientCheck.Random(2, 0.8, 1, Hidden);
        var h1 = gru.Forward(x, new RecurrentState<double>(h0), training: false).Output;
        // The plain equations (Keras's GRU cell with reset_after=False, gates r, z, n in PyTorch's order):
        double Pre(int row, Func<int, double> h) // W_i x + b_i + W_h h + b_h for one row of the 3H
        {
            double s = gru.BiasIh!.Value.Span[row] + gru.BiasHh!.Value.Span[row];
            for (int i = 0; i < InputSize; i++) s += gru.WeightIh.Value[row, i] * x.Span[i];
            for (int k = 0; k < Hidden; k++) s += gru.WeightHh.Value[row, k] * h(k);
            return s;
        }
        static double HardSigmoid(double v) => Math.Clamp((0.2 * v) + 0.5, 0, 1);
        var r = Enumerable.Range(0, Hidden).Select(j => HardSigmoid(Pre(j, k => h0.Span[k]))).ToArray();
        for (int j = 0; j < Hidden; j++)
        {
            double z = HardSigmoid(Pre(Hidden + j, k => h0.Span[k]));
            double n = Math.Tanh(Pre((2 * Hidden) + j, k => r[k] * h0.Span[k]));
            Assert.Equal(((1 - z) * n) + (z * h0.Span[j]), h1[0, 0, j], 14);
        }
    }

    [Fact]
    public void GivenLayerOptions_WhenSavedAndLoaded_ThenTheConfigNamesThemAndTheDefaultsWriteNothing()
    {
        var model = new Sequential<float>(
            new Lstm<float>(1, 4, returnSequences: true, recurrentActivation: Activation.HardSigmoid),
            new Gru<float>(4, 3, returnSequences: true, resetAfter: false, recurrentActivation: Activation.HardSigmoidV3),
            new Gru<float>(3, 2));
        model.Initialize(Initialization.Keras, 1);
        byte[] bytes = ModelFile.ToBytes(model, new ModelMetadata());
        string config = SafeTensors.Read(bytes, "<model>").Metadata["config"];
        Assert.Contains("\"recurrentActivation\":\"hard_sigmoid\"", config, StringComparison.Ordinal);
        Assert.Contains("\"recurrentActivation\":\"hard_sigmoid_v3\",\"resetAfter\":false", config, StringComparison.Ordinal);
        Assert.Equal(1, CountOf(config, "resetAfter"));
        var loaded = ModelFile.FromBytes<float>(bytes);
        Assert.Equal(model.Layers.Select(l => l.Spec), loaded.Layers);
        Assert.False(((Gru<float>)loaded.Model.Layers[1]).ResetAfter);
        Assert.True(((Gru<float>)loaded.Model.Layers[2]).ResetAfter);
        var x = GradientCheck.Random(4, 2.0, 3, 5, 1);
        var xf = new Tensor<float>(x.Data.Select(v => (float)v).ToArray(), 3, 5, 1);
        Assert.Equal(model.Predict(xf).Data, loaded.Model.Predict(xf).Data);
    }

    [Theory]
    [InlineData("dense", "hard_sigmoid", true, "takes no recurrent activation")]
    [InlineData("lstm", "softplus", true, "Unknown activation 'softplus'")]
    [InlineData("lstm", null, false, "takes no resetAfter")]
    public void GivenAnOptionALayerDoesNotTake_WhenValidated_ThenTheLayerIsRefusedByName(string kind, string? sigma, bool resetAfter, string expected)
    {
        var spec = new LayerSpec { Kind = kind, InputSize = 2, Units = 3, RecurrentActivation = sigma, ResetAfter = resetAfter };
        var e = Assert.Throws<ArgumentException>(() => ModelFile.ParameterShapes(spec));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string word) => (text.Length - text.Replace(word, "", StringComparison.Ordinal).Length) / word.Length;
}
