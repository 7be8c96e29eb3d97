using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Carry.Numerics;

/// <summary>
/// General matrix product <c>C = op(A) · op(B) (+ C)</c> over row-major storage with leading
/// dimensions, the one kernel every layer calls. Arguments are ordered as in BLAS: transposes,
/// sizes, sources, destination.
/// </summary>
/// <remarks>
/// <c>op(A)</c> is <c>[m, k]</c>: element <c>(i, p)</c> is <c>a[i*lda + p]</c>, or <c>a[p*lda + i]</c>
/// when <c>transA</c> is set. <c>op(B)</c> is <c>[k, n]</c> likewise. Leading
/// dimensions let a layer address the time step <c>t</c> of a batch-first <c>[B, T, F]</c>
/// buffer as a <c>[B, F]</c> matrix with stride <c>T*F</c>, without copying.
/// </remarks>
public static class Gemm
{
    /// <summary>
    /// <c>C = op(A) · op(B) (+ C)</c> on <see cref="ComputeContext.Default"/> (layers pass their
    /// own context to the overload that takes one); arguments as there.
    /// </summary>
    /// <param name="transA">Read A as transposed: <c>op(A)(i, p) = a[p*lda + i]</c>.</param>
    /// <param name="transB">Read B as transposed: <c>op(B)(p, j) = b[j*ldb + p]</c>.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The summed dimension.</param>
    /// <param name="a">A's storage.</param>
    /// <param name="lda">Distance between A's stored rows.</param>
    /// <param name="b">B's storage.</param>
    /// <param name="ldb">Distance between B's stored rows.</param>
    /// <param name="c">C's storage, <c>[m, n]</c> with row distance <paramref name="ldc"/>.</param>
    /// <param name="ldc">Distance between C's rows.</param>
    /// <param name="accumulate">Add to C (true) or overwrite it (false).</param>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Multiply(ComputeContext.Default, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);

    /// <summary>
    /// <c>C = op(A) · op(B) (+ C)</c> on the threads of <paramref name="context"/>. Small products
    /// (under 4,096 multiply-adds, as in the numpy experiment) run a direct loop with no packing and
    /// no threads; larger float and double products run the packed kernel
    /// (<see cref="GemmKernel"/>) on 512-bit vectors where the processor accelerates them, on
    /// AVX2 + FMA where it has those, and the portable loop elsewhere. The result does not depend
    /// on the context's thread count.
    /// </summary>
    /// <param name="context">Threads and buffers to use (e.g. <see cref="ComputeContext.Default"/>).</param>
    /// <param name="transA">Read A as transposed: <c>op(A)(i, p) = a[p*lda + i]</c>.</param>
    /// <param name="transB">Read B as transposed: <c>op(B)(p, j) = b[j*ldb + p]</c>.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The summed dimension.</param>
    /// <param name="a">A's storage.</param>
    /// <param name="lda">Distance between A's stored rows.</param>
    /// <param name="b">B's storage.</param>
    /// <param name="ldb">Distance between B's stored rows.</param>
    /// <param name="c">C's storage, <c>[m, n]</c> with row distance <paramref name="ldc"/>.</param>
    /// <param name="ldc">Distance between C's rows.</param>
    /// <param name="accumulate">Add to C (true) or overwrite it (false).</param>
    public static void Multiply<T>(ComputeContext context, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Multiply(context, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, null);

    /// <summary>
    /// As the public overload, with B also given pre-packed (<paramref name="packedB"/>, packed
    /// from the same <paramref name="b"/>): the fast path then skips packing B. The result is
    /// bit-identical either way.
    /// </summary>
    internal static void Multiply<T>(ComputeContext context, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate, PackedMatrix<T>? packedB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(context);
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) ClearRows(c, m, n, ldc);
            return;
        }
        if (n == 1 && TryMatrixVector(transA, transB, m, k, a, lda, b, ldb, c, ldc, accumulate)) return;
        if (ReachesKernel<T>(context, m, n, k))
        {
            // One row of a large product (one sample's step, as when sampling text): packing B would cost more than the product.
            if (m == 1 && TryVectorMatrix(transA, transB, n, k, a, b, ldb, c, accumulate)) return;
            GemmKernel.Multiply(context, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, packedB);
            return;
        }
        Portable(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }

