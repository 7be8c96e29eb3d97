using System.Numerics;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// <see cref="Gemm.Multiply{T}"/> held to <see cref="Gemm.Reference{T}"/> for every transpose
/// combination over many shapes (odd sizes, 1×N, N×1, k = 1, k = 0) with leading dimensions
/// wider than the matrices. Sources are exactly as long as their last row needs, and their
/// padding is NaN, so reading past a row or beyond the span shows. Float within 1e-4, double
/// within 1e-12 (relative to max(1, |reference|)).
/// </summary>
public sealed class GemmTests
{
    private static readonly int[] Sizes = [1, 2, 3, 5, 8, 13, 17, 33];
    private static readonly int[] Depths = [0, 1, 2, 3, 8, 17, 64];

    public static TheoryData<bool, bool> TransposeCombinations => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    [Theory]
    [MemberData(nameof(TransposeCombinations))]
    public void GivenManySmallShapes_WhenMultiplyingInDouble_ThenTheResultMatchesTheReference(bool transA, bool transB)
    {
        int cases = 0;
        foreach (int m in Sizes)
        {
            foreach (int n in Sizes)
            {
                foreach (int k in Depths)
                {
                    int pad = (m + n + k) % 3 == 0 ? 0 : 3; // tight and padded leading dimensions
                    Compare<double>(transA, transB, m, n, k, pad, accumulate: (m + k) % 2 == 0, seed: (ulong)cases, 1e-12);
                    cases++;
                }
            }
        }
        Assert.Equal(Sizes.Length * Sizes.Length * Depths.Length, cases);
    }

    [Theory]
    [MemberData(nameof(TransposeCombinations))]
    public void GivenManySmallShapes_WhenMultiplyingInFloat_ThenTheResultMatchesTheReference(bool transA, bool transB)
    {
        int cases = 0;
        foreach (int m in Sizes)
        {
            foreach (int n in Sizes)
            {
                foreach (int k in Depths)
                {
                    int pad = (m + n + k) % 3 == 0 ? 5 : 0;
                    Compare<float>(transA, transB, m, n, k, pad, accumulate: (n + k) % 2 == 1, seed: (ulong)cases + 1000, 1e-4);
                    cases++;
                }
            }
        }
        Assert.Equal(Sizes.Length * Sizes.Length * Depths.Length, cases);
    }

    [Theory]
    [InlineData(1, 1000, 300)]
    [InlineData(1000, 1, 300)]
    [InlineData(97, 97, 97)]
    [InlineData(67, 129, 257)]
    [InlineData(128, 512, 64)]
    [InlineData(300, 40, 520)]
    [InlineData(31, 1024, 1)]
    [InlineData(255, 255, 2)]
    public void GivenLargerOddShapes_WhenMultiplyingEitherPrecision_ThenTheResultMatchesTheReference(int m, int n, int k)
    {
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            Compare<float>(ta, tb, m, n, k, pad: 7, accumulate: false, seed: 1, 1e-4);
            Compare<float>(ta, tb, m, n, k, pad: 0, accumulate: true, seed: 2, 1e-4);
            Compare<double>(ta, tb, m, n, k, pad: 1, accumulate: true, seed: 3, 1e-12);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GivenKZero_WhenMultiplying_ThenCIsZeroedOrLeftAsItWas(bool accumulate)
    {
        const int m = 3, n = 4, ldc = 6;
        double[] c = Enumerable.Range(1, ((m - 1) * ldc) + n).Select(i => (double)i).ToArray();
        double[] before = (double[])c.Clone();
        Gemm.Multiply<double>(false, false, m, n, 0, [], 0, [], n, c, ldc, accumulate);
        for (int i = 0; i < c.Length; i++)
        {
            bool inside = i % ldc < n;
            Assert.Equal(inside && !accumulate ? 0.0 : before[i], c[i]);
        }
    }

    [Fact]
    public void GivenAnEmptyOutput_WhenMultiplying_ThenNothingIsTouched()
    {
        double[] c = [42.0];
        Gemm.Multiply<double>(false, false, 0, 5, 3, [], 3, new double[15], 5, [], 5, accumulate: false);
        Gemm.Multiply<double>(false, false, 4, 0, 3, new double[12], 3, [], 0, c, 0, accumulate: false);
        Assert.Equal(42.0, c[0]);
    }

    /// <summary>
    /// Runs both kernels on the same operands. A is <c>[m, k]</c> (<c>[k, m]</c> transposed) with
    /// leading dimension width + pad, B likewise, C <c>[m, n]</c> with ldc = n + pad pre-filled
    /// with random values (read when accumulating); C's padding must come back untouched.
    /// </summary>
    private static void Compare<T>(bool transA, bool transB, int m, int n, int k, int pad, bool accumulate, ulong seed, double tol)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new RandomGenerator(seed);
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        T[] a = Matrix<T>(aRows, aCols, lda, rng);
        T[] b = Matrix<T>(bRows, bCols, ldb, rng);
        T[] c0 = new T[m == 0 || n == 0 ? 0 : ((m - 1) * ldc) + n];
        for (int i = 0; i < c0.Length; i++) c0[i] = T.CreateChecked((rng.NextDouble() * 2) - 1);
        T[] expected = (T[])c0.Clone();
        T[] actual = (T[])c0.Clone();
        Gemm.Reference<T>(transA, transB, m, n, k, a, Math.Max(lda, 1), b, Math.Max(ldb, 1), expected, ldc, accumulate);
        Gemm.Multiply<T>(transA, transB, m, n, k, a, Math.Max(lda, 1), b, Math.Max(ldb, 1), actual, ldc, accumulate);
        string what = $"C ({(transA ? "Aᵀ" : "A")}·{(transB ? "Bᵀ" : "B")}, m={m} n={n} k={k} pad={pad} accumulate={accumulate}, {typeof(T).Name})";
        Close.All<T>(expected, actual, tol, what);
        for (int i = 0; i < actual.Length; i++)
        {
            if (i % ldc >= n && actual[i] != c0[i]) Assert.Fail($"{what}: padding element {i} changed");
        }
    }

    /// <summary>A <c>[rows, cols]</c> matrix with leading dimension ld: random values, NaN in the padding, exactly as long as needed.</summary>
    private static T[] Matrix<T>(int rows, int cols, int ld, RandomGenerator rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0 || cols == 0) return [];
        var values = new T[((rows - 1) * ld) + cols];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = i % ld < cols ? T.CreateChecked((rng.NextDouble() * 2) - 1) : T.NaN;
        }
        return values;
    }
}
