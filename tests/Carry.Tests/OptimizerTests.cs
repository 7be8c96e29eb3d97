using Carry.Layers;
using Carry.Numerics;
using Carry.Optimizers;

namespace Carry.Tests;

/// <summary>Optimizer state round trips (what checkpoints rely on) and gradient clipping as PyTorch defines it.</summary>
public sealed class OptimizerTests
{
    [Theory]
    [InlineData("sgd")]
    [InlineData("momentum")]
    [InlineData("nesterov")]
    [InlineData("adagrad")]
    [InlineData("rmsprop")]
    [InlineData("adam")]
    public void GivenAnOptimizersState_WhenRestoredIntoAFreshOptimizer_ThenTheRemainingStepsAreBitForBitTheSame(string name)
    {
        var original = Optimizer<double>.Create(name, 0.05);
        var parameters = Parameters();
        for (int s = 0; s < 3; s++) Step(original, parameters, s);

        var copy = Parameters();
        for (int i = 0; i < copy.Length; i++) parameters[i].Value.Span.CopyTo(copy[i].Value.Span);
        var resumed = Optimizer<double>.Create(name, 0.05);
        var state = original.GetState().ToDictionary(kv => kv.Key, kv => (double[])kv.Value.Clone());
        resumed.SetState(copy, state, original.StepCount);

        for (int s = 3; s < 6; s++)
        {
            Step(original, parameters, s);
            Step(resumed, copy, s);
        }
        for (int i = 0; i < copy.Length; i++) Assert.Equal(parameters[i].Value.Span.ToArray(), copy[i].Value.Span.ToArray());
    }

    [Fact]
    public void GivenStateOfTheWrongSize_WhenRestoring_ThenItNamesState()
    {
        var adam = new Adam<double>();
        var parameters = Parameters();
        Step(adam, parameters, 0);
        var state = adam.GetState().ToDictionary(kv => kv.Key, kv => kv.Value[..1]);
        var e = Assert.ThrowsAny<ArgumentException>(() => new Adam<double>().SetState(parameters, state, 1));
        Assert.Equal("state", e.ParamName);
    }

    [Fact]
    public void GivenGradients_WhenClippedByValue_ThenEachElementIsClampedAndTheRestKept()
    {
        var p = new Parameter<double>("w", 4);
        new[] { -3.0, -0.5, 0.25, 7.0 }.CopyTo(p.Gradient.Data, 0);
        GradientClipping.ByValue([p], 1.0);
        Assert.Equal(new[] { -1.0, -0.5, 0.25, 1.0 }, p.Gradient.Data);
    }

    [Fact]
    public void GivenGradientsAboveTheNorm_WhenClippedByGlobalNorm_ThenTheyAreScaledAsClipGradNormDoes()
    {
        var a = new Parameter<double>("a", 2);
        var b = new Parameter<double>("b", 1);
        new[] { 3.0, 0.0 }.CopyTo(a.Gradient.Data, 0);
        b.Gradient.Data[0] = 4.0; // global norm 5
        double norm = GradientClipping.ByGlobalNorm([a, b], 1.0);
        Assert.Equal(5.0, norm, 12);
        double coef = 1.0 / (5.0 + 1e-6); // torch.nn.utils.clip_grad_norm_: max_norm / (total_norm + 1e-6)
        Assert.Equal(3.0 * coef, a.Gradient.Data[0], 15);
        Assert.Equal(4.0 * coef, b.Gradient.Data[0], 15);

        new[] { 0.3, 0.0 }.CopyTo(a.Gradient.Data, 0);
        b.Gradient.Data[0] = 0.4;
        Assert.Equal(0.5, GradientClipping.ByGlobalNorm([a, b], 1.0), 12);
        Assert.Equal(new[] { 0.3, 0.0 }, a.Gradient.Data); // under the limit: untouched
    }

    private static Parameter<double>[] Parameters()
    {
        var w = new Parameter<double>("w", 3, 2);
        var b = new Parameter<double>("b", 3);
        GradientCheck.Random(1, 1.0, 3, 2).Span.CopyTo(w.Value.Span);
        GradientCheck.Random(2, 1.0, 3).Span.CopyTo(b.Value.Span);
        return [w, b];
    }

    /// <summary>Sets step-dependent gradients and steps.</summary>
    private static void Step(Optimizer<double> optimizer, Parameter<double>[] parameters, int step)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            GradientCheck.Random((ulong)(100 + (10 * step) + i), 1.0, parameters[i].Value.Shape.ToArray()).Span.CopyTo(parameters[i].Gradient.Span);
        }
        optimizer.Step(parameters);
    }
}
