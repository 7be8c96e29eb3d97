using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Tests;

/// <summary>The parameter-free layers Keras models bring: Activation (softmax included) and RepeatVector.</summary>
public sealed class KerasLayersTests
{
    [Theory]
    [InlineData("softmax")]
    [InlineData("tanh")]
    [InlineData("hard_sigmoid")]
    [InlineData("hard_sigmoid_v3")]
    public void GivenAnActivationLayer_WhenBackpropagating_ThenTheInputGradientMatchesCentralDifferences(string name)
    {
        GradientCheck.Layer(new ActivationLayer<double>(name), GradientCheck.Random(3, 2.0, 2, 3, 4));
    }

    [Fact]
    public void GivenLogits_WhenTakingTheSoftmax_ThenEachRowIsExpOverItsSumEvenForLargeLogits()
    {
        var x = new Tensor<double>([1, 2, 3, 1000, 1001, 1002], 2, 3);
        var y = new ActivationLayer<double>("softmax").Forward(x, training: false);
        double sum = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(Math.Exp(j + 1) / sum, y[0, j], 15);
            Assert.Equal(Math.Exp(j + 1) / sum, y[1, j], 15); // shifted by the max: no overflow at 1000
        }
    }

    [Fact]
    public void GivenARepeatVector_WhenForwardingAndBackpropagating_ThenEveryStepIsTheInputAndGradientsSum()
    {
        var layer = new RepeatVector<double>(3);
        var x = GradientCheck.Random(5, 1.0, 2, 4);
        var y = layer.Forward(x, training: false);
        Assert.Equal([2, 3, 4], y.Shape.ToArray());
        for (int t = 0; t < 3; t++) Assert.Equal(x[1, 2], y[1, t, 2]);
        GradientCheck.Layer(layer, x);
        Assert.Equal([3, 4], layer.OutputShape([4]));
    }

    [Fact]
    public void GivenAnEncoderDecoderWithTheseLayers_WhenSavedAndLoaded_ThenTheConfigRebuildsIt()
    {
        var model = new Sequential<float>(new Lstm<float>(2, 3), new RepeatVector<float>(4), new Lstm<float>(3, 3, returnSequences: true),
            new Dense<float>(3, 5), new ActivationLayer<float>("softmax"));
        model.Initialize(Initialization.Keras, 2);
        var loaded = ModelFile.FromBytes<float>(ModelFile.ToBytes(model, new ModelMetadata()));
        Assert.Equal(model.Layers.Select(l => l.Spec), loaded.Layers);
        var x = new Tensor<float>(Enumerable.Range(0, 12).Select(i => i / 10f).ToArray(), 2, 3, 2);
        Assert.Equal(model.Predict(x).Data, loaded.Model.Predict(x).Data);
        Assert.Throws<ArgumentException>(() => new ActivationLayer<float>("swish"));
    }
}
