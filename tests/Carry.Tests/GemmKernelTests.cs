using System.Numerics;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// The fast matrix product (<see cref="Gemm.Multiply{T}(bool, bool, int, int, int, ReadOnlySpan{T}, int, ReadOnlySpan{T}, int, Span{T}, int, bool)"/>)
/// held to <see cref="Gemm.Reference{T}"/> over every transpose combination and shapes chosen to
/// hit each edge of the blocking: 1×N, N×1, K = 1, odd sizes, sizes straddling the 6-row and
/// 16/8-column micro-tiles, the 144/72-row and 256-deep blocks and the 2048/1024-column block,
/// and leading dimensions wider than the matrix.
/// </summary>
public sealed class GemmKernelTests
{
    // (m, n, k): the numpy experiment's tiny products, micro-tile and block edges, the LSTM step shapes scaled down.
    public static readonly TheoryData<int, int, int> Shapes = new()
    {
        { 1, 1, 1 }, { 1, 16, 2 }, { 1, 16, 16 }, { 16, 1, 16 }, { 1, 37, 5 }, { 37, 1, 5 }, { 7, 9, 1 },
        { 6, 16, 256 }, { 7, 17, 257 }, { 5, 15, 255 }, { 12, 32, 1 }, { 13, 33, 513 }, { 150, 20, 300 },
        { 73, 9, 40 }, { 145, 2049, 3 }, { 3, 1025, 7 }, { 128, 64, 1 }, { 64, 64, 64 }, { 31, 130, 17 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GivenAnyShapeAndTranspose_WhenMultiplyingFloats_ThenTheResultMatchesTheReferenceWithinRoundingOfK(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                foreach (bool accumulate in new[] { false, true })
                {
                    CompareWithReference<float>(m, n, k, transA, transB, accumulate, padding: 3);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GivenAnyShapeAndTranspose_WhenMultiplyingDoubles_ThenTheResultMatchesTheReferenceWithinRoundingOfK(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                foreach (bool accumulate in new[] { false, true })
                {
                    CompareWithReference<double>(m, n, k, transA, transB, accumulate, padding: 1);
                }
            }
        }
    }

    [Theory]
    [InlineData(128, 1024, 256, false, true)]   // LSTM(256) forward step: h · W_hhᵀ
    [InlineData(128, 256, 1024, false, false)]  // backward step: dGates · W_hh
    [InlineData(1024, 256, 520, true, false)]   // weight gradient (k = B·T, shortened)
    [InlineData(2048, 1024, 1, false, true)]    // input projection, K = 1
    [InlineData(131, 517, 300, true, true)]
    public void GivenOneTwoOrThreeThreads_WhenMultiplying_ThenTheResultsAreBitIdentical(int m, int n, int k, bool transA, bool transB)
    {
        var (a, lda, b, ldb) = Operands<float>(m, n, k, transA, transB, 0, seed: 11);
        var c0 = Random<float>(m * n, seed: 12);
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var context = new ComputeContext(threads);
            foreach (bool accumulate in new[] { false, true })
            {
                var c = (float[])c0.Clone();
                Gemm.Multiply(context, transA, transB, m, n, k, a, lda, b, ldb, c, n, accumulate);
                if (!accumulate)
                {
                    if (first is null) first = c;
                    else Assert.True(first.AsSpan().SequenceEqual(c), $"{threads} threads differ from 1 thread at [{m}, {n}, {k}]");
                }
            }
        }
        var (ad, ldad, bd, ldbd) = Operands<double>(m, n, k, transA, transB, 0, seed: 13);
        double[]? firstD = null;
        foreach (int threads in new[] { 1, 2 })
        {
            using var context = new ComputeContext(threads);
            var c = new double[m * n];
            Gemm.Multiply(context, transA, transB, m, n, k, ad, ldad, bd, ldbd, c, n, accumulate: false);
            if (firstD is null) firstD = c;
            else Assert.True(firstD.AsSpan().SequenceEqual(c), $"double: {threads} threads differ from 1 thread at [{m}, {n}, {k}]");
        }
    }

    [Theory]
    [InlineData(128, 1024, 256, true)]
    [InlineData(128, 256, 1024, false)]
    [InlineData(37, 70, 300, true)]
    [InlineData(7, 9, 600, false)]
    public void GivenAPrePackedRightOperand_WhenMultiplying_ThenTheResultIsBitIdenticalToPackingOnTheFly(int m, int n, int k, bool transB)
    {
        var (a, lda, b, ldb) = Operands<float>(m, n, k, false, transB, 2, seed: 21);
        var packed = new PackedMatrix<float>();
        packed.Pack(transB, k, n, b, ldb);
        foreach (int threads in new[] { 1, 2 })
        {
            using var context = new ComputeContext(threads);
            var expected = Random<float>(m * n, seed: 3);
            var actual = (float[])expected.Clone();
            Gemm.Multiply(context, false, transB, m, n, k, a, lda, b, ldb, expected, n, accumulate: true);
            Gemm.Multiply(context, false, transB, m, n, k, a, lda, b, ldb, actual, n, accumulate: true, packed);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"pre-packed B differs at [{m}, {n}, {k}] with {threads} threads");
        }
        var reference = new float[m * n];
        var fast = new float[m * n];
        Gemm.Reference(false, transB, m, n, k, a, lda, b, ldb, reference, n, accumulate: false);
        Gemm.Multiply(ComputeContext.Default, false, transB, m, n, k, a, lda, b, ldb, fast, n, accumulate: false, packed);
        Close.All<float>(reference, fast, 1e-4 * Math.Sqrt(k), "pre-packed product");
    }

