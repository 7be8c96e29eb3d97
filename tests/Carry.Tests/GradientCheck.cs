using Carry.Layers;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// Central-difference gradient checks in double. For a scalar loss L(θ) the numeric derivative
/// is the fourth-order central stencil
/// <c>n = (8 (L(θ+h) - L(θ-h)) - (L(θ+2h) - L(θ-2h))) / 12h</c>, and the relative error
/// <c>|a - n| / max(|a| + |n|, floor)</c> (cs231n / min-char-rnn) must stay under 1e-6.
/// </summary>
/// <remarks>
/// Why not the plain <c>(L(θ+h) - L(θ-h)) / 2h</c> with a fixed floor of 1e-8: measured on these
/// tiny recurrent nets it has two errors that belong to the stencil, not to the layer. Its
/// truncation error <c>h² L'''/6</c> reached 1e-9 (relative 2e-5) on a bias whose gradient was
/// 5e-5, while the fourth-order stencil agreed with the analytic value to 4e-8; and its rounding
/// error <c>ε |L| / h</c> (about 1e-11 with h = 1e-5) exceeds 1e-6 of the 1e-8-sized gradients
/// that reach the first steps of a sigmoid Jordan net, whose analytic values agreed to 1e-6 with
/// h = 1e-2. So the floor is the stencil's own rounding error (<see cref="NoiseFloor"/>):
/// components smaller than the smallest difference the stencil can resolve are held to that
/// absolute error (about 4e-11 for |L| ≤ 1), every larger one to the relative 1e-6.
/// </remarks>
public static class GradientCheck
{
    public const double Step = 1e-4;
    public const double Tolerance = 1e-6;

    /// <summary>
    /// The floor of the relative error's denominator: each loss is exact to a few ulps of
    /// max(|L|, 1), and the stencil multiplies that by (8 + 8 + 1 + 1) / 12h, so that
    /// <c>|a - n| &lt; Tolerance · floor</c> is the stencil's rounding error.
    /// </summary>
    public static double NoiseFloor(double lossScale) => 16 * (Math.BitIncrement(1.0) - 1.0) * Math.Max(1.0, lossScale) / Step / Tolerance;

    /// <summary>Checks every element of <paramref name="values"/> against the analytic <paramref name="analytic"/>.</summary>
    public static void Verify(Span<double> values, ReadOnlySpan<double> analytic, Func<double> loss, string what)
    {
        Assert.Equal(values.Length, analytic.Length);
        double worst = 0, worstAnalytic = 0, worstNumeric = 0;
        int worstIndex = -1;
        for (int i = 0; i < values.Length; i++)
        {
            double saved = values[i];
            values[i] = saved + Step;
            double plus = loss();
            values[i] = saved - Step;
            double minus = loss();
            values[i] = saved + (2 * Step);
            double plus2 = loss();
            values[i] = saved - (2 * Step);
            double minus2 = loss();
            values[i] = saved;
            double numeric = ((8 * (plus - minus)) - (plus2 - minus2)) / (12 * Step);
            double scale = Math.Max(Math.Max(Math.Abs(plus), Math.Abs(minus)), Math.Max(Math.Abs(plus2), Math.Abs(minus2)));
            double a = analytic[i];
            double err = Math.Abs(a - numeric) / Math.Max(Math.Abs(a) + Math.Abs(numeric), NoiseFloor(scale));
            if (err > worst)
            {
                worst = err;
                worstIndex = i;
                worstAnalytic = a;
                worstNumeric = numeric;
            }
        }
        Assert.True(worst < Tolerance, $"{what}: worst relative error {worst:E2} at element {worstIndex} (analytic {worstAnalytic:E6}, numeric {worstNumeric:E6})");
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
