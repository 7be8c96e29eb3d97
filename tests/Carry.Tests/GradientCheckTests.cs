using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// Central-difference gradient checks in double (relative error &lt; 1e-6, see <see cref="GradientCheck"/>)
/// for every layer, activation, direction, loss, and whole models through time. Sizes are tiny.
/// </summary>
public sealed class GradientCheckTests
{
    private const int Batch = 2;
    private const int Time = 4;
    private const int InputSize = 2;
    private const int Hidden = 3;

    private static readonly string[] ActivationNames = ["identity", "sigmoid", "tanh", "relu"];

    /// <summary>Every recurrent layer kind × bias × returnSequences × direction (× activation where it has one).</summary>
    public static TheoryData<string, string, bool, bool, bool> RecurrentCases()
    {
        var data = new TheoryData<string, string, bool, bool, bool>();
        foreach (bool bias in new[] { true, false })
        {
            foreach (bool sequences in new[] { true, false })
            {
                foreach (bool reverse in new[] { false, true })
                {
                    foreach (var act in ActivationNames)
                    {
                        data.Add("elman", act, bias, sequences, reverse);
                        data.Add("jordan", act, bias, sequences, reverse);
                    }
                    data.Add("lstm", "-", bias, sequences, reverse);
                    data.Add("gru", "-", bias, sequences, reverse);
                }
                data.Add("bidirectional-elman", "tanh", bias, sequences, false);
                data.Add("bidirectional-elman", "relu", bias, sequences, false);
                data.Add("bidirectional-lstm", "-", bias, sequences, false);
                data.Add("bidirectional-gru", "-", bias, sequences, false);
                data.Add("bidirectional-jordan", "tanh", bias, sequences, false);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RecurrentCases))]
    public void GivenARecurrentLayer_WhenBackpropagatingThroughTime_ThenEveryGradientMatchesCentralDifferences(
        string kind, string activation, bool bias, bool returnSequences, bool reverse)
    {
        var layer = BuildRecurrent(kind, activation, bias, returnSequences, reverse);
        Assert.Equal(reverse, layer.Reverse);
        CheckRecurrent(layer, withInitialState: true, seed: 11);
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("elman")]
    [InlineData("jordan")]
    [InlineData("bidirectional-lstm")]
    public void GivenNoInitialState_WhenBackpropagating_ThenGradientsMatchCentralDifferencesFromZeroState(string kind)
    {
        var layer = BuildRecurrent(kind, "tanh", bias: true, returnSequences: true, reverse: false);
        CheckRecurrent(layer, withInitialState: false, seed: 23);
    }

    [Theory]
    [InlineData("identity", true)]
    [InlineData("sigmoid", true)]
    [InlineData("tanh", true)]
    [InlineData("relu", true)]
    [InlineData("identity", false)]
    [InlineData("sigmoid", false)]
    [InlineData("tanh", false)]
    [InlineData("relu", false)]
    public void GivenADenseLayer_WhenBackpropagating_ThenWeightBiasAndInputGradientsMatchCentralDifferences(string activation, bool bias)
    {
        var layer = new Dense<double>(4, 3, Activations.Parse(activation), bias);
        layer.Initialize(Initialization.PyTorch, new RandomGenerator(5));
        // Relu: pre-activations of these inputs stay well away from the kink (checked below).
        var input = GradientCheck.Random(6, 1.0, 5, 4);
        AssertAwayFromReluKink(layer, input, activation);
        GradientCheck.Layer(layer, input);
    }

    [Fact]
    public void GivenADenseLayerOnASequence_WhenBackpropagating_ThenPerStepGradientsMatchCentralDifferences()
    {
        var layer = new Dense<double>(3, 2, Activation.Sigmoid);
        layer.Initialize(Initialization.PyTorch, new RandomGenerator(8));
        GradientCheck.Layer(layer, GradientCheck.Random(9, 1.0, Batch, Time, 3));
    }

    [Fact]
    public void GivenATwoLayerRecurrentStack_WhenBackpropagating_ThenEveryParameterAndTheInputMatchCentralDifferences()
    {
        var model = new Sequential<double>(
            new Lstm<double>(InputSize, Hidden, returnSequences: true),
            new Gru<double>(Hidden, 2, returnSequences: false));
        model.Initialize(Initialization.PyTorch, 31);
        CheckModel(model, GradientCheck.Random(32, 1.0, Batch, Time, InputSize), seed: 33);
    }

