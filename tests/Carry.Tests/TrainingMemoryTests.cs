using Carry.Arithmetic;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Training;
using Xunit;

namespace Carry.Tests;

/// <summary>
/// What keeps <c>carry train keras</c>'s resident memory flat over any number of epochs: the
/// per-epoch score and the best-weights copy reuse their buffers, so an epoch after the first
/// allocates almost nothing (measured on this thread, on a serial compute context).
/// </summary>
public sealed class TrainingMemoryTests
{
    private static Sequential<float> LstmAdder(int bits, int hidden)
    {
        var model = new Sequential<float>(
            new Lstm<float>(1, hidden),
            new Dropout<float>(0.2, seed: 1),
            new Dense<float>(hidden, bits + 1, Activation.Sigmoid));
        model.Initialize(Initialization.Keras, 3);
        model.Compute = ComputeContext.Serial;
        return model;
    }

    [Fact]
    public void GivenAnAllPairsScorer_WhenTheWeightsChangeBetweenWalks_ThenEachWalkMatchesAFreshPredictAndAllocatesNothing()
    {
        const int bits = 4, chunk = 8; // chunks of 8 rows: the trie is walked depth-first in blocks
        var model = LstmAdder(bits, 8);
        var scorer = new AllPairsScorer<float>(model, bits, chunk);
        scorer.Predict();
        foreach (var p in model.ParameterList) TensorScale(p.Value.Span, 0.9f);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var walked = scorer.Predict();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(AllPairsInference.Predict(model, bits, chunk).Span.ToArray(), walked.Span.ToArray());
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void GivenAConcatAdditionTaskOnAllPairs_WhenEpochsRepeat_ThenAnEpochAfterTheSecondAllocatesAlmostNothing()
    {
        const int bits = 5, batch = 64; // 1,024 pairs: 16 batches an epoch
        var model = LstmAdder(bits, 16);
        model.Compile(new MeanSquaredError<float>(), new Adam<float>(0.01));
        var allocated = new List<long>();
        var probe = new EpochEndProbe(() => allocated.Add(GC.GetAllocatedBytesForCurrentThread()));
        var options = new FitOptions { Epochs = 5, BatchSize = batch, Seed = 1, KeepBest = true };
        new Trainer<float>(model, new AdditionTask<float>(ConcatEncoding.Name, bits), options, [probe]).Run();
        // Before the buffers were kept, each epoch allocated the trie's states, its result and the loss's
        // scratch (about 200 KB here) and a new best-weights copy. What remains is bookkeeping: a progress
        // record per batch and the epoch's summary and metrics.
        for (int epoch = 2; epoch < allocated.Count; epoch++) Assert.InRange(allocated[epoch] - allocated[epoch - 1], 0, 16 * 1024);
    }

    [Fact]
    public void GivenBestWeightsLoadedFromACheckpoint_WhenABetterEpochIsOffered_ThenTheCheckpointsArraysAreLeftAlone()
    {
        var model = LstmAdder(2, 2);
        var best = new BestModel<float>(model);
        var loaded = model.ParameterList.Select(p => new float[p.Length]).ToArray();
        best.Load(new EpochSummary(0, 1.0, TimeSpan.Zero), loaded);
        Assert.True(best.Offer(new EpochSummary(1, 0.5, TimeSpan.Zero)));
        Assert.All(loaded, values => Assert.All(values, v => Assert.Equal(0f, v)));
        Assert.Equal(model.ParameterList.SelectMany(p => p.Value.Span.ToArray()), best.Values!.SelectMany(v => v));
    }

    private static void TensorScale(Span<float> values, float factor)
    {
        for (int i = 0; i < values.Length; i++) values[i] *= factor;
    }

    private sealed class EpochEndProbe(Action probe) : ITrainingCallback
    {
        public void OnEpochEnd(EpochSummary summary, TrainingControl control) => probe();
    }
}
