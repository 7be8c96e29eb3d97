using System.Numerics;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Analysis;

/// <summary>
/// The abstract step of an <see cref="AdderNetwork{T}"/> over boxes: given a box of states (an
/// interval per state number) and a symbol, a box that holds the next state and an interval that
/// holds the output, for every state in the input box — both as a real-valued function and as the
/// network computes it in its own precision.
/// </summary>
/// <remarks>
/// Soundness, step by step:
/// <list type="bullet">
/// <item>Weights are read exactly (a float widens to a double without error).</item>
/// <item>Each pre-activation <c>Σ w_i x_i + b</c> is enclosed with outward-rounded interval
/// arithmetic (<see cref="Interval"/>), then widened by Higham's bound on the rounding error of
/// any float or double evaluation order of an n-term sum of products, <c>γ_n Σ |w_i| |x_i|</c> with
/// <c>γ_n = n·u / (1 − n·u)</c> (<i>Accuracy and Stability of Numerical Algorithms</i>, §3.1), u the
/// unit roundoff of the model's precision (2⁻²⁴ float, 2⁻⁵³ double): whatever order the GEMM
/// kernels add in, with or without FMA, the computed value lies in the widened interval.</item>
/// <item>Sigmoid and tanh are monotone, so <c>[f(lo), f(hi)]</c> encloses f on the interval; the
/// bounds are moved out by <see cref="Interval.LibraryError"/> and, for float models, by
/// <see cref="FloatActivationError"/> (relative) and <see cref="FloatActivationAbsolute"/> for the error of the float implementations the layers call
/// (MathF and TensorPrimitives; an assumption, checked by a test over a dense sweep).</item>
/// <item>Every element-wise product and sum the cell forms in its precision is widened by 2u of its magnitude.</item>
/// </list>
/// So if every real state of a box lies in it, every state the network computes from it lies in
/// the next box, whatever the rounding.
/// </remarks>
public sealed class IntervalNetwork
{
    /// <summary>Relative error assumed for the float activations (MathF.Exp, MathF.Tanh, TensorPrimitives.Sigmoid/Tanh): 2⁻¹⁸, about 64 ulps.</summary>
    public const double FloatActivationError = 1.0 / (1 << 18);

    /// <summary>Absolute error assumed for the float activations on top of the relative one: 2⁻²⁰ (TensorPrimitives.Tanh computes tanh from exponentials and loses relative accuracy near 0).</summary>
    public const double FloatActivationAbsolute = 1.0 / (1 << 20);

    private readonly LayerWeights[] _layers;
    private readonly double[] _outWeight; // [H_last]
    private readonly double _outBias;
    private readonly Activation _outActivation;
    private readonly double _u;           // unit roundoff of the model's precision
    private readonly double _activationError;
    private readonly double _tiny;        // absolute error allowed for underflow: below the precision's smallest normal number

    /// <summary>Reads the weights of <paramref name="network"/>; throws <see cref="NotSupportedException"/> for a layer it cannot bound.</summary>
    public static IntervalNetwork Create<T>(AdderNetwork<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        var layers = network.Recurrent.Select((l, i) => LayerWeights.From(l, network.StateOffset(i))).ToArray();
        var dense = network.Output;
        bool single = typeof(T) == typeof(float);
        return new IntervalNetwork(layers, ToDouble(dense.Weight.Value.Span), dense.Bias is null ? 0 : double.CreateChecked(dense.Bias.Value.Span[0]),
            dense.ActivationFunction, single ? 1.0 / (1 << 24) : 1.0 / (1L << 53), single ? FloatActivationError : 0, network.StateSize);
    }

    private IntervalNetwork(LayerWeights[] layers, double[] outWeight, double outBias, Activation outActivation, double u, double activationError, int stateSize)
    {
        _layers = layers;
        _outWeight = outWeight;
        _outBias = outBias;
        _outActivation = outActivation;
        _u = u;
        _activationError = activationError;
        _tiny = u > 1e-10 ? 1e-37 : 1e-300;
        StateSize = stateSize;
    }

    /// <summary>Numbers per state, S.</summary>
    public int StateSize { get; }

    /// <summary>Lowest and highest value each state number can take, from the cells' activations (tanh, sigmoid: bounded; LSTM cells and relu: unbounded).</summary>
    public Interval[] Range()
    {
        var range = new Interval[StateSize];
        foreach (var layer in _layers) layer.Range(range);
        return range;
    }

    /// <summary>
    /// The box after <paramref name="symbol"/> from <paramref name="state"/> <c>[S]</c> into
    /// <paramref name="next"/> <c>[S]</c>; returns the interval of the output.
    /// </summary>
    public Interval Step(ReadOnlySpan<Interval> state, int symbol, Span<Interval> next)
    {
        Span<Interval> x = stackalloc Interval[2];
        x[0] = Interval.Point(AdderNetwork<float>.BitA(symbol));
        x[1] = Interval.Point(AdderNetwork<float>.BitB(symbol));
        Interval[] input = x.ToArray();
        foreach (var layer in _layers) input = layer.Step(this, input, state, next);
        var y = Affine(_outWeight, 0, input, null, 0, [], _outBias, 0);
        return Activate(_outActivation, y);
    }

    /// <summary>
    /// <c>Σ_i W[row, i] x_i + Σ_k R[row, k] h_k + b1 + b2</c> enclosed, with the rounding error of
    /// computing it in the model's precision (γ_n, n = terms).
    /// </summary>
    internal Interval Affine(double[] w, int row, ReadOnlySpan<Interval> x, double[]? r, int rRow, ReadOnlySpan<Interval> h, double b1, double b2)
    {
        var sum = Interval.Point(b1) + Interval.Point(b2);
        double magnitude = Math.Abs(b1) + Math.Abs(b2);
        for (int i = 0; i < x.Length; i++)
        {
            double wi = w[(row * x.Length) + i];
            sum += Interval.Scale(wi, x[i]);
            magnitude += Math.Abs(wi) * x[i].Magnitude;
        }
        for (int k = 0; k < h.Length && r is not null; k++)
        {
            double rk = r[(rRow * h.Length) + k];
            sum += Interval.Scale(rk, h[k]);
            magnitude += Math.Abs(rk) * h[k].Magnitude;
        }
        int n = x.Length + h.Length + 2;
        double gamma = n * _u / (1 - (n * _u));
        return sum.Widen(0, Math.BitIncrement(Math.BitIncrement(gamma * magnitude) * (1 + (4 * Interval.MachineEpsilon))) + _tiny);
    }

    /// <summary>The activation, with the library's error in this precision.</summary>
    internal Interval Activate(Activation activation, Interval x)
    {
        var y = Interval.Apply(activation, x);
        return _activationError == 0 || activation is Activation.Identity or Activation.Relu ? y : Clip(y.Widen(_activationError, FloatActivationAbsolute), activation);
    }

    /// <summary>
    /// An element-wise result the cell computes in its precision: one rounding (2u of its
    /// magnitude), plus 4u of <paramref name="terms"/> where the result is formed from terms of
    /// that total magnitude with roundings of their own.
    /// </summary>
    internal Interval Rounded(Interval x, double terms = 0) => x.Widen(2 * _u, (4 * _u * terms) + _tiny);

    private static Interval Clip(Interval y, Activation activation) => activation switch
    {
        Activation.Sigmoid => new(Math.Max(y.Lo, 0), Math.Min(y.Hi, 1)),
        Activation.Tanh => new(Math.Max(y.Lo, -1), Math.Min(y.Hi, 1)),
        _ => y,
    };

    internal static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = double.CreateChecked(values[i]);
        return result;
    }
}