    [Fact]
    public void GivenOneContextSharedByManyThreads_WhenMultiplyingConcurrently_ThenEveryResultIsCorrect()
    {
        const int m = 64, n = 96, k = 200;
        var (a, lda, b, ldb) = Operands<float>(m, n, k, false, true, 0, seed: 5);
        var expected = new float[m * n];
        Gemm.Reference(false, true, m, n, k, a, lda, b, ldb, expected, n, accumulate: false);
        using var context = new ComputeContext(2);
        var results = new float[4][];
        Parallel.For(0, 4, i =>
        {
            var c = new float[m * n];
            for (int rep = 0; rep < 20; rep++) Gemm.Multiply(context, false, true, m, n, k, a, lda, b, ldb, c, n, accumulate: false);
            results[i] = c;
        });
        foreach (var c in results) Close.All<float>(expected, c, 1e-4, "concurrent product");
    }

    private static void CompareWithReference<T>(int m, int n, int k, bool transA, bool transB, bool accumulate, int padding)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (a, lda, b, ldb) = Operands<T>(m, n, k, transA, transB, padding, seed: (ulong)((m * 7919) + (n * 31) + k));
        int ldc = n + padding;
        var c0 = Random<T>(((m - 1) * ldc) + n, seed: 99);
        var expected = (T[])c0.Clone();
        var actual = (T[])c0.Clone();
        Gemm.Reference(transA, transB, m, n, k, a, lda, b, ldb, expected, ldc, accumulate);
        Gemm.Multiply(transA, transB, m, n, k, a, lda, b, ldb, actual, ldc, accumulate);
        // Both are sums of the same k products (+ C) in different orders and with or without fused
        // rounding; each ordering is within k·u·Σ|terms| of the exact sum (u the unit roundoff).
        double u = typeof(T) == typeof(float) ? Math.Pow(2, -24) : Math.Pow(2, -53);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double magnitude = accumulate ? Math.Abs(double.CreateChecked(c0[(i * ldc) + j])) : 0;
                for (int p = 0; p < k; p++)
                {
                    double av = double.CreateChecked(transA ? a[(p * lda) + i] : a[(i * lda) + p]);
                    double bv = double.CreateChecked(transB ? b[(j * ldb) + p] : b[(p * ldb) + j]);
                    magnitude += Math.Abs(av * bv);
                }
                double e = double.CreateChecked(expected[(i * ldc) + j]), got = double.CreateChecked(actual[(i * ldc) + j]);
                double bound = 2 * (k + 1) * u * magnitude;
                Assert.True(Math.Abs(got - e) <= bound,
                    $"{typeof(T).Name} transA={transA} transB={transB} accumulate={accumulate} [{m}, {n}, {k}] at ({i}, {j}): expected {e:R}, got {got:R}, bound {bound:E2}");
            }
        }
        // Padding between rows of C is never written.
        for (int i = 0; i < m - 1; i++)
        {
            for (int j = n; j < ldc; j++) Assert.Equal(c0[(i * ldc) + j], actual[(i * ldc) + j]);
        }
    }

    private static (T[] A, int Lda, T[] B, int Ldb) Operands<T>(int m, int n, int k, bool transA, bool transB, int padding, ulong seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + padding, ldb = bCols + padding;
        return (Random<T>(((aRows - 1) * lda) + aCols, seed), lda, Random<T>(((bRows - 1) * ldb) + bCols, seed + 1), ldb);
    }

    private static T[] Random<T>(int length, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new RandomGenerator(seed);
        var values = new T[length];
        for (int i = 0; i < length; i++) values[i] = T.CreateChecked((random.NextDouble() * 2.0) - 1.0);
        return values;
    }
}
