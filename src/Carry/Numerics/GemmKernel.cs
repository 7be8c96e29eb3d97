using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Carry.Numerics;

/// <summary>Which matrix-product code runs (<see cref="ComputeContext.GemmPath"/>).</summary>
internal enum GemmPath
{
    /// <summary>The portable loops of <see cref="Gemm"/> (<see cref="System.Numerics.Vector{T}"/>), no packing.</summary>
    Portable,

    /// <summary>The packed kernel on <see cref="Vector256{T}"/>: a 6 × 2W micro-tile in twelve registers (AVX2 + FMA).</summary>
    Avx2,

    /// <summary>The packed kernel on <see cref="Vector512{T}"/>: an 8 × 2W micro-tile in sixteen registers (AVX-512).</summary>
    Vector512,
}

/// <summary>
/// The fast matrix product for <see cref="float"/> and <see cref="double"/>, in the
/// GotoBLAS/BLIS shape: B is packed into <c>KC × NR</c> micro-panels and A into <c>MR × KC</c>
/// micro-panels (zero-padded at the edges), and a register-blocked micro-kernel keeps an
/// <c>MR × NR</c> block of C in registers while it walks k with fused multiply-adds: twelve
/// <see cref="Vector256{T}"/> (6 × 16 floats, 6 × 8 doubles) on the AVX2 path, sixteen
/// <see cref="Vector512{T}"/> (8 × 32 floats, 8 × 16 doubles) on the AVX-512 path.
/// </summary>
/// <remarks>
/// Every element of C is one FMA chain over <c>p = 0..k-1</c> in order, starting from C (when
/// accumulating) or zero, whatever the blocking, the edge handling, the register width or the
/// thread that computes it. Threads split the output into column (or row) ranges aligned to the
/// micro-tile, so the result is bit-identical for every thread count, and the two paths give the
/// same bits. Both are written on the portable vector types, so either runs on any CPU (slowly
/// where the width is emulated) and tests run both everywhere.
/// </remarks>
internal static unsafe class GemmKernel
{
    /// <summary>Depth of a packed panel (the k block); an L1-sized B micro-panel.</summary>
    private const int KC = 256;

    /// <summary>Below this many multiply-adds the direct loop wins (no packing, no threads).</summary>
    internal const long DirectThreshold = 4096;

    /// <summary>Below this many multiply-adds a product stays on the calling thread.</summary>
    internal const long ParallelThreshold = 1L << 20;

    /// <summary>
    /// The path this machine runs unless told otherwise: <see cref="GemmPath.Vector512"/> where the
    /// runtime accelerates 512-bit vectors, <see cref="GemmPath.Avx2"/> where it has AVX2 and FMA,
    /// <see cref="GemmPath.Portable"/> elsewhere.
    /// </summary>
    public static GemmPath Automatic { get; } = Vector512.IsHardwareAccelerated ? GemmPath.Vector512
        : Avx2.IsSupported && Fma.IsSupported ? GemmPath.Avx2
        : GemmPath.Portable;