    [Fact]
    public void GivenStackedBidirectionalLayers_WhenBackpropagating_ThenEveryParameterAndTheInputMatchCentralDifferences()
    {
        var model = new Sequential<double>(
            new Bidirectional<double>(new Lstm<double>(InputSize, Hidden, returnSequences: true)),
            new Bidirectional<double>(new Gru<double>(2 * Hidden, 2, returnSequences: true)),
            new Dense<double>(4, 1, Activation.Sigmoid));
        model.Initialize(Initialization.Keras, 41);
        CheckModel(model, GradientCheck.Random(42, 1.0, Batch, Time, InputSize), seed: 43);
    }

    [Theory]
    [InlineData("mse")]
    [InlineData("half-sse")]
    [InlineData("bce")]
    [InlineData("bce-logits")]
    public void GivenALoss_WhenComputingItsGradient_ThenItMatchesCentralDifferences(string name)
    {
        var loss = Loss<double>.Create(name);
        var rng = new RandomGenerator(51);
        int n = 12;
        var prediction = new double[n];
        var target = new double[n];
        for (int i = 0; i < n; i++)
        {
            // Probabilities inside (0.05, 0.95) for bce; logits in (-3, 3); anything for the squares.
            prediction[i] = name == "bce" ? 0.05 + (0.9 * rng.NextDouble()) : (rng.NextDouble() * 6) - 3;
            // Hard and soft targets both.
            target[i] = i % 3 == 0 ? rng.NextDouble() : (i % 2);
        }
        var dPrediction = new double[n];
        double value = loss.Compute(prediction, target, dPrediction);
        Assert.True(double.IsFinite(value) && value > 0, $"{name} loss is {value}");
        Assert.Equal(value, loss.Value(prediction, target));
        GradientCheck.Verify(prediction, dPrediction, () => loss.Value(prediction, target), name);
    }

    [Theory]
    [InlineData("mse", true)]
    [InlineData("half-sse", true)]
    [InlineData("bce", true)]
    [InlineData("mse", false)]
    [InlineData("bce", false)]
    public void GivenAWholeModelThroughTime_WhenBackpropagatingTheLoss_ThenEveryGradientMatchesCentralDifferences(string lossName, bool returnSequences)
    {
        // Lstm → Dropout (evaluation: identity) → Dense(sigmoid), through Sequential.Forward/Backward and Loss.Compute.
        var model = new Sequential<double>(
            new Lstm<double>(InputSize, Hidden, returnSequences: returnSequences),
            new Dropout<double>(0.3, seed: 3),
            new Dense<double>(Hidden, 2, Activation.Sigmoid));
        model.Initialize(Initialization.PyTorch, 61);
        var loss = Loss<double>.Create(lossName);
        var input = GradientCheck.Random(62, 1.0, Batch, Time, InputSize);
        int[] outShape = returnSequences ? [Batch, Time, 2] : [Batch, 2];
        var target = GradientCheck.Random(63, 0.5, outShape);
        for (int i = 0; i < target.Length; i++) target.Span[i] += 0.5; // targets in [0, 1]

        double Loss() => loss.Value(model.Forward(input, training: false).Span, target.Span);

        model.ZeroGradients();
        var prediction = model.Forward(input, training: false);
        var dLoss = new Tensor<double>(prediction.Shape.ToArray());
        loss.Compute(prediction.Span, target.Span, dLoss.Span);
        var dInput = model.Backward(dLoss).Clone();
        foreach (var (name, p) in model.Parameters)
        {
            GradientCheck.Verify(p.Value.Span, p.Gradient.Clone().Span, Loss, name);
        }
        GradientCheck.Verify(input.Span, dInput.Span, Loss, "input");
    }

    [Fact]
    public void GivenDropoutInTraining_WhenTheMaskIsHeldFixed_ThenTheModelGradientMatchesCentralDifferences()
    {
        // Training-mode dropout draws a fresh mask each pass; restoring the generator's state
        // before every pass holds the mask fixed, so the loss is a smooth function again.
        var dropout = new Dropout<double>(0.5, seed: 9);
        var model = new Sequential<double>(
            new SimpleRnn<double>(InputSize, Hidden, Activation.Sigmoid, bias: false, returnSequences: true),
            dropout,
            new Dense<double>(Hidden, 1, Activation.Sigmoid, bias: false));
        model.Initialize(Initialization.PyTorch, 71);
        var loss = new HalfSumOfSquares<double>();
        var input = GradientCheck.Random(72, 1.0, Batch, Time, InputSize);
        var target = new Tensor<double>(Batch, Time, 1);
        for (int i = 0; i < target.Length; i++) target.Span[i] = i % 2;
        ulong[] state = dropout.Random.GetState();

        double Loss()
        {
            dropout.Random.SetState(state);
            return loss.Value(model.Forward(input, training: true).Span, target.Span);
        }

        model.ZeroGradients();
        dropout.Random.SetState(state);
        var prediction = model.Forward(input, training: true);
        var dLoss = new Tensor<double>(prediction.Shape.ToArray());
        loss.Compute(prediction.Span, target.Span, dLoss.Span);
        var dInput = model.Backward(dLoss).Clone();
        foreach (var (name, p) in model.Parameters)
        {
            GradientCheck.Verify(p.Value.Span, p.Gradient.Clone().Span, Loss, name);
        }
        GradientCheck.Verify(input.Span, dInput.Span, Loss, "input");
    }

