using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Tests;

/// <summary>The embedding layer: lookup, gradient accumulation into rows, bad indices, the file format.</summary>
public sealed class EmbeddingTests
{
    /// <summary>Indices [B=2, T=4, 1], with token 3 read three times and token 0 once.</summary>
    private static Tensor<double> Indices() => new([3, 0, 3, 1, 2, 3, 4, 1], 2, 4, 1);

    private static Embedding<double> Table(ulong seed = 5)
    {
        var layer = new Embedding<double>(5, 3);
        GradientCheck.Random(seed, 1.0, 5, 3).Span.CopyTo(layer.Weight.Value.Span);
        return layer;
    }

    [Fact]
    public void GivenIndices_WhenForwarding_ThenEachStepIsTheWeightRowItNames()
    {
        var layer = Table();
        var x = Indices();
        var y = layer.Forward(x, training: false);
        Assert.Equal([2, 4, 3], y.Shape.ToArray());
        for (int b = 0; b < 2; b++)
        {
            for (int t = 0; t < 4; t++)
            {
                int k = (int)x[b, t, 0];
                for (int d = 0; d < 3; d++) Assert.Equal(layer.Weight.Value[k, d], y[b, t, d]);
            }
        }
        Assert.Equal([7, 3], layer.OutputShape([7, 1]));
    }

    [Fact]
    public void GivenRepeatedTokens_WhenBackpropagating_ThenTheWeightGradientMatchesCentralDifferences()
    {
        var layer = Table();
        var x = Indices();
        var projection = GradientCheck.Random(9, 1.0, 2, 4, 3);
        double Loss()
        {
            var y = layer.Forward(x, training: false);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += y.Span[i] * projection.Span[i];
            return s;
        }
        layer.Weight.Gradient.Fill(0);
        layer.Forward(x, training: false);
        var dInput = layer.Backward(projection);
        Assert.Equal([2, 4, 1], dInput.Shape.ToArray());
        Assert.All(dInput.Data, v => Assert.Equal(0.0, v));
        var analytic = layer.Weight.Gradient.Clone();
        // Token 3 appears at (0,0), (0,2), (1,1): its row's gradient is the sum of those three rows of dOutput.
        for (int d = 0; d < 3; d++) Assert.Equal(projection[0, 0, d] + projection[0, 2, d] + projection[1, 1, d], analytic[3, d], 12);
        for (int d = 0; d < 3; d++) Assert.Equal(projection[0, 1, d], analytic[0, d], 12); // token 0 once
        GradientCheck.Verify(layer.Weight.Value.Span, analytic.Span, Loss, "weight");
    }

    [Fact]
    public void GivenAnEmbeddingUnderAnLstm_WhenBackpropagating_ThenEveryParameterGradientMatchesCentralDifferences()
    {
        var model = new Sequential<double>(new Embedding<double>(5, 3), new Lstm<double>(3, 2, returnSequences: true), new Dense<double>(2, 1));
        model.Initialize(Initialization.PyTorch, 3);
        var x = Indices();
        var target = GradientCheck.Random(4, 1.0, 2, 4, 1);
        var loss = new MeanSquaredError<double>();
        var dLoss = new Tensor<double>(2, 4, 1);
        double Loss() => loss.Value(model.Forward(x, training: false).Span, target.Span);
        model.ZeroGradients();
        loss.Compute(model.Forward(x, training: false).Span, target.Span, dLoss.Span);
        model.Backward(dLoss);
        foreach (var (name, p) in model.Parameters) GradientCheck.Verify(p.Value.Span, p.Gradient.Clone().Span, Loss, name);
    }

    [Theory]
    [InlineData(5.0, "5")]
    [InlineData(-1.0, "-1")]
    [InlineData(1.5, "1.5")]
    [InlineData(double.NaN, "NaN")]
    public void GivenAnIndexOutsideTheTable_WhenForwarding_ThenArgumentExceptionNamesThePositionAndValue(double bad, string shown)
    {
        var layer = Table();
        var x = Indices();
        x.Span[6] = bad; // sample 1, step 2
        var e = Assert.Throws<ArgumentException>(() => layer.Forward(x, training: false));
        Assert.Equal("input", e.ParamName);
        Assert.StartsWith($"input[1, 2, 0] = {shown} is not a token index: the embedding has indices 0 to 4.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenInputWithMoreThanOneFeature_WhenForwarding_ThenArgumentExceptionNamesTheShape()
    {
        var e = Assert.Throws<ArgumentException>(() => Table().Forward(new Tensor<double>(2, 4, 2), training: false));
        Assert.Contains("[batch, time, 1]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenAModelWithAnEmbedding_WhenSavedAndLoaded_ThenTheSpecWeightsAndOutputsComeBack()
    {
        var model = new Sequential<float>(new Embedding<float>(7, 4), new Gru<float>(4, 3));
        model.Initialize(Initialization.Keras, 11);
        var loaded = ModelFile.FromBytes<float>(ModelFile.ToBytes(model, new ModelMetadata()));
        Assert.Equal(new LayerSpec { Kind = LayerKinds.Embedding, InputSize = 7, Units = 4, Bias = false }, loaded.Layers[0]);
        Assert.Equal([7, 4], loaded.Model.Parameters[0].Parameter.Shape.ToArray());
        Assert.Equal("layers.0.weight", loaded.Model.Parameters[0].Name);
        var x = new Tensor<float>([6, 0, 2, 2, 1, 5], 2, 3, 1);
        Assert.Equal(model.Predict(x).Data, loaded.Model.Predict(x).Data);
    }
}
