using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;

namespace Carry.Tests;

/// <summary>A bidirectional layer in steady state allocates nothing per training step (STYLE.md rule 5), measured on this thread.</summary>
public sealed class BidirectionalAllocationTests
{
    [Theory]
    [InlineData(LayerKinds.Lstm, false)]
    [InlineData(LayerKinds.Lstm, true)]
    [InlineData(LayerKinds.Gru, false)]
    [InlineData(LayerKinds.Gru, true)]
    [InlineData(LayerKinds.Elman, true)]
    [InlineData(LayerKinds.Jordan, false)]
    [InlineData(LayerKinds.Jordan, true)]
    public void GivenABidirectionalModel_WhenTrainingStepsRepeat_ThenASteadyStepAllocatesNothing(string cell, bool returnSequences)
    {
        var inner = (RecurrentLayer<double>)new LayerSpec { Kind = cell, InputSize = 1, Units = 4, OutputSize = cell == LayerKinds.Jordan ? 4 : 0, ReturnSequences = returnSequences }.Create<double>();
        var model = new Sequential<double>(new Bidirectional<double>(inner), new Dense<double>(8, 3, Activation.Sigmoid));
        model.Initialize(Initialization.PyTorch, 1);
        model.Compile(new MeanSquaredError<double>(), new Adam<double>(0.01));
        // A context of its own: the shared ComputeContext.Serial may be held by another test running
        // in parallel, and a product that finds its context busy borrows a temporary scratch (allocates).
        using var context = new ComputeContext(1);
        model.Compute = context;
        var x = new Tensor<double>(5, 6, 1);
        var y = returnSequences ? new Tensor<double>(5, 6, 3) : new Tensor<double>(5, 3);
        for (int i = 0; i < x.Length; i++) x.Span[i] = i % 3 == 0 ? 1 : 0;
        for (int i = 0; i < y.Length; i++) y.Span[i] = i % 2;
        for (int i = 0; i < 3; i++) model.TrainStep(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) model.TrainStep(x, y);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void GivenInitialStatesAndFinalStateGradients_WhenForwardAndBackwardRepeat_ThenASteadyPassAllocatesNothing()
    {
        var layer = new Bidirectional<double>(new Lstm<double>(2, 3));
        layer.Initialize(Initialization.PyTorch, new RandomGenerator(2));
        using var context = new ComputeContext(1); // not the shared Serial context (see above)
        layer.Compute = context;
        var x = new Tensor<double>(4, 5, 2);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (i % 5) * 0.1;
        var state = new RecurrentState<double>(new Tensor<double>(4, 6), new Tensor<double>(4, 6));
        var dState = new RecurrentState<double>(new Tensor<double>(4, 6), new Tensor<double>(4, 6));
        state.Hidden.Fill(0.2);
        dState.Cell!.Fill(0.1);
        var dOutput = new Tensor<double>(4, 6);
        dOutput.Fill(0.5);
        for (int i = 0; i < 3; i++)
        {
            layer.Forward(x, state, training: true);
            layer.Backward(dOutput, dState);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            layer.Forward(x, state, training: true);
            layer.Backward(dOutput, dState);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
