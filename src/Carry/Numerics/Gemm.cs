using System.Diagnostics;
using System.Numerics;

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
    /// <summary>The kernel layers call, on <see cref="ComputeContext.Default"/>. Dispatches to the fastest path available for <typeparamref name="T"/>.</summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Multiply(ComputeContext.Default, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);

    /// <summary>
    /// <c>C = op(A) · op(B) (+ C)</c> on the threads of <paramref name="context"/>. Small products
    /// (under 4,096 multiply-adds, as in the numpy experiment) run a direct loop with no packing and
    /// no threads; larger float and double products run the packed AVX2/FMA kernel
    /// (<see cref="GemmKernel"/>) where the processor has it, the portable loop elsewhere. The
    /// result does not depend on the context's thread count.
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
        if ((long)m * n * k >= GemmKernel.DirectThreshold && GemmKernel.Serves<T>() && GemmKernel.IsSupported)
        {
            GemmKernel.Multiply(context, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, packedB);
            return;
        }
        Portable(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }

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
        if (!accumulate) ClearRows(c, m, n, ldc);
        if (!transB)
        {
            // C[i,:] += A(i,p) * B[p,:] — rows of B are contiguous.
            for (int i = 0; i < m; i++)
            {
                Span<T> cRow = c.Slice(i * ldc, n);
                for (int p = 0; p < k; p++)
                {
                    T av = transA ? a[(p * lda) + i] : a[(i * lda) + p];
                    if (av == T.Zero) continue;
                    AxpyRow(av, b.Slice(p * ldb, n), cRow);
                }
            }
        }
        else if (!transA)
        {
            // C[i,j] += dot(A[i,:], B[j,:]) — both rows contiguous.
            for (int i = 0; i < m; i++)
            {
                ReadOnlySpan<T> aRow = a.Slice(i * lda, k);
                for (int j = 0; j < n; j++)
                {
                    c[(i * ldc) + j] += Dot(aRow, b.Slice(j * ldb, k));
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

    private static T Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<T>.Count)
        {
            var acc = Vector<T>.Zero;
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                acc += new Vector<T>(x.Slice(i)) * new Vector<T>(y.Slice(i));
            }
            sum = Vector.Sum(acc);
        }
        for (; i < x.Length; i++) sum += x[i] * y[i];
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