    [Fact]
    public void GivenGradientsFromTwoBackwardPasses_WhenNotZeroedBetween_ThenTheyAccumulate()
    {
        var layer = new Lstm<double>(InputSize, Hidden, returnSequences: true);
        layer.Initialize(Initialization.PyTorch, new RandomGenerator(81));
        var input = GradientCheck.Random(82, 1.0, Batch, Time, InputSize);
        var dOut = GradientCheck.Random(83, 1.0, Batch, Time, Hidden);
        layer.Forward(input, training: false);
        layer.Backward(dOut);
        var once = layer.Parameters.Select(p => p.Gradient.Clone()).ToArray();
        layer.Forward(input, training: false);
        layer.Backward(dOut);
        for (int i = 0; i < once.Length; i++)
        {
            var twice = layer.Parameters[i].Gradient.Span;
            for (int j = 0; j < twice.Length; j++) Assert.Equal(2 * once[i].Span[j], twice[j], 12);
        }
    }

    /// <summary>The cells at a width that runs their vector loops and a scalar tail (13 = 8 + 4 + 1 lanes of double).</summary>
    [Theory]
    [InlineData("lstm", "sigmoid", true)]
    [InlineData("lstm", "hard_sigmoid", true)]
    [InlineData("gru", "sigmoid", true)]
    [InlineData("gru", "sigmoid", false)]
    [InlineData("gru", "hard_sigmoid", true)]
    [InlineData("gru", "hard_sigmoid_v3", false)]
    [InlineData("elman", "tanh", true)]
    [InlineData("elman", "sigmoid", true)]
    [InlineData("elman", "relu", true)]
    [InlineData("jordan", "tanh", true)]
    public void GivenACellWideEnoughForItsVectorLoops_WhenBackpropagatingThroughTime_ThenEveryGradientMatchesCentralDifferences(
        string kind, string activation, bool resetAfter)
    {
        const int wide = 13;
        var act = Activations.Parse(activation);
        RecurrentLayer<double> layer = kind switch
        {
            "lstm" => new Lstm<double>(InputSize, wide, returnSequences: true, recurrentActivation: act),
            "gru" => new Gru<double>(InputSize, wide, returnSequences: true, recurrentActivation: act, resetAfter: resetAfter),
            "elman" => new SimpleRnn<double>(InputSize, wide, act, returnSequences: true),
            _ => new Jordan<double>(InputSize, wide, wide, act, Activation.Sigmoid, returnSequences: true),
        };
        layer.Initialize(Initialization.PyTorch, new RandomGenerator(3));
        foreach (var p in layer.Parameters)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(p.Value.Span, 2.0, p.Value.Span); // off the linear part for H = 13
        }
        CheckRecurrent(layer, withInitialState: true, seed: 17);
    }

    internal static RecurrentLayer<double> BuildRecurrent(string kind, string activation, bool bias, bool returnSequences, bool reverse)
    {
        var act = activation == "-" ? Activation.Tanh : Activations.Parse(activation);
        RecurrentLayer<double> Inner(string k, bool rev) => k switch
        {
            "elman" => new SimpleRnn<double>(InputSize, Hidden, act, bias, returnSequences, rev),
            // Jordan: hidden f = act; the fed-back output through sigmoid, or the same act for variety.
            "jordan" => new Jordan<double>(InputSize, Hidden, 2, act, act == Activation.Tanh ? Activation.Sigmoid : act, bias, returnSequences, rev),
            "lstm" => new Lstm<double>(InputSize, Hidden, bias, returnSequences, rev),
            "gru" => new Gru<double>(InputSize, Hidden, bias, returnSequences, rev),
            _ => throw new ArgumentException($"Unknown kind {k}", nameof(kind)),
        };
        RecurrentLayer<double> layer = kind.StartsWith("bidirectional-", StringComparison.Ordinal)
            ? new Bidirectional<double>(Inner(kind["bidirectional-".Length..], false))
            : Inner(kind, reverse);
        layer.Initialize(Initialization.PyTorch, new RandomGenerator(3));
        // PyTorch's U(-1/√H, 1/√H) is small for H = 3; widen it so every non-linearity is exercised off its linear part.
        foreach (var p in layer.Parameters)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(p.Value.Span, 1.5, p.Value.Span);
        }
        return layer;
    }

    /// <summary>
    /// loss = Σ output ⊙ P + Σ h_n ⊙ Q (+ Σ c_n ⊙ R): checks every parameter, the input, and the
    /// initial state(s), so both the per-step outputs and the final state feed the gradient.
    /// </summary>
    internal static void CheckRecurrent(RecurrentLayer<double> layer, bool withInitialState, ulong seed)
    {
        int s = layer.StateSize;
        var input = GradientCheck.Random(seed, 1.0, Batch, Time, layer.InputSize);
        var h0 = GradientCheck.Random(seed + 1, 0.8, Batch, s);
        var c0 = GradientCheck.Random(seed + 2, 0.8, Batch, s);
        RecurrentState<double>? Initial() => withInitialState ? new RecurrentState<double>(h0, layer.HasCell ? c0 : null) : null;

        var first = layer.Forward(input, Initial(), training: false);
        var p = GradientCheck.Random(seed + 3, 1.0, first.Output.Shape.ToArray());
        var q = GradientCheck.Random(seed + 4, 1.0, Batch, s);
        var r = GradientCheck.Random(seed + 5, 1.0, Batch, s);
        double Loss()
        {
            var y = layer.Forward(input, Initial(), training: false);
            double sum = Dot(y.Output, p) + Dot(y.FinalState.Hidden, q);
            if (layer.HasCell) sum += Dot(y.FinalState.Cell!, r);
            return sum;
        }

        foreach (var param in layer.Parameters) param.Gradient.Fill(0);
        layer.Forward(input, Initial(), training: false);
        var grads = layer.Backward(p, new RecurrentState<double>(q, layer.HasCell ? r : null));
        var dInput = grads.DInput.Clone();
        var dH0 = grads.DInitialState.Hidden.Clone();
        var dC0 = grads.DInitialState.Cell?.Clone();
        Assert.Equal(layer.HasCell, dC0 is not null);
        foreach (var param in layer.Parameters)
        {
            GradientCheck.Verify(param.Value.Span, param.Gradient.Clone().Span, Loss, param.Name);
        }
        GradientCheck.Verify(input.Span, dInput.Span, Loss, "input");
        if (withInitialState)
        {
            GradientCheck.Verify(h0.Span, dH0.Span, Loss, "initial hidden state");
            if (layer.HasCell) GradientCheck.Verify(c0.Span, dC0!.Span, Loss, "initial cell state");
        }
    }

    /// <summary>loss = Σ model(input) ⊙ P through <see cref="Sequential{T}.Forward"/> and <see cref="Sequential{T}.Backward"/>.</summary>
    private static void CheckModel(Sequential<double> model, Tensor<double> input, ulong seed)
    {
        var p = GradientCheck.Random(seed, 1.0, model.Forward(input, training: false).Shape.ToArray());
        double Loss() => Dot(model.Forward(input, training: false), p);
        model.ZeroGradients();
        model.Forward(input, training: false);
        var dInput = model.Backward(p).Clone();
        foreach (var (name, param) in model.Parameters)
        {
            GradientCheck.Verify(param.Value.Span, param.Gradient.Clone().Span, Loss, name);
        }
        GradientCheck.Verify(input.Span, dInput.Span, Loss, "input");
    }

    private static void AssertAwayFromReluKink(Dense<double> layer, Tensor<double> input, string activation)
    {
        if (activation != "relu") return;
        var probe = new Dense<double>(layer.InputSize, layer.OutputSize, Activation.Identity, layer.Bias is not null);
        for (int i = 0; i < layer.Parameters.Count; i++) layer.Parameters[i].Value.Span.CopyTo(probe.Parameters[i].Value.Span);
        foreach (double pre in probe.Forward(input, training: false).Span) Assert.True(Math.Abs(pre) > 1e-3, $"pre-activation {pre} too near the relu kink");
    }

    private static double Dot(Tensor<double> a, Tensor<double> b)
    {
        Assert.Equal(a.Length, b.Length);
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a.Span[i] * b.Span[i];
        return s;
    }
}
