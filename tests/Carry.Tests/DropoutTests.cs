using Carry.Layers;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>Inverted dropout: expectation kept, identity outside training, masks fixed by the seed, backward through the same mask.</summary>
public sealed class DropoutTests
{
    private const int Count = 200_000;

    /// <summary>
    /// out_i = x_i m_i with m_i = 0 (probability p) or 1/(1-p), so E[m] = 1 and Var[m] = p/(1-p):
    /// mean(out) - mean(x) has mean 0 and standard deviation σ = √(Σ x_i² · p/(1-p)) / N. The test
    /// allows 5σ (a two-sided miss once in 1.7 million seeds; this seed is fixed).
    /// </summary>
    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void GivenManyElements_WhenDroppedOutInTraining_ThenTheMeanIsKeptWithinFiveSigma(double rate)
    {
        var x = Input(1);
        var dropout = new Dropout<double>(rate, seed: 17);
        var y = dropout.Forward(x, training: true);

        double sumX = 0, sumY = 0, sumX2 = 0;
        int dropped = 0;
        for (int i = 0; i < Count; i++)
        {
            sumX += x.Span[i];
            sumY += y.Span[i];
            sumX2 += x.Span[i] * x.Span[i];
            if (y.Span[i] == 0) dropped++;
            else AssertNear(x.Span[i] / (1 - rate), y.Span[i]); // survivors scaled by 1/(1-p)
        }
        double sigma = Math.Sqrt(sumX2 * rate / (1 - rate)) / Count;
        double diff = (sumY - sumX) / Count;
        Assert.True(Math.Abs(diff) < 5 * sigma, $"mean moved by {diff:E3}, more than 5σ = {5 * sigma:E3}");

        // The dropped fraction is Binomial(N, p)/N: standard deviation √(p(1-p)/N).
        double fraction = (double)dropped / Count;
        double fractionSigma = Math.Sqrt(rate * (1 - rate) / Count);
        Assert.True(Math.Abs(fraction - rate) < 5 * fractionSigma, $"dropped {fraction:F4}, expected {rate} ± {5 * fractionSigma:F4}");
    }

    [Fact]
    public void GivenTrainingFalse_WhenForwardAndBackward_ThenBothAreTheIdentity()
    {
        var x = Input(2);
        var dropout = new Dropout<double>(0.5, seed: 3);
        var y = dropout.Forward(x, training: false);
        Assert.Equal(x.Span.ToArray(), y.Span.ToArray());
        var dOut = Input(4);
        Assert.Equal(dOut.Span.ToArray(), dropout.Backward(dOut).Span.ToArray());
    }

    [Fact]
    public void GivenRateZero_WhenTraining_ThenTheOutputIsTheInput()
    {
        var x = Input(5);
        Assert.Equal(x.Span.ToArray(), new Dropout<double>(0.0, seed: 1).Forward(x, training: true).Span.ToArray());
    }

    [Fact]
    public void GivenTheSameSeed_WhenTwoLayersDropTheSameInput_ThenTheirMasksAreEqualPassAfterPass()
    {
        var x = Input(6);
        var a = new Dropout<double>(0.3, seed: 42);
        var b = new Dropout<double>(0.3, seed: 42);
        for (int pass = 0; pass < 3; pass++)
        {
            Assert.Equal(a.Forward(x, training: true).Span.ToArray(), b.Forward(x, training: true).Span.ToArray());
        }
    }

    [Fact]
    public void GivenDifferentSeedsOrPasses_WhenDropping_ThenTheMasksDiffer()
    {
        var x = Input(7);
        var a = new Dropout<double>(0.3, seed: 42);
        var b = new Dropout<double>(0.3, seed: 43);
        double[] first = a.Forward(x, training: true).Span.ToArray();
        double[] other = b.Forward(x, training: true).Span.ToArray();
        double[] second = a.Forward(x, training: true).Span.ToArray();
        // Two independent masks disagree at a fraction 2p(1-p) = 0.42 of the elements.
        Assert.True(Differences(first, other) > Count / 3, "different seeds gave (nearly) the same mask");
        Assert.True(Differences(first, second) > Count / 3, "a second pass repeated the first mask");
    }

    [Fact]
    public void GivenATrainingForward_WhenBackward_ThenTheGradientGoesThroughTheSameMask()
    {
        const double rate = 0.4;
        var x = Input(8);
        var dropout = new Dropout<double>(rate, seed: 11);
        double[] y = dropout.Forward(x, training: true).Span.ToArray();
        var dOut = Input(9);
        var dInput = dropout.Backward(dOut).Span;
        double scale = 1 / (1 - rate);
        int kept = 0;
        for (int i = 0; i < Count; i++)
        {
            // x is never 0, so y_i = 0 exactly where the mask dropped element i.
            double expected = y[i] == 0 ? 0 : dOut.Span[i] * scale;
            AssertNear(expected, dInput[i]);
            if (y[i] != 0) kept++;
        }
        Assert.InRange(kept, 1, Count - 1);
    }

    [Fact]
    public void GivenAFloatLayer_WhenDroppingOut_ThenSurvivorsAreScaledAndTheRestZero()
    {
        var x = new Tensor<float>(4, 1000);
        x.Fill(2f);
        var y = new Dropout<float>(0.25, seed: 5).Forward(x, training: true);
        foreach (float v in y.Span)
        {
            if (v != 0f && Math.Abs(v - (2f / 0.75f)) >= 1e-6f) Assert.Fail($"unexpected value {v}");
        }
    }

    /// <summary>Values in ±[0.5, 1.5], never zero.</summary>
    private static Tensor<double> Input(ulong seed)
    {
        var rng = new RandomGenerator(seed);
        var t = new Tensor<double>(Count / 100, 10, 10);
        for (int i = 0; i < t.Length; i++) t.Span[i] = (0.5 + rng.NextDouble()) * (rng.NextDouble() < 0.5 ? -1 : 1);
        return t;
    }

    private static void AssertNear(double expected, double actual)
    {
        if (!(Math.Abs(expected - actual) <= 1e-14 * Math.Abs(expected))) Assert.Fail($"expected {expected:R}, got {actual:R}");
    }

    private static int Differences(double[] a, double[] b)
    {
        int n = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) n++;
        return n;
    }
}
