using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Carry.Numerics;

/// <summary>
/// The few lane-wise operations a small fused kernel needs, over a vector type <typeparamref name="TVector"/>
/// of <see cref="Count"/> lanes of <typeparamref name="T"/>. A kernel written once against this
/// interface (as a generic struct argument, so the JIT compiles one specialised copy per width) runs
/// on <see cref="Vector512{T}"/>, <see cref="Vector256{T}"/> or one scalar at a time.
/// </summary>
/// <typeparam name="TVector">The vector type (<c>Vector512&lt;T&gt;</c>, <c>Vector256&lt;T&gt;</c>, or <typeparamref name="T"/> itself).</typeparam>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>.</typeparam>
internal interface ILanes<TVector, T> where T : unmanaged
{
    /// <summary>Lanes in one vector.</summary>
    static abstract int Count { get; }

    /// <summary>Reads <see cref="Count"/> values from <c>source[offset..]</c>.</summary>
    static abstract TVector Load(ref T source, nint offset);

    /// <summary>Writes <paramref name="value"/> to <c>destination[offset..]</c>.</summary>
    static abstract void Store(TVector value, ref T destination, nint offset);

    /// <summary>Every lane <paramref name="value"/>.</summary>
    static abstract TVector Broadcast(T value);

    /// <summary>Every lane zero.</summary>
    static abstract TVector Zero { get; }

    /// <summary><c>x + y</c>, lane by lane.</summary>
    static abstract TVector Add(TVector x, TVector y);

    /// <summary><c>x · y</c>, lane by lane.</summary>
    static abstract TVector Multiply(TVector x, TVector y);

    /// <summary><c>x · y + z</c> rounded once, lane by lane (a fused multiply-add).</summary>
    static abstract TVector MultiplyAdd(TVector x, TVector y, TVector z);

    /// <summary><c>x (1 - x)</c>, lane by lane: the logistic sigmoid's derivative from its output.</summary>
    static abstract TVector SigmoidSlope(TVector x);

    /// <summary><c>1 / (1 + exp(-x))</c>, lane by lane.</summary>
    static abstract TVector Sigmoid(TVector x);

    /// <summary>The sum of the lanes.</summary>
    static abstract T Sum(TVector x);
}

/// <summary><see cref="ILanes{TVector, T}"/> on <see cref="Vector512{T}"/> (AVX-512; emulated on two halves elsewhere). <c>exp</c> is <see cref="Vector512.Exp(Vector512{double})"/>.</summary>
internal readonly struct Lanes512<T> : ILanes<Vector512<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Count => Vector512<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load(ref T source, nint offset) => Vector512.LoadUnsafe(ref source, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<T> value, ref T destination, nint offset) => value.StoreUnsafe(ref destination, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Broadcast(T value) => Vector512.Create(value);

    public static Vector512<T> Zero => Vector512<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Add(Vector512<T> x, Vector512<T> y) => x + y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Multiply(Vector512<T> x, Vector512<T> y) => x * y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MultiplyAdd(Vector512<T> x, Vector512<T> y, Vector512<T> z) => typeof(T) == typeof(double)
        ? Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>()
        : Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> SigmoidSlope(Vector512<T> x) => x * (Vector512<T>.One - x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Sigmoid(Vector512<T> x)
    {
        var e = typeof(T) == typeof(double) ? Vector512.Exp((-x).AsDouble()).As<double, T>() : Vector512.Exp((-x).AsSingle()).As<float, T>();
        return Vector512<T>.One / (Vector512<T>.One + e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector512<T> x) => Vector512.Sum(x);
}

/// <summary><see cref="ILanes{TVector, T}"/> on <see cref="Vector256{T}"/> (AVX2 + FMA; emulated elsewhere). <c>exp</c> is <see cref="Vector256.Exp(Vector256{double})"/>.</summary>
internal readonly struct Lanes256<T> : ILanes<Vector256<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Count => Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load(ref T source, nint offset) => Vector256.LoadUnsafe(ref source, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<T> value, ref T destination, nint offset) => value.StoreUnsafe(ref destination, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Broadcast(T value) => Vector256.Create(value);

    public static Vector256<T> Zero => Vector256<T>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Add(Vector256<T> x, Vector256<T> y) => x + y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Multiply(Vector256<T> x, Vector256<T> y) => x * y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MultiplyAdd(Vector256<T> x, Vector256<T> y, Vector256<T> z) => typeof(T) == typeof(double)
        ? Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>()
        : Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> SigmoidSlope(Vector256<T> x) => x * (Vector256<T>.One - x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sigmoid(Vector256<T> x)
    {
        var e = typeof(T) == typeof(double) ? Vector256.Exp((-x).AsDouble()).As<double, T>() : Vector256.Exp((-x).AsSingle()).As<float, T>();
        return Vector256<T>.One / (Vector256<T>.One + e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector256<T> x) => Vector256.Sum(x);
}

/// <summary><see cref="ILanes{TVector, T}"/> one value at a time: the portable path. <c>exp</c> is <see cref="Math.Exp"/> (<see cref="MathF.Exp"/> for float).</summary>
internal readonly struct Lanes1<T> : ILanes<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Load(ref T source, nint offset) => Unsafe.Add(ref source, offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T value, ref T destination, nint offset) => Unsafe.Add(ref destination, offset) = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Broadcast(T value) => value;

    public static T Zero => T.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Add(T x, T y) => x + y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Multiply(T x, T y) => x * y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MultiplyAdd(T x, T y, T z) => T.FusedMultiplyAdd(x, y, z);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T SigmoidSlope(T x) => x * (T.One - x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sigmoid(T x) => Activations.Sigmoid(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(T x) => x;
}
