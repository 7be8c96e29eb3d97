using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Carry.Numerics;

/// <summary>
/// The fast matrix product for <see cref="float"/> and <see cref="double"/> on AVX2 + FMA, in the
/// GotoBLAS/BLIS shape: B is packed into <c>KC × NR</c> micro-panels and A into <c>MR × KC</c>
/// micro-panels (zero-padded at the edges), and a register-blocked micro-kernel keeps an
/// <c>MR × NR</c> block of C in twelve <see cref="Vector256{T}"/> registers
/// (6 × 16 floats, 6 × 8 doubles) while it walks k with fused multiply-adds.
/// </summary>
/// <remarks>
/// Every element of C is one FMA chain over <c>p = 0..k-1</c> in order, starting from C (when
/// accumulating) or zero, whatever the blocking, the edge handling or the thread that computes
/// it. Threads split the output into column (or row) ranges aligned to the micro-tile, so the
/// result is bit-identical for every thread count.
/// </remarks>
internal static unsafe class GemmKernel
{
    /// <summary>Depth of a packed panel (the k block); an L1-sized B micro-panel.</summary>
    private const int KC = 256;

    /// <summary>Below this many multiply-adds the direct loop wins (no packing, no threads).</summary>
    internal const long DirectThreshold = 4096;

    /// <summary>Below this many multiply-adds a product stays on the calling thread.</summary>
    internal const long ParallelThreshold = 1L << 20;

