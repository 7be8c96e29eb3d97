using System.Numerics;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// The packed kernel (<see cref="GemmKernel"/>) on each of its paths, <see cref="GemmPath.Avx2"/>
/// (<c>Vector256</c>) and <see cref="GemmPath.Vector512"/>, called directly with the path chosen
/// explicitly, so every path runs on every machine (where the CPU lacks the width the runtime
/// emulates it, slowly, with the same FMA rounding) and no test here can pass on the portable
/// loop. Each is held to <see cref="Gemm.Reference{T}"/> over every transpose combination and
/// shapes that hit each edge of the blocking: 1×N, N×1, K = 1, odd sizes, sizes straddling the
/// 6- and 8-row and 16/32-column micro-tiles, the 144/72-row and 256-deep blocks and the
/// 2048/1024-column block, and leading dimensions wider than the matrix; the two paths are held to
/// each other bit for bit. Separate tests check that <see cref="Gemm.Multiply{T}(ComputeContext, bool, bool, int, int, int, ReadOnlySpan{T}, int, ReadOnlySpan{T}, int, Span{T}, int, bool)"/>
/// hands products above the direct-loop threshold to the kernel, and that the path chosen
/// automatically is the one the hardware supports.
/// </summary>
public sealed class GemmKernelTests
{
    /// <summary>The kernel paths, by name (the enum is internal to the library).</summary>
    public static readonly TheoryData<string> KernelPaths = new() { nameof(GemmPath.Avx2), nameof(GemmPath.Vector512) };

