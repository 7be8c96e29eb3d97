using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;

namespace Carry.Tests;

/// <summary>Training results do not depend on <see cref="ComputeContext.MaxDegreeOfParallelism"/>.</summary>
public sealed class ThreadCountTests
{
    [Theory]
    [InlineData(LayerKinds.Lstm, true)]
    [InlineData(LayerKinds.Gru, true)]
    [InlineData(LayerKinds.Gru, false)]
    [InlineData(LayerKinds.Elman, true)]
    [InlineData(LayerKinds.Jordan, true)]
    public void GivenACellModelAndABatchOf64_WhenTrainingOnOneTwoOrThreeThreads_ThenLossesAndWeightsAreBitIdentical(string cell, bool resetAfter)
    {
        float[]? firstWeights = null;
        float[]? firstLosses = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var context = new ComputeContext(threads);
            var recurrent = new LayerSpec { Kind = cell, InputSize = 3, Units = 48, OutputSize = cell == LayerKinds.Jordan ? 48 : 0, ResetAfter = resetAfter }.Create<float>();
            var model = new Sequential<float>(recurrent, new Dropout<float>(0.2, seed: 4), new Dense<float>(48, 2, Activation.Sigmoid));
            model.Initialize(Initialization.Keras, 11);
            model.Compile(new MeanSquaredError<float>(), new Adam<float>(0.01));
            model.Compute = context;
            var random = new RandomGenerator(2);
            var x = new Tensor<float>(64, 7, 3);
            var y = new Tensor<float>(64, 2);
            for (int i = 0; i < x.Length; i++) x.Span[i] = (float)random.NextDouble();
            for (int i = 0; i < y.Length; i++) y.Span[i] = random.NextInt(2);
            var losses = new float[3];
            for (int step = 0; step < losses.Length; step++) losses[step] = model.TrainStep(x, y);
            var weights = model.ParameterList.SelectMany(p => p.Value.Data).ToArray();
            if (firstWeights is null)
            {
                firstWeights = weights;
                firstLosses = losses;
            }
            else
            {
                Assert.Equal(firstLosses, losses);
                Assert.True(firstWeights.AsSpan().SequenceEqual(weights), $"{cell}: weights after three steps differ between 1 and {threads} threads");
            }
        }
    }

    [Fact]
    public void GivenAParallelItemThatThrows_WhenRunning_ThenTheCallerGetsTheExceptionAndTheContextStillWorks()
    {
        using var context = new ComputeContext(2);
        var failing = new ThrowingJob(failAt: 3);
        Assert.True(context.TryAcquire());
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => context.RunAcquired(failing, 8));
            Assert.Equal("item 3", e.Message);
            var counting = new ThrowingJob(failAt: -1);
            context.RunAcquired(counting, 8);
            Assert.Equal(8, counting.Done);
        }
        finally
        {
            context.Release();
        }
    }

    private sealed class ThrowingJob(int failAt) : ParallelJob
    {
        private int _done;

        public int Done => _done;

        public override void Execute(int item, ComputeContext.Scratch scratch)
        {
            if (item == failAt) throw new InvalidOperationException($"item {item}");
            Interlocked.Increment(ref _done);
        }
    }
}