    /// <summary>True when this machine runs the packed AVX2/FMA kernel.</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>True for the element types the packed kernel serves.</summary>
    public static bool Serves<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double);

    private static int MR<T>() => 6;

    private static int NR<T>() => typeof(T) == typeof(float) ? 16 : 8;

    /// <summary>Rows of A packed at once (an L2-sized block): 144 floats or 72 doubles × KC.</summary>
    private static int MC<T>() => typeof(T) == typeof(float) ? 144 : 72;

    /// <summary>Columns of B packed at once.</summary>
    private static int NC<T>() => typeof(T) == typeof(float) ? 2048 : 1024;

    /// <summary>Most elements of B packed whole before a row-split product (beyond it, each part packs its own).</summary>
    private const long SharedPackLimit = 1L << 22;

    /// <summary>
    /// <c>C = op(A)·op(B) (+ C)</c> with the packed kernel; sizes already validated, all non-zero.
    /// <paramref name="packedB"/>, when given and packed for (transB, k, n), replaces the packing of B.
    /// </summary>
    public static void Multiply<T>(ComputeContext context, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate, PackedMatrix<T>? packedB = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Debug.Assert(Serves<T>() && IsSupported);
        bool acquired = context.TryAcquire();
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            try
            {
                // A job object per call would allocate: take the context's cached one (or make one when
                // another thread holds it) and hand it back afterwards.
                ref object? slot = ref context.JobSlot(typeof(T) == typeof(float) ? 0 : 1);
                var job = Interlocked.Exchange(ref slot, null) as GemmJob<T> ?? new GemmJob<T>();
                job.A = pa; job.B = pb; job.C = pc; job.Lda = lda; job.Ldb = ldb; job.Ldc = ldc;
                job.M = m; job.N = n; job.K = k; job.TransA = transA; job.TransB = transB; job.Accumulate = accumulate;
                job.NPadded = RoundUp(n, NR<T>());
                job.PackedB = packedB is not null && packedB.Matches(transB, k, n) ? packedB.Pointer : null;
                job.Packing = false;
                Run(context, acquired, job);
                job.A = job.B = job.C = job.PackedB = null;
                Volatile.Write(ref slot, job);
            }
            finally
            {
                if (acquired) context.Release();
            }
        }
    }

    private static void Run<T>(ComputeContext context, bool acquired, GemmJob<T> job) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = job.M, n = job.N, k = job.K, mr = MR<T>(), nr = NR<T>();
        long work = (long)m * n * k;
        int threads = acquired && work >= ParallelThreshold ? context.MaxDegreeOfParallelism : 1;
        var scratch = acquired ? context.ScratchOf(0) : null;
        if (threads == 1)
        {
            job.SplitColumns = true;
            job.PartSize = n;
            if (scratch is not null)
            {
                job.Execute(0, scratch);
            }
            else
            {
                using var temporary = new ComputeContext.Scratch();
                job.Execute(0, temporary);
            }
            return;
        }
        // Row ranges share one packed B (packed by the caller, or here, in parallel, once);
        // column ranges each pack all of A, which only pays when A is small or rows are few.
        bool splitRows = job.PackedB is not null
            || (m >= 2 * mr * threads && (long)k * job.NPadded <= SharedPackLimit);
        if (splitRows && job.PackedB is null)
        {
            job.PackedB = (T*)context.SharedB((nuint)((long)k * job.NPadded * sizeof(T)));
            job.Packing = true;
            int blocks = (k + KC - 1) / KC;
            int chunks = Math.Max(1, Math.Min(threads * 2, job.NPadded / 256));
            job.PartSize = RoundUp((job.NPadded + chunks - 1) / chunks, nr);
            chunks = (n + job.PartSize - 1) / job.PartSize;
            job.PackChunks = chunks;
            context.RunAcquired(job, blocks * chunks);
            job.Packing = false;
        }
        job.SplitColumns = !splitRows;
        int tile = splitRows ? mr : nr;
        int extent = splitRows ? m : n;
        int tiles = (extent + tile - 1) / tile;
        int parts = Math.Min(tiles, threads * 2);
        job.PartSize = (tiles + parts - 1) / parts * tile;
        parts = (extent + job.PartSize - 1) / job.PartSize;
        context.RunAcquired(job, parts);
    }

    /// <summary>Packs all of op(B) (<c>[k, n]</c>) into <paramref name="dst"/> in the layout <see cref="Blocked"/> reads.</summary>
    internal static void PackWhole<T>(bool transB, int k, int n, T* b, int ldb, T* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nPadded = RoundUp(n, NR<T>());
        for (int pc = 0; pc < k; pc += KC)
        {
            int kc = Math.Min(KC, k - pc);
            PackB(b, ldb, transB, pc, kc, 0, n, dst + ((long)pc * nPadded));
        }
    }

    /// <summary>Elements a whole packed op(B) of <c>[k, n]</c> takes.</summary>
    internal static long PackedLength<T>(int k, int n) => (long)k * RoundUp(n, NR<T>());

    /// <summary>One product's arguments; item <c>i</c> computes the i-th column (or row) range of C, or packs a part of B.</summary>
    private sealed class GemmJob<T> : ParallelJob where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* A, B, C, PackedB;
        public int Lda, Ldb, Ldc, M, N, K, PartSize, NPadded, PackChunks;
        public bool TransA, TransB, Accumulate, SplitColumns, Packing;

        public override void Execute(int item, ComputeContext.Scratch scratch)
        {
            if (Packing)
            {
                int pc = item / PackChunks * KC, jc = item % PackChunks * PartSize;
                PackB(B, Ldb, TransB, pc, Math.Min(KC, K - pc), jc, Math.Min(PartSize, N - jc), PackedB + ((long)pc * NPadded) + ((long)jc * Math.Min(KC, K - pc)));
                return;
            }
            int start = item * PartSize;
            if (SplitColumns)
            {
                Blocked(this, 0, M, start, Math.Min(N, start + PartSize), scratch);
            }
            else
            {
                Blocked(this, start, Math.Min(M, start + PartSize), 0, N, scratch);
            }
        }
    }

    /// <summary>The blocked loops over C[i0..i1, j0..j1]: jc (NC) → pc (KC, pack B) → ic (MC, pack A) → micro-tiles.</summary>
    private static void Blocked<T>(GemmJob<T> g, int i0, int i1, int j0, int j1, ComputeContext.Scratch scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int mr = MR<T>(), nr = NR<T>(), mcMax = MC<T>(), ncMax = NC<T>();
        int kcMax = Math.Min(KC, g.K);
        int ncCap = Math.Min(ncMax, RoundUp(j1 - j0, nr));
        int mcCap = Math.Min(mcMax, RoundUp(i1 - i0, mr));
        T* packedB = g.PackedB is null ? (T*)scratch.B((nuint)(kcMax * ncCap * sizeof(T))) : null;
        T* packedA = (T*)scratch.A((nuint)(kcMax * mcCap * sizeof(T)));
        T* edge = stackalloc T[6 * 16];
        for (int jc = j0; jc < j1; jc += ncMax)
        {
            int nc = Math.Min(ncMax, j1 - jc);
            for (int pc = 0; pc < g.K; pc += KC)
            {
                int kc = Math.Min(KC, g.K - pc);
                bool load = g.Accumulate || pc > 0;
                T* bBlock;
                if (g.PackedB is null)
                {
                    PackB(g.B, g.Ldb, g.TransB, pc, kc, jc, nc, packedB);
                    bBlock = packedB;
                }
                else
                {
                    bBlock = g.PackedB + ((long)pc * g.NPadded) + ((long)jc * kc);
                }
                for (int ic = i0; ic < i1; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, i1 - ic);
                    PackA(g.A, g.Lda, g.TransA, ic, mc, pc, kc, packedA);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int ncols = Math.Min(nr, nc - jr);
                        T* bPanel = bBlock + (jr * kc);
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int nrows = Math.Min(mr, mc - ir);
                            T* aPanel = packedA + (ir * kc);
                            T* cTile = g.C + ((long)(ic + ir) * g.Ldc) + jc + jr;
                            if (nrows == mr && ncols == nr)
                            {
                                MicroKernel(kc, aPanel, bPanel, cTile, g.Ldc, load);
                            }
                            else
                            {
                                // Edge tile: the same kernel on a full-size copy, so the arithmetic is identical.
                                if (load) CopyTile(cTile, g.Ldc, edge, nr, nrows, ncols);
                                MicroKernel(kc, aPanel, bPanel, edge, nr, load);
                                CopyTile(edge, nr, cTile, g.Ldc, nrows, ncols);
                            }
                        }
                    }
                }
            }
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    private static void CopyTile<T>(T* src, int lds, T* dst, int ldd, int rows, int cols) where T : unmanaged
    {
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++) dst[(r * ldd) + j] = src[((long)r * lds) + j];
        }
    }

    /// <summary>
    /// Packs op(A)[ic..ic+mc, pc..pc+kc] as MR-row micro-panels, each <c>[kc, MR]</c> (element
    /// (r, p) at <c>p*MR + r</c>), the last one zero-padded.
    /// </summary>
    private static void PackA<T>(T* a, int lda, bool transA, int ic, int mc, int pc, int kc, T* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int mr = 6;
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            T* panel = dst + (ir * kc);
            if (transA)
            {
                // op(A)(i, p) = a[p*lda + i]: MR contiguous values per p.
                T* src = a + ((long)pc * lda) + ic + ir;
                if (rows == mr)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        T* s = src + ((long)p * lda);
                        T* d = panel + (p * mr);
                        d[0] = s[0]; d[1] = s[1]; d[2] = s[2]; d[3] = s[3]; d[4] = s[4]; d[5] = s[5];
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++)
                    {
                        T* s = src + ((long)p * lda);
                        T* d = panel + (p * mr);
                        for (int r = 0; r < rows; r++) d[r] = s[r];
                        for (int r = rows; r < mr; r++) d[r] = T.Zero;
                    }
                }
            }
            else
            {
                // op(A)(i, p) = a[i*lda + p]: rows contiguous along p.
                T* src = a + ((long)(ic + ir) * lda) + pc;
                for (int r = 0; r < rows; r++)
                {
                    T* s = src + ((long)r * lda);
                    for (int p = 0; p < kc; p++) panel[(p * mr) + r] = s[p];
                }
                for (int r = rows; r < mr; r++)
                {
                    for (int p = 0; p < kc; p++) panel[(p * mr) + r] = T.Zero;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[pc..pc+kc, jc..jc+nc] as NR-column micro-panels, each <c>[kc, NR]</c>, the last
    /// one zero-padded.
    /// </summary>
    private static void PackB<T>(T* b, int ldb, bool transB, int pc, int kc, int jc, int nc, T* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = NR<T>();
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            T* panel = dst + (jr * kc);
            if (!transB)
            {
                // op(B)(p, j) = b[p*ldb + j]: NR contiguous values per p.
                T* src = b + ((long)pc * ldb) + jc + jr;
                if (cols == nr)
                {
                    int bytes = nr * sizeof(T);
                    for (int p = 0; p < kc; p++)
                    {
                        Unsafe.CopyBlockUnaligned(panel + (p * nr), src + ((long)p * ldb), (uint)bytes);
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++)
                    {
                        T* s = src + ((long)p * ldb);
                        T* d = panel + (p * nr);
                        for (int j = 0; j < cols; j++) d[j] = s[j];
                        for (int j = cols; j < nr; j++) d[j] = T.Zero;
                    }
                }
            }
            else
            {
                // op(B)(p, j) = b[j*ldb + p]: column j of op(B) is row j of b, contiguous along p.
                T* src = b + ((long)(jc + jr) * ldb) + pc;
                for (int j = 0; j < cols; j++)
                {
                    T* s = src + ((long)j * ldb);
                    for (int p = 0; p < kc; p++) panel[(p * nr) + j] = s[p];
                }
                for (int j = cols; j < nr; j++)
                {
                    for (int p = 0; p < kc; p++) panel[(p * nr) + j] = T.Zero;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel<T>(int kc, T* a, T* b, T* c, int ldc, bool load) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            KernelSingle(kc, (float*)a, (float*)b, (float*)c, ldc, load);
        }
        else
        {
            KernelDouble(kc, (double*)a, (double*)b, (double*)c, ldc, load);
        }
    }

    /// <summary>C[6, 16] (+)= A-panel[kc, 6]ᵀ · B-panel[kc, 16]: twelve 8-float accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelSingle(int kc, float* a, float* b, float* c, nint ldc, bool load)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (load)
        {
            c00 = Avx.LoadVector256(c); c01 = Avx.LoadVector256(c + 8);
            c10 = Avx.LoadVector256(c + ldc); c11 = Avx.LoadVector256(c + ldc + 8);
            c20 = Avx.LoadVector256(c + (2 * ldc)); c21 = Avx.LoadVector256(c + (2 * ldc) + 8);
            c30 = Avx.LoadVector256(c + (3 * ldc)); c31 = Avx.LoadVector256(c + (3 * ldc) + 8);
            c40 = Avx.LoadVector256(c + (4 * ldc)); c41 = Avx.LoadVector256(c + (4 * ldc) + 8);
            c50 = Avx.LoadVector256(c + (5 * ldc)); c51 = Avx.LoadVector256(c + (5 * ldc) + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            var b0 = Avx.LoadAlignedVector256(b);
            var b1 = Avx.LoadAlignedVector256(b + 8);
            var av = Avx.BroadcastScalarToVector256(a);
            c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 1);
            c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 2);
            c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 3);
            c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 4);
            c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 5);
            c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += 6;
            b += 16;
        }
        Avx.Store(c, c00); Avx.Store(c + 8, c01);
        Avx.Store(c + ldc, c10); Avx.Store(c + ldc + 8, c11);
        Avx.Store(c + (2 * ldc), c20); Avx.Store(c + (2 * ldc) + 8, c21);
        Avx.Store(c + (3 * ldc), c30); Avx.Store(c + (3 * ldc) + 8, c31);
        Avx.Store(c + (4 * ldc), c40); Avx.Store(c + (4 * ldc) + 8, c41);
        Avx.Store(c + (5 * ldc), c50); Avx.Store(c + (5 * ldc) + 8, c51);
    }

    /// <summary>C[6, 8] (+)= A-panel[kc, 6]ᵀ · B-panel[kc, 8]: twelve 4-double accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelDouble(int kc, double* a, double* b, double* c, nint ldc, bool load)
    {
        Vector256<double> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (load)
        {
            c00 = Avx.LoadVector256(c); c01 = Avx.LoadVector256(c + 4);
            c10 = Avx.LoadVector256(c + ldc); c11 = Avx.LoadVector256(c + ldc + 4);
            c20 = Avx.LoadVector256(c + (2 * ldc)); c21 = Avx.LoadVector256(c + (2 * ldc) + 4);
            c30 = Avx.LoadVector256(c + (3 * ldc)); c31 = Avx.LoadVector256(c + (3 * ldc) + 4);
            c40 = Avx.LoadVector256(c + (4 * ldc)); c41 = Avx.LoadVector256(c + (4 * ldc) + 4);
            c50 = Avx.LoadVector256(c + (5 * ldc)); c51 = Avx.LoadVector256(c + (5 * ldc) + 4);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<double>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            var b0 = Avx.LoadAlignedVector256(b);
            var b1 = Avx.LoadAlignedVector256(b + 4);
            var av = Avx.BroadcastScalarToVector256(a);
            c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 1);
            c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 2);
            c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 3);
            c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 4);
            c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 5);
            c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += 6;
            b += 8;
        }
        Avx.Store(c, c00); Avx.Store(c + 4, c01);
        Avx.Store(c + ldc, c10); Avx.Store(c + ldc + 4, c11);
        Avx.Store(c + (2 * ldc), c20); Avx.Store(c + (2 * ldc) + 4, c21);
        Avx.Store(c + (3 * ldc), c30); Avx.Store(c + (3 * ldc) + 4, c31);
        Avx.Store(c + (4 * ldc), c40); Avx.Store(c + (4 * ldc) + 4, c41);
        Avx.Store(c + (5 * ldc), c50); Avx.Store(c + (5 * ldc) + 4, c51);
    }
}