    /// <summary>
    /// A product that a parallel job runs for some of the rows of a larger one: on the calling
    /// thread with <paramref name="scratch"/>'s buffers when given (the caller has checked that the
    /// whole product <see cref="ReachesKernel{T}"/>, so the rows get the kernel's bits), otherwise
    /// as <see cref="Multiply{T}(ComputeContext, bool, bool, int, int, int, ReadOnlySpan{T}, int, ReadOnlySpan{T}, int, Span{T}, int, bool, PackedMatrix{T}?)"/>.
    /// </summary>
    internal static void MultiplyRows<T>(ComputeContext context, ComputeContext.Scratch? scratch, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate, PackedMatrix<T>? packedB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (scratch is null)
        {
            Multiply(context, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, packedB);
            return;
        }
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0) return;
        GemmKernel.MultiplySerial(context.GemmPath, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, packedB, scratch);
    }

    /// <summary>True when a product of this size (past the one-column cases) runs the packed kernel on <paramref name="context"/>.</summary>
    internal static bool ReachesKernel<T>(ComputeContext context, int m, int n, int k) =>
        (long)m * n * k >= GemmKernel.DirectThreshold && GemmKernel.Serves<T>() && context.GemmPath != GemmPath.Portable;

    /// <summary>
    /// The readable reference: a triple loop with one scalar accumulator per output element,
    /// summed in order <c>p = 0..k-1</c>. Tests hold every faster path to this one.
    /// </summary>
    public static void Reference<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                T sum = T.Zero;
                for (int p = 0; p < k; p++)
                {
                    T av = transA ? a[(p * lda) + i] : a[(i * lda) + p];
                    T bv = transB ? b[(j * ldb) + p] : b[(p * ldb) + j];
                    sum += av * bv;
                }
                c[(i * ldc) + j] = accumulate ? c[(i * ldc) + j] + sum : sum;
            }
        }
    }

    /// <summary>
    /// Portable path: loop orders chosen so that the innermost loop runs over contiguous memory,
    /// vectorised through <see cref="Vector{T}"/>.
    /// </summary>
    internal static void Portable<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Sizes were validated by the caller, so the loops below index through references
        // without bounds checks; the arithmetic is spelled out in each comment.
        if (!accumulate) ClearRows(c, m, n, ldc);
        ref T a0 = ref MemoryMarshal.GetReference(a);
        ref T b0 = ref MemoryMarshal.GetReference(b);
        ref T c0 = ref MemoryMarshal.GetReference(c);
        if (!transB && transA && n < Vector<T>.Count && m >= Vector<T>.Count && Vector.IsHardwareAccelerated)
        {
            NarrowTransposedA(m, n, k, ref a0, lda, ref b0, ldb, ref c0, ldc);
        }
        else if (!transB)
        {
            // C[i,:] += A(i,p) * B[p,:] — rows of B are contiguous. Each element is
            // c + a_i0 b_0j + a_i1 b_1j + ... in order, products and sums rounded apart; a block of
            // C's row stays in a register across p.
            nint strideAi = transA ? 1 : lda, strideAp = transA ? lda : 1;
            for (int i = 0; i < m; i++)
            {
                ref T cRow = ref Unsafe.Add(ref c0, (nint)i * ldc);
                ref T aRow = ref Unsafe.Add(ref a0, i * strideAi);
                int j = 0;
                if (Vector.IsHardwareAccelerated)
                {
                    int w = Vector<T>.Count;
                    // Four independent accumulators (16 floats of C's row, or 16 doubles) hide the add latency.
                    for (; j <= n - (4 * w); j += 4 * w)
                    {
                        var acc0 = Vector.LoadUnsafe(ref cRow, (nuint)j);
                        var acc1 = Vector.LoadUnsafe(ref cRow, (nuint)(j + w));
                        var acc2 = Vector.LoadUnsafe(ref cRow, (nuint)(j + (2 * w)));
                        var acc3 = Vector.LoadUnsafe(ref cRow, (nuint)(j + (3 * w)));
                        for (int p = 0; p < k; p++)
                        {
                            T av = Unsafe.Add(ref aRow, p * strideAp);
                            if (av == T.Zero) continue;
                            var va = new Vector<T>(av);
                            ref T bRow = ref Unsafe.Add(ref b0, ((nint)p * ldb) + j);
                            acc0 += va * Vector.LoadUnsafe(ref bRow);
                            acc1 += va * Vector.LoadUnsafe(ref bRow, (nuint)w);
                            acc2 += va * Vector.LoadUnsafe(ref bRow, (nuint)(2 * w));
                            acc3 += va * Vector.LoadUnsafe(ref bRow, (nuint)(3 * w));
                        }
                        acc0.StoreUnsafe(ref cRow, (nuint)j);
                        acc1.StoreUnsafe(ref cRow, (nuint)(j + w));
                        acc2.StoreUnsafe(ref cRow, (nuint)(j + (2 * w)));
                        acc3.StoreUnsafe(ref cRow, (nuint)(j + (3 * w)));
                    }
                    for (; j <= n - Vector<T>.Count; j += Vector<T>.Count)
                    {
                        var acc = Vector.LoadUnsafe(ref cRow, (nuint)j);
                        for (int p = 0; p < k; p++)
                        {
                            T av = Unsafe.Add(ref aRow, p * strideAp);
                            if (av == T.Zero) continue;
                            acc += new Vector<T>(av) * Vector.LoadUnsafe(ref b0, (nuint)(((nint)p * ldb) + j));
                        }
                        acc.StoreUnsafe(ref cRow, (nuint)j);
                    }
                }
                for (; j < n; j++)
                {
                    T sum = Unsafe.Add(ref cRow, j);
                    for (int p = 0; p < k; p++)
                    {
                        T av = Unsafe.Add(ref aRow, p * strideAp);
                        if (av == T.Zero) continue;
                        sum += av * Unsafe.Add(ref b0, ((nint)p * ldb) + j);
                    }
                    Unsafe.Add(ref cRow, j) = sum;
                }
            }
        }
        else if (!transA)
        {
            // C[i,j] += dot(A[i,:], B[j,:]) — both rows contiguous.
            for (int i = 0; i < m; i++)
            {
                ref T aRow = ref Unsafe.Add(ref a0, (nint)i * lda);
                for (int j = 0; j < n; j++)
                {
                    Unsafe.Add(ref c0, ((nint)i * ldc) + j) += Dot(ref aRow, ref Unsafe.Add(ref b0, (nint)j * ldb), k);
                }
            }
        }
        else
        {
            // Both transposed (rare): C[i,j] += sum_p A[p,i] B[j,p].
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    T sum = T.Zero;
                    for (int p = 0; p < k; p++) sum += a[(p * lda) + i] * b[(j * ldb) + p];
                    c[(i * ldc) + j] += sum;
                }
            }
        }
    }

    /// <summary>
    /// <c>C += Aᵀ·B</c> with fewer columns than a vector (a weight gradient of a narrow input):
    /// vectorised down C's columns, where Aᵀ's rows are contiguous, with the same element-wise
    /// arithmetic as the row loop (<c>c + a_i0 b_0j + ...</c>, zero a's skipped).
    /// </summary>
    private static void NarrowTransposedA<T>(int m, int n, int k, ref T a0, int lda, ref T b0, int ldb, ref T c0, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector<T>.Count;
        Span<T> column = stackalloc T[Vector<T>.Count];
        for (int j = 0; j < n; j++)
        {
            int i = 0;
            for (; i <= m - w; i += w)
            {
                for (int r = 0; r < w; r++) column[r] = Unsafe.Add(ref c0, ((nint)(i + r) * ldc) + j);
                var acc = new Vector<T>(column);
                for (int p = 0; p < k; p++)
                {
                    var va = Vector.LoadUnsafe(ref a0, (nuint)(((nint)p * lda) + i));
                    var sum = acc + (va * new Vector<T>(Unsafe.Add(ref b0, ((nint)p * ldb) + j)));
                    acc = Vector.ConditionalSelect(Vector.Equals(va, Vector<T>.Zero), acc, sum);
                }
                acc.CopyTo(column);
                for (int r = 0; r < w; r++) Unsafe.Add(ref c0, ((nint)(i + r) * ldc) + j) = column[r];
            }
            for (; i < m; i++)
            {
                T sum = Unsafe.Add(ref c0, ((nint)i * ldc) + j);
                for (int p = 0; p < k; p++)
                {
                    T av = Unsafe.Add(ref a0, ((nint)p * lda) + i);
                    if (av == T.Zero) continue;
                    sum += av * Unsafe.Add(ref b0, ((nint)p * ldb) + j);
                }
                Unsafe.Add(ref c0, ((nint)i * ldc) + j) = sum;
            }
        }
    }

    /// <summary>
    /// One output column (<c>n = 1</c>, e.g. the input gradient of a one-feature sequence): dot
    /// products over contiguous rows of A, or, for a transposed A, a sum of A's rows scaled by B.
    /// False when the operands are not laid out for either.
    /// </summary>
    private static bool TryMatrixVector<T>(bool transA, bool transB, int m, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!transA && (transB || ldb == 1))
        {
            // C[i] (+)= dot(A[i, :], B[:, 0]); B's column is contiguous.
            ReadOnlySpan<T> column = b[..k];
            for (int i = 0; i < m; i++)
            {
                T dot = Dot(a.Slice(i * lda, k), column);
                c[i * ldc] = accumulate ? c[i * ldc] + dot : dot;
            }
            return true;
        }
        if (transA && ldc == 1)
        {
            // C[:] (+)= Σ_p B[p, 0] · A[p, :] with A stored [k, m].
            var cColumn = c[..m];
            if (!accumulate) cColumn.Clear();
            for (int p = 0; p < k; p++)
            {
                T bv = transB ? b[p] : b[p * ldb];
                if (bv != T.Zero) AxpyRow(bv, a.Slice(p * lda, m), cColumn);
            }
            return true;
        }
        return false;
    }

    /// <summary>
    /// One output row (<c>m = 1</c>): C[0, j] (+)= dot(A's row, Bᵀ's contiguous row j) for a
    /// transposed B (a weight <c>[n, k]</c>), or C's row (+)= Σ_p A[0, p] · B[p, :] otherwise.
    /// False for a transposed A.
    /// </summary>
    private static bool TryVectorMatrix<T>(bool transA, bool transB, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, int ldb, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (transA) return false;
        ReadOnlySpan<T> row = a[..k];
        if (transB)
        {
            for (int j = 0; j < n; j++)
            {
                T dot = Dot(row, b.Slice(j * ldb, k));
                c[j] = accumulate ? c[j] + dot : dot;
            }
            return true;
        }
        var cRow = c[..n];
        if (!accumulate) cRow.Clear();
        for (int p = 0; p < k; p++)
        {
            if (row[p] != T.Zero) AxpyRow(row[p], b.Slice(p * ldb, n), cRow);
        }
        return true;
    }

    private static void AxpyRow<T>(T alpha, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
        {
            var va = new Vector<T>(alpha);
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var vy = new Vector<T>(y.Slice(i));
                (vy + (va * new Vector<T>(x.Slice(i)))).CopyTo(y.Slice(i));
            }
        }
        for (; i < x.Length; i++) y[i] += alpha * x[i];
    }

    /// <summary>Σ x_i y_i, summed as the portable product sums (also the order <see cref="Layers.FusedElman{T}"/> keeps).</summary>
    internal static T Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Debug.Assert(y.Length >= x.Length);
        return Dot(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length);
    }

    /// <summary>Σ x_i y_i: lane-wise partial sums over whole vectors, their sum, then the scalar tail in order.</summary>
    private static T Dot<T>(ref T x, ref T y, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        int i = 0;
        if (Vector.IsHardwareAccelerated && length >= Vector<T>.Count)
        {
            var acc = Vector<T>.Zero;
            for (; i <= length - Vector<T>.Count; i += Vector<T>.Count)
            {
                acc += Vector.LoadUnsafe(ref x, (nuint)i) * Vector.LoadUnsafe(ref y, (nuint)i);
            }
            sum = Vector.Sum(acc);
        }
        for (; i < length; i++) sum += Unsafe.Add(ref x, i) * Unsafe.Add(ref y, i);
        return sum;
    }

    internal static void ClearRows<T>(Span<T> c, int m, int n, int ldc) where T : unmanaged
    {
        for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
    }

    internal static void Validate(bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        Need("a", aRows, aCols, lda, aLength);
        Need("b", bRows, bCols, ldb, bLength);
        Need("c", m, n, ldc, cLength);
    }

    private static void Need(string name, int rows, int cols, int ld, int length)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new ArgumentException($"Leading dimension of {name} is {ld}, less than its {cols} columns.", name);
        long needed = ((long)(rows - 1) * ld) + cols;
        if (needed > length) throw new ArgumentException($"{name} needs {needed} elements for a [{rows}, {cols}] matrix with leading dimension {ld}, but has {length}.", name);
        Debug.Assert(needed <= length);
    }
}