    /// <summary>True for the element types the packed kernel serves.</summary>
    public static bool Serves<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double);

    /// <summary>Rows of the micro-tile.</summary>
    private static int MR(GemmPath path) => path == GemmPath.Vector512 ? 8 : 6;

    /// <summary>Columns of the micro-tile: two vectors.</summary>
    private static int NR<T>(GemmPath path) => 2 * (path == GemmPath.Vector512 ? Vector512<T>.Count : Vector256<T>.Count);

    /// <summary>Elements of the largest micro-tile (the edge buffer).</summary>
    private const int MaxTile = 8 * 32;

    /// <summary>Rows of A packed at once (an L2-sized block): 144 floats or 72 doubles × KC (multiples of 6 and 8).</summary>
    private static int MC<T>() => typeof(T) == typeof(float) ? 144 : 72;

    /// <summary>Columns of B packed at once.</summary>
    private static int NC<T>() => typeof(T) == typeof(float) ? 2048 : 1024;

    /// <summary>Most elements of B packed whole before a row-split product (beyond it, each part packs its own).</summary>
    private const long SharedPackLimit = 1L << 22;

    /// <summary>
    /// <c>C = op(A)·op(B) (+ C)</c> with the packed kernel of <paramref name="context"/>'s path
    /// (<see cref="GemmPath.Avx2"/> or <see cref="GemmPath.Vector512"/>); sizes already validated,
    /// all non-zero. <paramref name="packedB"/>, when given and packed for (path, transB, k, n),
    /// replaces the packing of B.
    /// </summary>
    public static void Multiply<T>(ComputeContext context, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate, PackedMatrix<T>? packedB = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GemmPath path = context.GemmPath;
        Debug.Assert(Serves<T>() && path != GemmPath.Portable);
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
                job.Set(path, transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, packedB);
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

    /// <summary>
    /// As <see cref="Multiply{T}"/>, on the calling thread with <paramref name="scratch"/>'s buffers
    /// (a worker's, inside a parallel job that splits the rows of several products itself): the
    /// same kernel and so, element by element, the same bits as any split of the whole product.
    /// </summary>
    public static void MultiplySerial<T>(GemmPath path, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate, PackedMatrix<T>? packedB, ComputeContext.Scratch scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Debug.Assert(Serves<T>() && path != GemmPath.Portable);
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            if (scratch.Job is not GemmJob<T> job) scratch.Job = job = new GemmJob<T>();
            job.Set(path, transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate, packedB);
            job.SplitColumns = true;
            job.Parts = 1;
            job.Tiles = 1;
            job.Tile = n;
            job.Execute(0, scratch);
            job.A = job.B = job.C = job.PackedB = null;
        }
    }

    private static void Run<T>(ComputeContext context, bool acquired, GemmJob<T> job) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = job.M, n = job.N, k = job.K, mr = job.Mr, nr = job.Nr;
        long work = (long)m * n * k;
        int threads = acquired && work >= ParallelThreshold ? context.MaxDegreeOfParallelism : 1;
        var scratch = acquired ? context.ScratchOf(0) : null;
        if (threads == 1)
        {
            job.SplitColumns = true;
            job.Parts = 1;
            job.Tiles = 1;
            job.Tile = n;
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
        // Parts of near-equal tile counts (item i covers tiles [i·tiles/parts, (i+1)·tiles/parts)),
        // two per thread so that a core slowed by other work takes fewer.
        job.Parts = Math.Min(tiles, threads * 2);
        job.Tiles = tiles;
        job.Tile = tile;
        context.RunAcquired(job, job.Parts);
    }

    /// <summary>Packs all of op(B) (<c>[k, n]</c>) into <paramref name="dst"/> in the layout <see cref="Blocked"/> reads on <paramref name="path"/>.</summary>
    internal static void PackWhole<T>(GemmPath path, bool transB, int k, int n, T* b, int ldb, T* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nr = NR<T>(path), nPadded = RoundUp(n, nr);
        for (int pc = 0; pc < k; pc += KC)
        {
            int kc = Math.Min(KC, k - pc);
            PackB(b, ldb, transB, pc, kc, 0, n, nr, dst + ((long)pc * nPadded));
        }
    }

    /// <summary>Elements a whole packed op(B) of <c>[k, n]</c> takes on <paramref name="path"/>.</summary>
    internal static long PackedLength<T>(GemmPath path, int k, int n) => (long)k * RoundUp(n, NR<T>(path));

    /// <summary>One product's arguments; item <c>i</c> computes the i-th column (or row) range of C, or packs a part of B.</summary>
    private sealed class GemmJob<T> : ParallelJob where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* A, B, C, PackedB;
        public int Lda, Ldb, Ldc, M, N, K, Mr, Nr, PartSize, NPadded, PackChunks, Parts, Tiles, Tile;
        public GemmPath Path;
        public bool TransA, TransB, Accumulate, SplitColumns, Packing;

        /// <summary>One product's operands and shape; B pre-packed when <paramref name="packedB"/> holds it for this path and shape.</summary>
        public void Set(GemmPath path, bool transA, bool transB, int m, int n, int k, T* a, int lda, T* b, int ldb, T* c, int ldc, bool accumulate, PackedMatrix<T>? packedB)
        {
            A = a; B = b; C = c; Lda = lda; Ldb = ldb; Ldc = ldc;
            M = m; N = n; K = k; TransA = transA; TransB = transB; Accumulate = accumulate;
            Path = path; Mr = MR(path); Nr = NR<T>(path);
            NPadded = RoundUp(n, Nr);
            PackedB = packedB is not null && packedB.Matches(path, transB, k, n) ? packedB.Pointer : null;
            Packing = false;
        }

        public override void Execute(int item, ComputeContext.Scratch scratch)
        {
            if (Packing)
            {
                int pc = item / PackChunks * KC, jc = item % PackChunks * PartSize;
                PackB(B, Ldb, TransB, pc, Math.Min(KC, K - pc), jc, Math.Min(PartSize, N - jc), Nr, PackedB + ((long)pc * NPadded) + ((long)jc * Math.Min(KC, K - pc)));
                return;
            }
            int start = (int)((long)item * Tiles / Parts) * Tile;
            int end = (int)((long)(item + 1) * Tiles / Parts) * Tile;
            if (SplitColumns)
            {
                Blocked(this, 0, M, start, Math.Min(N, end), scratch);
            }
            else
            {
                Blocked(this, start, Math.Min(M, end), 0, N, scratch);
            }
        }
    }

    /// <summary>The blocked loops over C[i0..i1, j0..j1]: jc (NC) → pc (KC, pack B) → ic (MC, pack A) → micro-tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked<T>(GemmJob<T> g, int i0, int i1, int j0, int j1, ComputeContext.Scratch scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int mr = g.Mr, nr = g.Nr, mcMax = MC<T>(), ncMax = NC<T>();
        int kcMax = Math.Min(KC, g.K);
        int ncCap = Math.Min(ncMax, RoundUp(j1 - j0, nr));
        int mcCap = Math.Min(mcMax, RoundUp(i1 - i0, mr));
        T* packedB = g.PackedB is null ? (T*)scratch.B((nuint)(kcMax * ncCap * sizeof(T))) : null;
        T* packedA = (T*)scratch.A((nuint)(kcMax * mcCap * sizeof(T)));
        T* edge = stackalloc T[MaxTile];
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
                    PackB(g.B, g.Ldb, g.TransB, pc, kc, jc, nc, nr, packedB);
                    bBlock = packedB;
                }
                else
                {
                    bBlock = g.PackedB + ((long)pc * g.NPadded) + ((long)jc * kc);
                }
                for (int ic = i0; ic < i1; ic += mcMax)
                {
                    int mc = Math.Min(mcMax, i1 - ic);
                    PackA(g.A, g.Lda, g.TransA, ic, mc, pc, kc, mr, packedA);
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
                                MicroKernel(g.Path, kc, aPanel, bPanel, cTile, g.Ldc, load);
                            }
                            else
                            {
                                // Edge tile: the same kernel on a full-size copy, so the arithmetic is identical.
                                if (load) CopyTile(cTile, g.Ldc, edge, nr, nrows, ncols);
                                MicroKernel(g.Path, kc, aPanel, bPanel, edge, nr, load);
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA<T>(T* a, int lda, bool transA, int ic, int mc, int pc, int kc, int mr, T* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
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
                    int bytes = mr * sizeof(T);
                    for (int p = 0; p < kc; p++) CopySmall((byte*)(panel + (p * mr)), (byte*)(src + ((long)p * lda)), bytes);
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
                if (typeof(T) == typeof(float) && rows == mr && Avx.IsSupported)
                {
                    PackRowsFloat((float*)src, lda, kc, mr, (float*)panel);
                    continue;
                }
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
    /// Copies one packed row of a micro-panel, <paramref name="bytes"/> = MR or NR elements (24, 32,
    /// 48, 64 or 128 bytes), with whole-vector moves instead of a call per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopySmall(byte* dst, byte* src, int bytes)
    {
        switch (bytes)
        {
            case 24:
                Vector128.Store(Vector128.Load(src), dst);
                *(ulong*)(dst + 16) = *(ulong*)(src + 16);
                break;
            case 32:
                Vector256.Store(Vector256.Load(src), dst);
                break;
            case 48:
                Vector256.Store(Vector256.Load(src), dst);
                Vector128.Store(Vector128.Load(src + 32), dst + 32);
                break;
            case 64:
                Vector256.Store(Vector256.Load(src), dst);
                Vector256.Store(Vector256.Load(src + 32), dst + 32);
                break;
            case 128:
                Vector256.Store(Vector256.Load(src), dst);
                Vector256.Store(Vector256.Load(src + 32), dst + 32);
                Vector256.Store(Vector256.Load(src + 64), dst + 64);
                Vector256.Store(Vector256.Load(src + 96), dst + 96);
                break;
            default:
                Unsafe.CopyBlockUnaligned(dst, src, (uint)bytes);
                break;
        }
    }

    /// <summary>
    /// One full micro-panel of row-major float A (<paramref name="mr"/> = 6 or 8 rows, each
    /// contiguous along p) into <c>[kc, mr]</c>: eight p at a time as an 8 × 8 register transpose
    /// (AVX), the rest one by one. The same layout as the scalar loop, so the same products.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackRowsFloat(float* src, nint lda, int kc, int mr, float* panel)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            // With six rows each column is stored eight wide and the next one overwrites the two
            // spare lanes; the last column of the panel is stored six wide, so nothing spills past it.
            TransposeBlock(src + p, lda, mr, panel + (p * mr), mr, shortLast: mr < 8 && p + 8 == kc);
        }
        for (; p < kc; p++)
        {
            for (int r = 0; r < mr; r++) panel[(p * mr) + r] = src[(r * lda) + p];
        }
    }

    /// <summary>
    /// One full micro-panel of float op(B) = bᵀ (<paramref name="nr"/> rows of b, each contiguous
    /// along p) into <c>[kc, nr]</c>: blocks of eight columns by eight p as 8 × 8 register
    /// transposes (AVX), the rest one by one. The same layout as the scalar loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackColumnsFloat(float* src, nint ldb, int kc, int nr, float* panel)
    {
        int p = 0;
        for (; p + 8 <= kc; p += 8)
        {
            for (int j = 0; j < nr; j += 8) TransposeBlock(src + (j * ldb) + p, ldb, 8, panel + (p * nr) + j, nr, shortLast: false);
        }
        for (; p < kc; p++)
        {
            for (int j = 0; j < nr; j++) panel[(p * nr) + j] = src[(j * ldb) + p];
        }
    }

    /// <summary>
    /// <paramref name="rows"/> (6 or 8) rows of eight floats at <paramref name="src"/> (row distance
    /// <paramref name="ld"/>), zero-padded to eight, transposed into eight rows of eight at
    /// <paramref name="dst"/> (row distance <paramref name="ldd"/>); with <paramref name="shortLast"/>
    /// the last row is stored <paramref name="rows"/> wide.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeBlock(float* src, nint ld, int rows, float* dst, nint ldd, bool shortLast)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + ld);
        var r2 = Avx.LoadVector256(src + (2 * ld));
        var r3 = Avx.LoadVector256(src + (3 * ld));
        var r4 = Avx.LoadVector256(src + (4 * ld));
        var r5 = Avx.LoadVector256(src + (5 * ld));
        var r6 = rows == 8 ? Avx.LoadVector256(src + (6 * ld)) : Vector256<float>.Zero;
        var r7 = rows == 8 ? Avx.LoadVector256(src + (7 * ld)) : Vector256<float>.Zero;
        Transpose8x8(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Avx.Store(dst, r0);
        Avx.Store(dst + ldd, r1);
        Avx.Store(dst + (2 * ldd), r2);
        Avx.Store(dst + (3 * ldd), r3);
        Avx.Store(dst + (4 * ldd), r4);
        Avx.Store(dst + (5 * ldd), r5);
        Avx.Store(dst + (6 * ldd), r6);
        if (!shortLast)
        {
            Avx.Store(dst + (7 * ldd), r7);
            return;
        }
        for (int r = 0; r < rows; r++) dst[(7 * ldd) + r] = r7.GetElement(r);
    }

    /// <summary>Transposes the 8 × 8 floats held in eight vectors (row i in, column i out): pairs interleaved, then quads, then the 128-bit halves exchanged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
        ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        r0 = Avx.Permute2x128(u0, u4, 0x20);
        r1 = Avx.Permute2x128(u1, u5, 0x20);
        r2 = Avx.Permute2x128(u2, u6, 0x20);
        r3 = Avx.Permute2x128(u3, u7, 0x20);
        r4 = Avx.Permute2x128(u0, u4, 0x31);
        r5 = Avx.Permute2x128(u1, u5, 0x31);
        r6 = Avx.Permute2x128(u2, u6, 0x31);
        r7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>
    /// Packs op(B)[pc..pc+kc, jc..jc+nc] as NR-column micro-panels, each <c>[kc, NR]</c>, the last
    /// one zero-padded.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB<T>(T* b, int ldb, bool transB, int pc, int kc, int jc, int nc, int nr, T* dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
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
                    for (int p = 0; p < kc; p++) CopySmall((byte*)(panel + (p * nr)), (byte*)(src + ((long)p * ldb)), bytes);
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
                if (typeof(T) == typeof(float) && cols == nr && Avx.IsSupported)
                {
                    PackColumnsFloat((float*)src, ldb, kc, nr, (float*)panel);
                    continue;
                }
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
    private static void MicroKernel<T>(GemmPath path, int kc, T* a, T* b, T* c, int ldc, bool load) where T : unmanaged
    {
        if (path == GemmPath.Vector512) Kernel512(kc, a, b, c, ldc, load);
        else Kernel256(kc, a, b, c, ldc, load);
    }

    /// <summary>C[6, 2W] (+)= A-panel[kc, 6]ᵀ · B-panel[kc, 2W] with W lanes of <see cref="Vector256{T}"/> (16 floats or 8 doubles a row): twelve accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256<T>(int kc, T* a, T* b, T* c, nint ldc, bool load) where T : unmanaged
    {
        nint w = Vector256<T>.Count;
        Vector256<T> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (load)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + w);
            c10 = Vector256.Load(c + ldc); c11 = Vector256.Load(c + ldc + w);
            c20 = Vector256.Load(c + (2 * ldc)); c21 = Vector256.Load(c + (2 * ldc) + w);
            c30 = Vector256.Load(c + (3 * ldc)); c31 = Vector256.Load(c + (3 * ldc) + w);
            c40 = Vector256.Load(c + (4 * ldc)); c41 = Vector256.Load(c + (4 * ldc) + w);
            c50 = Vector256.Load(c + (5 * ldc)); c51 = Vector256.Load(c + (5 * ldc) + w);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<T>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            var av = Vector256.Create(a[0]);
            c00 = MultiplyAdd(av, b0, c00); c01 = MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = MultiplyAdd(av, b0, c10); c11 = MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = MultiplyAdd(av, b0, c20); c21 = MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = MultiplyAdd(av, b0, c30); c31 = MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = MultiplyAdd(av, b0, c40); c41 = MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = MultiplyAdd(av, b0, c50); c51 = MultiplyAdd(av, b1, c51);
            a += 6;
            b += 2 * w;
        }
        c00.Store(c); c01.Store(c + w);
        c10.Store(c + ldc); c11.Store(c + ldc + w);
        c20.Store(c + (2 * ldc)); c21.Store(c + (2 * ldc) + w);
        c30.Store(c + (3 * ldc)); c31.Store(c + (3 * ldc) + w);
        c40.Store(c + (4 * ldc)); c41.Store(c + (4 * ldc) + w);
        c50.Store(c + (5 * ldc)); c51.Store(c + (5 * ldc) + w);
    }

    /// <summary>C[8, 2W] (+)= A-panel[kc, 8]ᵀ · B-panel[kc, 2W] with W lanes of <see cref="Vector512{T}"/> (32 floats or 16 doubles a row): sixteen of the 32 vector registers AVX-512 has.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512<T>(int kc, T* a, T* b, T* c, nint ldc, bool load) where T : unmanaged
    {
        nint w = Vector512<T>.Count;
        Vector512<T> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (load)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + w);
            c10 = Vector512.Load(c + ldc); c11 = Vector512.Load(c + ldc + w);
            c20 = Vector512.Load(c + (2 * ldc)); c21 = Vector512.Load(c + (2 * ldc) + w);
            c30 = Vector512.Load(c + (3 * ldc)); c31 = Vector512.Load(c + (3 * ldc) + w);
            c40 = Vector512.Load(c + (4 * ldc)); c41 = Vector512.Load(c + (4 * ldc) + w);
            c50 = Vector512.Load(c + (5 * ldc)); c51 = Vector512.Load(c + (5 * ldc) + w);
            c60 = Vector512.Load(c + (6 * ldc)); c61 = Vector512.Load(c + (6 * ldc) + w);
            c70 = Vector512.Load(c + (7 * ldc)); c71 = Vector512.Load(c + (7 * ldc) + w);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = Vector512<T>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var av = Vector512.Create(a[0]);
            c00 = MultiplyAdd(av, b0, c00); c01 = MultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = MultiplyAdd(av, b0, c10); c11 = MultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = MultiplyAdd(av, b0, c20); c21 = MultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = MultiplyAdd(av, b0, c30); c31 = MultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = MultiplyAdd(av, b0, c40); c41 = MultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = MultiplyAdd(av, b0, c50); c51 = MultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = MultiplyAdd(av, b0, c60); c61 = MultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = MultiplyAdd(av, b0, c70); c71 = MultiplyAdd(av, b1, c71);
            a += 8;
            b += 2 * w;
        }
        c00.Store(c); c01.Store(c + w);
        c10.Store(c + ldc); c11.Store(c + ldc + w);
        c20.Store(c + (2 * ldc)); c21.Store(c + (2 * ldc) + w);
        c30.Store(c + (3 * ldc)); c31.Store(c + (3 * ldc) + w);
        c40.Store(c + (4 * ldc)); c41.Store(c + (4 * ldc) + w);
        c50.Store(c + (5 * ldc)); c51.Store(c + (5 * ldc) + w);
        c60.Store(c + (6 * ldc)); c61.Store(c + (6 * ldc) + w);
        c70.Store(c + (7 * ldc)); c71.Store(c + (7 * ldc) + w);
    }

    /// <summary><c>x·y + z</c> rounded once, lane by lane (one FMA instruction where the CPU has FMA, <see cref="Math.FusedMultiplyAdd"/> per lane elsewhere).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> MultiplyAdd<T>(Vector256<T> x, Vector256<T> y, Vector256<T> z) => typeof(T) == typeof(float)
        ? Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>()
        : Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();

    /// <summary><c>x·y + z</c> rounded once, lane by lane, on 512-bit vectors (two 256-bit halves, or per lane, where the CPU lacks AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> MultiplyAdd<T>(Vector512<T> x, Vector512<T> y, Vector512<T> z) => typeof(T) == typeof(float)
        ? Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>()
        : Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();
}
