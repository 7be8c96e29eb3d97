using Carry.Numerics;

namespace Carry.Analysis;

/// <summary>
/// A closed interval <c>[Lo, Hi]</c> of reals with outward-rounded arithmetic: every operation
/// computes its bounds in double (round to nearest), then moves the lower bound down and the upper
/// bound up by at least the rounding error (<see cref="Math.BitDecrement"/> /
/// <see cref="Math.BitIncrement"/>, more where a library function may err by more than half an ulp),
/// so the true result of the operation on any reals inside the operands lies inside the result.
/// Monotone functions (sigmoid, tanh, relu) are enclosed by their values at the endpoints.
/// </summary>
public readonly record struct Interval(double Lo, double Hi)
{
    /// <summary>The single point <paramref name="x"/> (exact: a double is its own enclosure).</summary>
    public static Interval Point(double x) => new(x, x);

    /// <summary>Width, Hi − Lo.</summary>
    public double Width => Hi - Lo;

    /// <summary>Largest magnitude in the interval.</summary>
    public double Magnitude => Math.Max(Math.Abs(Lo), Math.Abs(Hi));

    /// <summary>True when <paramref name="x"/> lies inside.</summary>
    public bool Contains(double x) => Lo <= x && x <= Hi;

    /// <summary>Sum, rounded outward.</summary>
    public static Interval operator +(Interval a, Interval b) => new(Math.BitDecrement(a.Lo + b.Lo), Math.BitIncrement(a.Hi + b.Hi));

    /// <summary>Difference, rounded outward.</summary>
    public static Interval operator -(Interval a, Interval b) => new(Math.BitDecrement(a.Lo - b.Hi), Math.BitIncrement(a.Hi - b.Lo));

    /// <summary>Product, rounded outward: the extremes of the four endpoint products.</summary>
    public static Interval operator *(Interval a, Interval b)
    {
        double p1 = a.Lo * b.Lo, p2 = a.Lo * b.Hi, p3 = a.Hi * b.Lo, p4 = a.Hi * b.Hi;
        return new(Math.BitDecrement(Math.Min(Math.Min(p1, p2), Math.Min(p3, p4))), Math.BitIncrement(Math.Max(Math.Max(p1, p2), Math.Max(p3, p4))));
    }

    /// <summary>An exact scalar times an interval, rounded outward.</summary>
    public static Interval Scale(double w, Interval x) => w >= 0
        ? new(Math.BitDecrement(w * x.Lo), Math.BitIncrement(w * x.Hi))
        : new(Math.BitDecrement(w * x.Hi), Math.BitIncrement(w * x.Lo));

    /// <summary>The smallest interval holding both.</summary>
    public static Interval Hull(Interval a, Interval b) => new(Math.Min(a.Lo, b.Lo), Math.Max(a.Hi, b.Hi));

    /// <summary>
    /// Widened by <paramref name="relative"/> of its magnitude plus <paramref name="absolute"/> on
    /// each side: the enclosure of a value computed with that much rounding error.
    /// </summary>
    public Interval Widen(double relative, double absolute = 0)
    {
        double e = Math.BitIncrement((relative * Magnitude) + absolute);
        return new(Math.BitDecrement(Lo - e), Math.BitIncrement(Hi + e));
    }

    /// <summary>
    /// The activation over the interval, by monotonicity: <c>[f(Lo), f(Hi)]</c>, each bound moved
    /// out by <see cref="LibraryError"/> (Math.Exp and Math.Tanh err by under an ulp; sigmoid adds
    /// a sum and a quotient), then clipped to the function's range.
    /// </summary>
    public static Interval Apply(Activation activation, Interval x) => activation switch
    {
        Activation.Identity => x,
        Activation.Relu => new(Math.Max(x.Lo, 0), Math.Max(x.Hi, 0)),
        Activation.Sigmoid => Clip(new Interval(Activations.Sigmoid(x.Lo), Activations.Sigmoid(x.Hi)).Widen(LibraryError, 1e-300), 0, 1),
        Activation.Tanh => Clip(new Interval(Math.Tanh(x.Lo), Math.Tanh(x.Hi)).Widen(LibraryError, 1e-300), -1, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>The gap between 1 and the next double, 2⁻⁵² (not <see cref="double.Epsilon"/>, the smallest subnormal).</summary>
    public const double MachineEpsilon = 1.0 / (1L << 52);

    /// <summary>Relative error allowed for a double sigmoid or tanh from the runtime's math library: 16 ulps, several times what they err by.</summary>
    public const double LibraryError = 1.0 / (1L << 48);

    private static Interval Clip(Interval x, double low, double high) => new(Math.Clamp(x.Lo, low, high), Math.Clamp(x.Hi, low, high));
}
