using Carry.Arithmetic;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary><see cref="Sequential{T}.PredictSharingPrefixes"/> against <see cref="Sequential{T}.Predict"/>.</summary>
public sealed class PrefixSharingTests
{
    [Fact]
    public void GivenAllPairsOfFourBitNumbers_WhenPredictingWithSharedPrefixes_ThenEveryOutputIsBitIdenticalToPlainPredict()
    {
        var model = new Sequential<float>(new Lstm<float>(1, 32), new Dropout<float>(0.2, seed: 1), new Dense<float>(32, 5, Activation.Sigmoid));
        model.Initialize(Initialization.Keras, 7);
        var (x, _) = ConcatEncoding.AllPairs<float>(4); // [256, 8, 1]
        var expected = model.Predict(x, 1024);
        var actual = model.PredictSharingPrefixes(x, chunkSize: 64); // 64 rows keep the dense layer on the packed kernel, as in Predict
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        Assert.True(expected.Span.SequenceEqual(actual.Span), "prefix-shared predictions differ from Predict");
    }

    [Fact]
    public void GivenDuplicatedSamplesAndAGru_WhenPredictingWithSharedPrefixes_ThenDuplicatesGetTheSameRowsAsPredict()
    {
        var model = new Sequential<double>(new Gru<double>(2, 40), new Dense<double>(40, 3));
        model.Initialize(Initialization.PyTorch, 3);
        var random = new RandomGenerator(5);
        var x = new Tensor<double>(40, 6, 2);
        for (int s = 0; s < 40; s++)
        {
            for (int i = 0; i < 12; i++) x.Span[(s * 12) + i] = s % 7 == 0 ? x.Span[i] : random.NextInt(2);
        }
        var expected = model.Predict(x, 1024);
        var actual = model.PredictSharingPrefixes(x);
        Assert.True(expected.Span.SequenceEqual(actual.Span), "prefix-shared predictions differ from Predict");
    }

    [Fact]
    public void GivenAModelWhoseFirstLayerIsNotRecurrent_WhenPredictingWithSharedPrefixes_ThenItFallsBackToPredict()
    {
        var model = new Sequential<double>(new Dense<double>(2, 3));
        model.Initialize(Initialization.PyTorch, 1);
        var x = new Tensor<double>(4, 5, 2);
        x.Fill(0.5);
        Assert.True(model.Predict(x).Span.SequenceEqual(model.PredictSharingPrefixes(x).Span));
    }
}
