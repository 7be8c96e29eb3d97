using System.Numerics;

namespace Carry.Analysis;

/// <summary>
/// States of many samples at every step, projected onto their first principal components:
/// <c>Points [B·T, K]</c>, row <c>b·T + t</c> for sample b at step t.
/// </summary>
/// <param name="Points">Coordinates along the components <c>[B·T, K]</c>.</param>
/// <param name="Samples">B.</param>
/// <param name="Steps">T.</param>
/// <param name="Pca">The fit, for the explained variance and to project other states alike.</param>
public sealed record ProjectedStates(double[,] Points, int Samples, int Steps, Pca Pca)
{
    /// <summary>Row of sample <paramref name="sample"/> at step <paramref name="step"/> in <see cref="Points"/>.</summary>
    public int Row(int sample, int step) => (sample * Steps) + step;

    /// <summary>
    /// Projects every step of every sample of <paramref name="quantity"/> onto its first
    /// <paramref name="components"/> principal components (default 2), fitted on those states.
    /// </summary>
    public static ProjectedStates Of(TracedQuantity quantity, int components = 2)
    {
        ArgumentNullException.ThrowIfNull(quantity);
        var v = quantity.Values;
        int samples = v.Dim(0), steps = v.Dim(1), width = v.Dim(2);
        var rows = new double[samples * steps, width];
        for (int r = 0; r < samples * steps; r++)
        {
            for (int u = 0; u < width; u++) rows[r, u] = v.Span[(r * width) + u];
        }
        var pca = Pca.Fit(rows, Math.Min(components, width));
        return new ProjectedStates(pca.Project(rows), samples, steps, pca);
    }
}

/// <summary>The carries of binary addition, the quantity an adder must hold between steps.</summary>
public static class Carries
{
    /// <summary>
    /// The carry into each bit position of <c>a + b</c>, least significant first, positions 0 to
    /// <paramref name="positions"/>-1: <c>c_0 = 0</c>, <c>c_(k+1) = (a_k + b_k + c_k) ≥ 2</c>.
    /// </summary>
    public static int[] Into(BigInteger a, BigInteger b, int positions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(a);
        ArgumentOutOfRangeException.ThrowIfNegative(b);
        ArgumentOutOfRangeException.ThrowIfNegative(positions);
        var carries = new int[positions];
        int carry = 0;
        for (int k = 0; k < positions; k++)
        {
            carries[k] = carry;
            int sum = (int)((a >> k) & 1) + (int)((b >> k) & 1) + carry;
            carry = sum >> 1;
        }
        return carries;
    }
}
