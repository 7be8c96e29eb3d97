using Carry.Layers;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// States in, states out: a sequence run in two chunks, the first's final state seeding the
/// second, equals the sequence run whole, forward and backward (truncated BPTT without the
/// truncation); and a layer may be fed its own final-state buffer back.
/// </summary>
public sealed class StateTests
{
    private const int Batch = 2, Time = 6, Split = 2, InputSize = 2, Hidden = 3;

    [Theory]
    [InlineData("elman")]
    [InlineData("jordan")]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void GivenASequenceInTwoChunks_WhenTheFirstFinalStateSeedsTheSecond_ThenOutputsAndGradientsEqualTheWholeRun(string kind)
    {
        var whole = Build(kind);
        var first = Build(kind);
        var second = Build(kind);
        var input = GradientCheck.Random(2, 1.0, Batch, Time, InputSize);
        var h0 = GradientCheck.Random(3, 0.5, Batch, whole.StateSize);
        var c0 = whole.HasCell ? GradientCheck.Random(4, 0.5, Batch, whole.StateSize) : null;
        var start = new RecurrentState<double>(h0, c0);

        var full = whole.Forward(input, start, training: true);
        var fullOutput = full.Output.Clone();
        var a = first.Forward(Slice(input, 0, Split), start, training: true);
        var aOutput = a.Output.Clone();
        var b = second.Forward(Slice(input, Split, Time), a.FinalState, training: true);
        Close.All(Slice(fullOutput, 0, Split), aOutput, 1e-14, "first chunk output");
        Close.All(Slice(fullOutput, Split, Time), b.Output, 1e-14, "second chunk output");
        Close.All(full.FinalState.Hidden, b.FinalState.Hidden, 1e-14, "final hidden");

        var dOut = GradientCheck.Random(5, 1.0, fullOutput.Shape.ToArray());
        var dFinal = new RecurrentState<double>(GradientCheck.Random(6, 1.0, Batch, whole.StateSize), whole.HasCell ? GradientCheck.Random(7, 1.0, Batch, whole.StateSize) : null);
        var gFull = whole.Backward(dOut, dFinal);
        var gB = second.Backward(Slice(dOut, Split, Time), dFinal);
        var dInputB = gB.DInput.Clone();
        var gA = first.Backward(Slice(dOut, 0, Split), gB.DInitialState);
        Close.All(Slice(gFull.DInput, 0, Split), gA.DInput, 1e-12, "dInput, first chunk");
        Close.All(Slice(gFull.DInput, Split, Time), dInputB, 1e-12, "dInput, second chunk");
        Close.All(gFull.DInitialState.Hidden, gA.DInitialState.Hidden, 1e-12, "dInitialState.Hidden");
        if (whole.HasCell) Close.All(gFull.DInitialState.Cell!, gA.DInitialState.Cell!, 1e-12, "dInitialState.Cell");
        for (int i = 0; i < whole.Parameters.Count; i++)
        {
            var sum = first.Parameters[i].Gradient.Clone();
            System.Numerics.Tensors.TensorPrimitives.Add(sum.Span, second.Parameters[i].Gradient.Span, sum.Span);
            Close.All(whole.Parameters[i].Gradient, sum, 1e-12, "grad " + whole.Parameters[i].Name);
        }
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    [InlineData("jordan")]
    [InlineData("bidirectional")]
    public void GivenALayersOwnFinalState_WhenFedBackAsTheNextInitialState_ThenTheResultEqualsFeedingACopy(string kind)
    {
        var layer = Build(kind);
        var other = Build(kind);
        var input = GradientCheck.Random(8, 1.0, Batch, Time, InputSize);
        var firstPass = layer.Forward(input, null, training: false).FinalState;
        var copy = new RecurrentState<double>(firstPass.Hidden.Clone(), firstPass.Cell?.Clone());
        var expected = other.Forward(input, copy, training: false).Output.Clone();
        var actual = layer.Forward(input, firstPass, training: false).Output; // firstPass aliases the layer's own buffers
        Close.All(expected, actual, 0, "output with an aliased initial state");
    }

    private static RecurrentLayer<double> Build(string kind)
    {
        RecurrentLayer<double> layer = kind switch
        {
            "elman" => new SimpleRnn<double>(InputSize, Hidden, Activation.Tanh, returnSequences: true),
            "jordan" => new Jordan<double>(InputSize, Hidden, 2, returnSequences: true),
            "lstm" => new Lstm<double>(InputSize, Hidden, returnSequences: true),
            "gru" => new Gru<double>(InputSize, Hidden, returnSequences: true),
            _ => new Bidirectional<double>(new Lstm<double>(InputSize, Hidden, returnSequences: true)),
        };
        layer.Initialize(Initialization.PyTorch, new RandomGenerator(1));
        return layer;
    }

    /// <summary>Steps [from, to) of a [B, T, F] tensor, as a new tensor.</summary>
    private static Tensor<double> Slice(Tensor<double> x, int from, int to)
    {
        int batch = x.Dim(0), time = x.Dim(1), f = x.Dim(2);
        var y = new Tensor<double>(batch, to - from, f);
        for (int b = 0; b < batch; b++)
        {
            x.Span.Slice(((b * time) + from) * f, (to - from) * f).CopyTo(y.Span.Slice(b * (to - from) * f, (to - from) * f));
        }
        return y;
    }
}
