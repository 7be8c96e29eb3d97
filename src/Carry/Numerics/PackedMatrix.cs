using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Carry.Numerics;

/// <summary>
/// A right-hand operand op(B) <c>[k, n]</c> packed once into the micro-panel layout of
/// <see cref="GemmKernel"/>, for a weight matrix that a layer multiplies by at every time step
/// (<c>W_hh</c>): the products then skip packing B. Where the packed kernel does not run
/// (another element type, the portable path, tiny products, another path than it was packed for)
/// it is simply ignored.
/// </summary>
internal sealed unsafe class PackedMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _storage = [];   // pinned; the packed panels start at the first 64-byte boundary
    private bool _valid, _transB;
    private GemmPath _path;
    private int _k, _n;

    /// <summary>True when packing can pay off for <typeparamref name="T"/> on <paramref name="path"/>.</summary>
    public static bool IsUseful(GemmPath path) => path != GemmPath.Portable && GemmKernel.Serves<T>();

    /// <summary>
    /// Packs op(B) (<c>b[j*ldb + p]</c> when <paramref name="transB"/>, else <c>b[p*ldb + j]</c>)
    /// for the kernel of <paramref name="path"/>; a no-op where not useful.
    /// </summary>
    public void Pack(GemmPath path, bool transB, int k, int n, ReadOnlySpan<T> b, int ldb)
    {
        _valid = false;
        if (!IsUseful(path) || k == 0 || n == 0) return;
        Gemm.Validate(false, transB, 1, n, k, k, k, b.Length, ldb, n, n);
        long length = GemmKernel.PackedLength<T>(path, k, n) + (64 / sizeof(T));
        if (_storage.Length < length) _storage = GC.AllocateUninitializedArray<T>(checked((int)length), pinned: true);
        fixed (T* pb = b)
        {
            GemmKernel.PackWhole(path, transB, k, n, pb, ldb, Pointer);
        }
        _path = path;
        _transB = transB;
        _k = k;
        _n = n;
        _valid = true;
    }

    /// <summary>Forgets the packed contents (after the source changed).</summary>
    public void Invalidate() => _valid = false;

    /// <summary>True when the contents are op(B) for exactly these arguments, packed for <paramref name="path"/>.</summary>
    public bool Matches(GemmPath path, bool transB, int k, int n) => _valid && _path == path && _transB == transB && _k == k && _n == n;

    /// <summary>The first packed element (the storage is pinned, so the address is stable).</summary>
    public T* Pointer
    {
        get
        {
            nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
            nint aligned = (start + 63) & ~(nint)63;
            return (T*)aligned;
        }
    }
}
