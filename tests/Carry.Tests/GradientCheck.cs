using Carry.Layers;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// Central-difference gradient checks in double: for a scalar loss L(θ), compares the analytic
/// gradient with (L(θ+h) - L(θ-h)) / 2h, using the relative error
/// |a - n| / max(|a| + |n|, 1e-8) as in cs231n / min-char-rnn.
/// </summary>
public static class GradientCheck
{
    public const double Step = 1e-5;
    public const double Tolerance = 1e-6;

    /// <summary>Checks every element of <paramref name="values"/> against the analytic <paramref name="analytic"/>.</summary>
    public static void Verify(Span<double> values, ReadOnlySpan<double> analytic, Func<double> loss, string what)
    {
        Assert.Equal(values.Length, analytic.Length);
        double worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < values.Length; i++)
        {
            double saved = values[i];
            values[i] = saved + Step;
            double plus = loss();
            values[i] = saved - Step;
            double minus = loss();
            values[i] = saved;
            double numeric = (plus - minus) / (2 * Step);
            double a = analytic[i];
            double err = Math.Abs(a - numeric) / Math.Max(Math.Abs(a) + Math.Abs(numeric), 1e-8);
            if (err > worst)
            {
                worst = err;
                worstIndex = i;
            }
        }
        Assert.True(worst < Tolerance, $"{what}: worst relative error {worst:E2} at element {worstIndex}");
    }

    /// <summary>Deterministic pseudo-random values in [-scale, scale].</summary>
    public static Tensor<double> Random(ulong seed, double scale, params int[] shape)
    {
        var rng = new RandomGenerator(seed);
        var t = new Tensor<double>(shape);
        for (int i = 0; i < t.Length; i++) t.Span[i] = ((rng.NextDouble() * 2) - 1) * scale;
        return t;
    }

    /// <summary>
    /// Checks a layer: loss = Σ output ⊙ weights (a fixed random projection), through
    /// <c>Forward</c>/<c>Backward</c>, for every parameter and the input.
    /// </summary>
    public static void Layer(Layer<double> layer, Tensor<double> input, ulong seed = 7)
    {
        var output = layer.Forward(input, training: false);
        var projection = Random(seed, 1.0, output.Shape.ToArray());
        double Loss()
        {
            var y = layer.Forward(input, training: false);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += y.Span[i] * projection.Span[i];
            return s;
        }
        foreach (var p in layer.Parameters) p.Gradient.Fill(0);
        layer.Forward(input, training: false);
        var dInput = layer.Backward(projection).Clone();
        foreach (var p in layer.Parameters)
        {
            var analytic = p.Gradient.Clone();
            Verify(p.Value.Span, analytic.Span, Loss, p.Name);
        }
        Verify(input.Span, dInput.Span, Loss, "input");
    }
}
