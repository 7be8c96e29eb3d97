using System.Numerics;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Serialization;
using Xunit;

namespace Carry.Tests;

public sealed class AllPairsInferenceTests
{
    private static Sequential<T> Model<T>(ulong seed, params Layer<T>[] layers) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = new Sequential<T>(layers);
        model.Initialize(Initialization.Keras, seed);
        return model;
    }

    private static Sequential<T> LstmAdder<T>(int bits) where T : unmanaged, IFloatingPointIeee754<T> =>
        Model(3, new Lstm<T>(1, 8), new Dropout<T>(0.2, seed: 1), new Dense<T>(8, bits + 1, Activation.Sigmoid));

    /// <summary>The trie's outputs against the batched path on every pair; returns the largest difference.</summary>
    private static double MaxDifference<T>(Sequential<T> model, int bits, int chunkRows = AllPairsInference.DefaultChunkRows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var expected = model.Predict(ConcatEncoding.AllPairs<T>(bits).Inputs, batchSize: 16);
        var actual = AllPairsInference.Predict(model, bits, chunkRows);
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        double max = 0;
        T half = T.CreateChecked(0.5);
        for (int i = 0; i < expected.Length; i++)
        {
            max = Math.Max(max, Math.Abs(double.CreateChecked(expected.Span[i] - actual.Span[i])));
            Assert.Equal(expected.Span[i] >= half, actual.Span[i] >= half);
        }
        return max;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void GivenAnLstmAdderInDouble_WhenEveryPairIsPredictedOverTheTrie_ThenItMatchesThePredictPath(int bits)
    {
        var model = LstmAdder<double>(bits);
        Assert.True(AllPairsInference.Supports(model, bits));
        Assert.InRange(MaxDifference(model, bits), 0, 1e-12);
    }

    [Fact]
    public void GivenAnLstmAdderInFloat_WhenEveryPairIsPredictedOverTheTrie_ThenItMatchesThePredictPath() =>
        Assert.InRange(MaxDifference(LstmAdder<float>(3), 3), 0, 1e-5);

    [Theory]
    [InlineData(2)]   // one parent per block: depth-first from the first step
    [InlineData(6)]   // blocks of three parents: a partial block at every level with 4 or more nodes
    [InlineData(16)]
    public void GivenASmallChunk_WhenTheTrieIsWalkedDepthFirst_ThenTheOutputsAndTheirOrderAreUnchanged(int chunkRows) =>
        Assert.InRange(MaxDifference(LstmAdder<double>(3), 3, chunkRows), 0, 1e-12);

    [Fact]
    public void GivenAGruAdder_WhenEveryPairIsPredictedOverTheTrie_ThenItMatchesThePredictPath()
    {
        var model = Model<double>(5, new Gru<double>(1, 7), new Dense<double>(7, 4, Activation.Sigmoid));
        Assert.InRange(MaxDifference(model, 3, chunkRows: 8), 0, 1e-12);
        var single = Model<float>(5, new Gru<float>(1, 7), new Dense<float>(7, 4, Activation.Sigmoid));
        Assert.InRange(MaxDifference(single, 3, chunkRows: 8), 0, 1e-5);
    }

    [Fact]
    public void GivenAnLstmWithKerasHardSigmoidGates_WhenEveryPairIsPredictedOverTheTrie_ThenItMatchesThePredictPath()
    {
        // The walk runs the layer's own cell, so the gates' activation is the layer's, not the logistic σ.
        var model = Model<double>(4, new Lstm<double>(1, 6, recurrentActivation: Activation.HardSigmoid), new Dense<double>(6, 4, Activation.Sigmoid));
        Assert.InRange(MaxDifference(model, 3, chunkRows: 8), 0, 1e-12);
    }

    [Fact]
    public void GivenAnElmanAdder_WhenEveryPairIsPredictedOverTheTrie_ThenItMatchesThePredictPath()
    {
        var model = Model<double>(7, new SimpleRnn<double>(1, 6), new Dropout<double>(0.5), new Dense<double>(6, 5, Activation.Sigmoid));
        Assert.InRange(MaxDifference(model, 4, chunkRows: 32), 0, 1e-12);
    }

    [Fact]
    public void GivenAJordanAdder_WhenEveryPairIsPredictedOverTheTrie_ThenItMatchesThePredictPath()
    {
        var model = Model<double>(9, new Jordan<double>(1, 6, 3), new Dense<double>(3, 4, Activation.Sigmoid));
        Assert.InRange(MaxDifference(model, 3, chunkRows: 8), 0, 1e-12);
    }

    [Fact]
    public void GivenAStackOfRecurrentLayersWithADenseBetween_WhenEveryPairIsPredictedOverTheTrie_ThenItMatchesThePredictPath()
    {
        var model = Model<double>(11,
            new Lstm<double>(1, 5, returnSequences: true),
            new Dense<double>(5, 4, Activation.Tanh),
            new Gru<double>(4, 6),
            new Dropout<double>(0.2),
            new Dense<double>(6, 4, Activation.Sigmoid));
        Assert.True(AllPairsInference.Supports(model, 3));
        Assert.InRange(MaxDifference(model, 3, chunkRows: 8), 0, 1e-12);
        var single = Model<float>(11,
            new Lstm<float>(1, 5, returnSequences: true),
            new SimpleRnn<float>(5, 6),
            new Dense<float>(6, 4, Activation.Sigmoid));
        Assert.InRange(MaxDifference(single, 3), 0, 1e-5);
        var lstms = Model<double>(12, new Lstm<double>(1, 5, returnSequences: true), new Lstm<double>(5, 4), new Dense<double>(4, 5, Activation.Sigmoid));
        Assert.InRange(MaxDifference(lstms, 4, chunkRows: 64), 0, 1e-12);
    }

    [Fact]
    public void GivenABidirectionalModel_WhenEveryPairIsPredicted_ThenItFallsBackToThePredictPath()
    {
        var model = Model<double>(13, new Bidirectional<double>(new Lstm<double>(1, 4)), new Dense<double>(8, 4, Activation.Sigmoid));
        Assert.False(AllPairsInference.Supports(model, 3));
        var expected = model.Predict(ConcatEncoding.AllPairs<double>(3).Inputs);
        var actual = AllPairsInference.Predict(model, 3);
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        Assert.Equal(expected.Data, actual.Data);
    }

    [Fact]
    public void GivenModelsThatDoNotFitTheTrie_WhenAsked_ThenTheyAreNotSupported()
    {
        Assert.False(AllPairsInference.Supports(LstmAdder<double>(3), 4)); // output [4], not the 5 bits of a 4-bit sum
        Assert.False(AllPairsInference.Supports(Model<double>(1, new Lstm<double>(1, 4, reverse: true), new Dense<double>(4, 4)), 3));
        Assert.False(AllPairsInference.Supports(Model<double>(1, new Lstm<double>(2, 4), new Dense<double>(4, 4)), 3)); // aligned-shaped input
        Assert.False(AllPairsInference.Supports(LstmAdder<double>(11), 11)); // wider than all pairs are listed
    }

    [Fact]
    public void GivenAConcatModel_WhenAdditionEvaluatesEveryPair_ThenItScoresThePredictPathsOutputs()
    {
        const int bits = 3;
        var model = LstmAdder<double>(bits);
        var (inputs, targets) = ConcatEncoding.AllPairs<double>(bits);
        model.Compile(new MeanSquaredError<double>(), new Carry.Optimizers.Sgd<double>(0.1));
        var expected = model.Evaluate(inputs, targets);
        var result = Assert.Single(Addition.Evaluate(model, new TaskInfo(ConcatEncoding.Name, bits), [bits], samples: 10, seed: 0));
        Assert.True(result.AllPairs);
        Assert.Equal(64, result.Samples);
        Assert.Equal(expected.ExactMatch, result.Exact, 12);
        Assert.Equal(expected.BitAccuracy, result.BitAccuracy, 12);
    }

    [Fact]
    public void GivenACompiledConcatModel_WhenEvaluatedOverTheTrie_ThenLossAndAccuraciesMatchSequentialEvaluate()
    {
        const int bits = 3;
        var model = LstmAdder<double>(bits);
        model.Compile(new MeanSquaredError<double>(), new Carry.Optimizers.Sgd<double>(0.1));
        var (inputs, targets) = ConcatEncoding.AllPairs<double>(bits);
        var expected = model.Evaluate(inputs, targets);
        var actual = AllPairsInference.Evaluate(model, bits, targets);
        Assert.Equal(expected.Loss, actual.Loss, 12);
        Assert.Equal(expected.ExactMatch, actual.ExactMatch, 12);
        Assert.Equal(expected.BitAccuracy, actual.BitAccuracy, 12);
        Assert.Throws<ArgumentException>(() => AllPairsInference.Evaluate(model, bits, new Tensor<double>(64, 3)));
    }
}