    // (m, n, k): the numpy experiment's tiny products, micro-tile and block edges, the LSTM step shapes scaled down.
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 16, 2), (1, 16, 16), (16, 1, 16), (1, 37, 5), (37, 1, 5), (7, 9, 1),
        (6, 16, 256), (7, 17, 257), (5, 15, 255), (12, 32, 1), (13, 33, 513), (150, 20, 300),
        (73, 9, 40), (20, 3, 12), (16, 2, 8), (145, 2049, 3), (3, 1025, 7), (128, 64, 1), (64, 64, 64), (31, 130, 17),
        (8, 32, 9), (9, 33, 3), (17, 65, 2),
    ];

    /// <summary>Every kernel path with every shape, by path name and shape index.</summary>
    public static TheoryData<string, int> PathsAndShapes()
    {
        var data = new TheoryData<string, int>();
        foreach (string path in new[] { nameof(GemmPath.Avx2), nameof(GemmPath.Vector512) })
        {
            for (int s = 0; s < Shapes.Length; s++) data.Add(path, s);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndShapes))]
    public void GivenAnyShapeAndTranspose_WhenTheKernelMultipliesFloats_ThenTheResultMatchesTheReferenceWithinRoundingOfK(string path, int shape)
    {
        var (m, n, k) = Shapes[shape];
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                foreach (bool accumulate in new[] { false, true })
                {
                    CompareWithReference<float>(Parse(path), m, n, k, transA, transB, accumulate, padding: 3);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndShapes))]
    public void GivenAnyShapeAndTranspose_WhenTheKernelMultipliesDoubles_ThenTheResultMatchesTheReferenceWithinRoundingOfK(string path, int shape)
    {
        var (m, n, k) = Shapes[shape];
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                foreach (bool accumulate in new[] { false, true })
                {
                    CompareWithReference<double>(Parse(path), m, n, k, transA, transB, accumulate, padding: 1);
                }
            }
        }
    }

    [Fact]
    public void GivenEveryShape_WhenBothKernelPathsMultiply_ThenTheyGiveTheSameBits()
    {
        // Both paths compute each element as one FMA chain over p in order, so the register width must not show.
        foreach (var (m, n, k) in Shapes)
        {
            foreach (bool transA in new[] { false, true })
            {
                var (a, lda, b, ldb) = Operands<float>(m, n, k, transA, !transA, 2, seed: 41);
                var c0 = Random<float>(m * n, seed: 42);
                var narrow = (float[])c0.Clone();
                var wide = (float[])c0.Clone();
                KernelMultiply(GemmPath.Avx2, 1, transA, !transA, m, n, k, a, lda, b, ldb, narrow, n, accumulate: true);
                KernelMultiply(GemmPath.Vector512, 1, transA, !transA, m, n, k, a, lda, b, ldb, wide, n, accumulate: true);
                Assert.True(narrow.AsSpan().SequenceEqual(wide), $"Avx2 and Vector512 differ at [{m}, {n}, {k}] transA={transA}");
            }
        }
    }

    [Fact]
    public void GivenThisMachine_WhenChoosingAPathAutomatically_ThenItIsTheWidestTheHardwareSupports()
    {
        // What the runtime reports about the CPU...
        GemmPath expected = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? GemmPath.Vector512
            : System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported ? GemmPath.Avx2
            : GemmPath.Portable;
        Assert.Equal(expected, GemmKernel.Automatic);
        Assert.Equal(expected, ComputeContext.Default.GemmPath);
        using var context = new ComputeContext(1);
        Assert.Equal(expected, context.GemmPath);
        // ...and, on Linux, what the kernel reports in /proc/cpuinfo, read independently of the runtime
        // (unless the runtime was told to ignore some of the CPU, e.g. DOTNET_EnableAVX512F=0).
        bool overridden = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Any(key => key.StartsWith("DOTNET_Enable", StringComparison.OrdinalIgnoreCase) || key.StartsWith("DOTNET_PreferredVectorBitWidth", StringComparison.OrdinalIgnoreCase));
        if (overridden || !File.Exists("/proc/cpuinfo")) return;
        var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ').ToHashSet();
        if (flags is null) return;
        bool avx512 = new[] { "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl" }.All(flags.Contains);
        bool avx2 = flags.Contains("avx2") && flags.Contains("fma");
        if (!avx512) Assert.NotEqual(GemmPath.Vector512, GemmKernel.Automatic);
        if (avx2) Assert.NotEqual(GemmPath.Portable, GemmKernel.Automatic);
        else Assert.Equal(GemmPath.Portable, GemmKernel.Automatic);
    }

    [Theory]
    [MemberData(nameof(KernelPaths))]
    public void GivenAProductAboveTheDirectThreshold_WhenMultiplyingThroughGemm_ThenTheKernelComputesIt(string path)
    {
        var gemmPath = Parse(path);
        foreach (var (m, n, k) in new[] { (1, 4096, 1), (4096, 2, 1), (16, 16, 16), (7, 9, 66), (128, 1024, 256) })
        {
            using var context = new ComputeContext(2) { GemmPath = gemmPath };
            Assert.True(Gemm.ReachesKernel<float>(context, m, n, k), $"[{m}, {n}, {k}] should reach the kernel");
            var (a, lda, b, ldb) = Operands<float>(m, n, k, false, true, 0, seed: 31);
            var viaGemm = new float[m * n];
            var direct = new float[m * n];
            Gemm.Multiply(context, false, true, m, n, k, a, lda, b, ldb, viaGemm, n, accumulate: false);
            KernelMultiply(gemmPath, 2, false, true, m, n, k, a, lda, b, ldb, direct, n, accumulate: false);
            Assert.True(viaGemm.AsSpan().SequenceEqual(direct), $"Gemm.Multiply did not give the {path} kernel's bits at [{m}, {n}, {k}]");
        }
        using var portable = new ComputeContext(1) { GemmPath = GemmPath.Portable };
        Assert.False(Gemm.ReachesKernel<float>(portable, 128, 1024, 256));
        using var kernel = new ComputeContext(1) { GemmPath = gemmPath };
        Assert.False(Gemm.ReachesKernel<float>(kernel, 15, 16, 16)); // 3,840 multiply-adds: the direct loop
    }

    [Theory]
    [InlineData(128, 1024, 256, false, true)]   // LSTM(256) forward step: h · W_hhᵀ
    [InlineData(128, 256, 1024, false, false)]  // backward step: dGates · W_hh
    [InlineData(1024, 256, 520, true, false)]   // weight gradient (k = B·T, shortened)
    [InlineData(2048, 1024, 1, false, true)]    // input projection, K = 1
    [InlineData(131, 517, 300, true, true)]
    public void GivenOneTwoOrThreeThreads_WhenMultiplying_ThenTheResultsAreBitIdentical(int m, int n, int k, bool transA, bool transB)
    {
        foreach (var path in new[] { GemmPath.Avx2, GemmPath.Vector512, GemmPath.Portable })
        {
            var (a, lda, b, ldb) = Operands<float>(m, n, k, transA, transB, 0, seed: 11);
            var c0 = Random<float>(m * n, seed: 12);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var context = new ComputeContext(threads) { GemmPath = path };
                foreach (bool accumulate in new[] { false, true })
                {
                    var c = (float[])c0.Clone();
                    Gemm.Multiply(context, transA, transB, m, n, k, a, lda, b, ldb, c, n, accumulate);
                    if (!accumulate)
                    {
                        if (first is null) first = c;
                        else Assert.True(first.AsSpan().SequenceEqual(c), $"{path}: {threads} threads differ from 1 thread at [{m}, {n}, {k}]");
                    }
                }
            }
            var (ad, ldad, bd, ldbd) = Operands<double>(m, n, k, transA, transB, 0, seed: 13);
            double[]? firstD = null;
            foreach (int threads in new[] { 1, 2 })
            {
                using var context = new ComputeContext(threads) { GemmPath = path };
                var c = new double[m * n];
                Gemm.Multiply(context, transA, transB, m, n, k, ad, ldad, bd, ldbd, c, n, accumulate: false);
                if (firstD is null) firstD = c;
                else Assert.True(firstD.AsSpan().SequenceEqual(c), $"{path} double: {threads} threads differ from 1 thread at [{m}, {n}, {k}]");
            }
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
        foreach (var path in new[] { GemmPath.Avx2, GemmPath.Vector512 })
        {
            var packed = new PackedMatrix<float>();
            packed.Pack(path, transB, k, n, b, ldb);
            Assert.True(packed.Matches(path, transB, k, n));
            foreach (int threads in new[] { 1, 2 })
            {
                using var context = new ComputeContext(threads) { GemmPath = path };
                var expected = Random<float>(m * n, seed: 3);
                var actual = (float[])expected.Clone();
                Gemm.Multiply(context, false, transB, m, n, k, a, lda, b, ldb, expected, n, accumulate: true);
                Gemm.Multiply(context, false, transB, m, n, k, a, lda, b, ldb, actual, n, accumulate: true, packed);
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"{path}: pre-packed B differs at [{m}, {n}, {k}] with {threads} threads");
            }
            // Packed for one path, used on the other: ignored (the panels are of another width), result still right.
            var other = path == GemmPath.Avx2 ? GemmPath.Vector512 : GemmPath.Avx2;
            Assert.False(packed.Matches(other, transB, k, n));
            var reference = new float[m * n];
            var fast = new float[m * n];
            Gemm.Reference(false, transB, m, n, k, a, lda, b, ldb, reference, n, accumulate: false);
            using var otherContext = new ComputeContext(2) { GemmPath = other };
            Gemm.Multiply(otherContext, false, transB, m, n, k, a, lda, b, ldb, fast, n, accumulate: false, packed);
            Close.All<float>(reference, fast, 1e-4 * Math.Sqrt(k), "pre-packed product on the other path");
        }
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

    private static GemmPath Parse(string path) => Enum.Parse<GemmPath>(path);

    /// <summary>The packed kernel itself on <paramref name="path"/>, with no dispatch in between.</summary>
    private static void KernelMultiply<T>(GemmPath path, int threads, bool transA, bool transB, int m, int n, int k,
        T[] a, int lda, T[] b, int ldb, T[] c, int ldc, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var context = new ComputeContext(threads) { GemmPath = path };
        Gemm.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        GemmKernel.Multiply<T>(context, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }

    private static void CompareWithReference<T>(GemmPath path, int m, int n, int k, bool transA, bool transB, bool accumulate, int padding)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (a, lda, b, ldb) = Operands<T>(m, n, k, transA, transB, padding, seed: (ulong)((m * 7919) + (n * 31) + k));
        int ldc = n + padding;
        var c0 = Random<T>(((m - 1) * ldc) + n, seed: 99);
        var expected = (T[])c0.Clone();
        var actual = (T[])c0.Clone();
        Gemm.Reference(transA, transB, m, n, k, a, lda, b, ldb, expected, ldc, accumulate);
        KernelMultiply(path, 1, transA, transB, m, n, k, a, lda, b, ldb, actual, ldc, accumulate);
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
                    $"{path} {typeof(T).Name} transA={transA} transB={transB} accumulate={accumulate} [{m}, {n}, {k}] at ({i}, {j}): expected {e:R}, got {got:R}, bound {bound:E2}");
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
