using System.Numerics;
using System.Runtime.InteropServices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Carry.Numerics;

/// <summary>An element-wise non-linearity.</summary>
public enum Activation
{
    /// <summary><c>f(x) = x</c>.</summary>
    Identity,
    /// <summary><c>f(x) = 1 / (1 + e^-x)</c>; <c>f' = f (1 - f)</c>.</summary>
    Sigmoid,
    /// <summary><c>f(x) = tanh x</c>; <c>f' = 1 - f²</c>.</summary>
    Tanh,
    /// <summary><c>f(x) = max(0, x)</c>; <c>f' = [f &gt; 0]</c>.</summary>
    Relu,
    /// <summary>Keras 2's <c>hard_sigmoid</c>: <c>f(x) = clip(0.2 x + 0.5, 0, 1)</c>; <c>f' = 0.2 [0 &lt; f &lt; 1]</c>.</summary>
    HardSigmoid,
    /// <summary>Keras 3's <c>hard_sigmoid</c>: <c>f(x) = clip(x / 6 + 0.5, 0, 1)</c> (<c>relu6(x + 3) / 6</c>); <c>f' = [0 &lt; f &lt; 1] / 6</c>.</summary>
    HardSigmoidV3,
}

/// <summary>Activations and their derivatives, written in terms of the activation's output.</summary>
public static class Activations
{
    /// <summary>Parses <c>identity|linear|sigmoid|tanh|relu|hard_sigmoid|hard_sigmoid_v3</c>.</summary>
    public static Activation Parse(string name) => name.ToLowerInvariant() switch
    {
        "identity" or "linear" or "none" => Activation.Identity,
        "sigmoid" => Activation.Sigmoid,
        "tanh" => Activation.Tanh,
        "relu" => Activation.Relu,
        "hard_sigmoid" => Activation.HardSigmoid,
        "hard_sigmoid_v3" => Activation.HardSigmoidV3,
        _ => throw new ArgumentException($"Unknown activation '{name}' (expected identity, sigmoid, tanh, relu, hard_sigmoid or hard_sigmoid_v3).", nameof(name)),
    };

    /// <summary>Lower-case name as used in configs and on the command line (<c>hard_sigmoid</c>, <c>hard_sigmoid_v3</c>).</summary>
    public static string Name(this Activation a) => a switch
    {
        Activation.HardSigmoid => "hard_sigmoid",
        Activation.HardSigmoidV3 => "hard_sigmoid_v3",
        _ => a.ToString().ToLowerInvariant(),
    };

    /// <summary>Keras 2's hard sigmoid, <c>clip(0.2 x + 0.5, 0, 1)</c>.</summary>
    public static T HardSigmoid<T>(T x) where T : IFloatingPointIeee754<T> => T.Clamp((T.CreateChecked(0.2) * x) + T.CreateChecked(0.5), T.Zero, T.One);

    /// <summary>Keras 3's hard sigmoid, <c>clip(x / 6 + 0.5, 0, 1)</c>.</summary>
    public static T HardSigmoidV3<T>(T x) where T : IFloatingPointIeee754<T> => T.Clamp((x / T.CreateChecked(6)) + T.CreateChecked(0.5), T.Zero, T.One);

    /// <summary>The hard sigmoids' slope inside (0, 1) and 0 where they saturate, from the output.</summary>
    private static T HardSlope<T>(T output, T slope) where T : IFloatingPointIeee754<T> => output > T.Zero && output < T.One ? slope : T.Zero;

    /// <summary>The logistic function, written as numpy's <c>1/(1+np.exp(-x))</c> so that results match digit for digit.</summary>
    public static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x));

    /// <summary>Applies <paramref name="activation"/> in place.</summary>
    /// <remarks>
    /// In <c>float</c> the work goes through <c>TensorPrimitives</c>' vector kernels, whose σ and tanh
    /// may differ from the scalar formulas in the last bit. In <c>double</c> every element takes the
    /// scalar formula (<see cref="Value{T}"/>), so that double runs reproduce numpy digit for digit.
    /// </remarks>
    public static void Apply<T>(Activation activation, Span<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            if (values.IsEmpty) return; // TensorPrimitives.Sigmoid refuses an empty span
            ApplyVectorised(activation, MemoryMarshal.Cast<T, float>(values));
            return;
        }
        switch (activation)
        {
            case Activation.Identity:
                break;
            case Activation.Sigmoid:
                for (int i = 0; i < values.Length; i++) values[i] = Sigmoid(values[i]);
                break;
            case Activation.Tanh:
                for (int i = 0; i < values.Length; i++) values[i] = T.Tanh(values[i]);
                break;
            case Activation.Relu:
                for (int i = 0; i < values.Length; i++) values[i] = T.Max(values[i], T.Zero);
                break;
            case Activation.HardSigmoid or Activation.HardSigmoidV3:
                for (int i = 0; i < values.Length; i++) values[i] = Value(activation, values[i]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }

    /// <summary><see cref="Apply{T}"/> in <c>float</c>, through <c>TensorPrimitives</c>.</summary>
    private static void ApplyVectorised(Activation activation, Span<float> values)
    {
        switch (activation)
        {
            case Activation.Identity:
                break;
            case Activation.Sigmoid:
                TensorPrimitives.Sigmoid(values, values);
                break;
            case Activation.Tanh:
                TensorPrimitives.Tanh(values, values);
                break;
            case Activation.Relu:
                TensorPrimitives.Max(values, 0f, values);
                break;
            case Activation.HardSigmoid:
                TensorPrimitives.Multiply(values, 0.2f, values);          // 0.2 x + 0.5
                TensorPrimitives.Add(values, 0.5f, values);
                Clip01(values);
                break;
            case Activation.HardSigmoidV3:
                TensorPrimitives.Divide(values, 6f, values);              // x / 6 + 0.5
                TensorPrimitives.Add(values, 0.5f, values);
                Clip01(values);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }

    /// <summary>clip(x, 0, 1) in place.</summary>
    private static void Clip01(Span<float> values)
    {
        TensorPrimitives.Max(values, 0f, values);
        TensorPrimitives.Min(values, 1f, values);
    }

    /// <summary>
    /// Multiplies <paramref name="gradient"/> in place by the activation's derivative, given the
    /// activation's <paramref name="output"/> (so nothing but the output needs caching).
    /// </summary>
    /// <remarks>The vector loop computes each element as the scalar <see cref="Derivative{T}"/> does, in the same order, so both agree bit for bit.</remarks>
    public static void MultiplyDerivative<T>(Activation activation, ReadOnlySpan<T> output, Span<T> gradient) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (activation == Activation.Identity) return;
        if (activation is < Activation.Identity or > Activation.HardSigmoidV3) throw new ArgumentOutOfRangeException(nameof(activation));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= gradient.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                (new Vector<T>(gradient[i..]) * DerivativeLanes(activation, new Vector<T>(output[i..]))).CopyTo(gradient[i..]);
            }
        }
        for (; i < gradient.Length; i++) gradient[i] *= Derivative(activation, output[i]);
    }

    /// <summary><see cref="Derivative{T}"/> of a vector of outputs, lane by lane, the same operations in the same order.</summary>
    internal static Vector<T> DerivativeLanes<T>(Activation activation, Vector<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var one = Vector<T>.One;
        return activation switch
        {
            Activation.Sigmoid => output * (one - output),
            Activation.Tanh => one - (output * output),
            Activation.Relu => Vector.ConditionalSelect(Vector.GreaterThan(output, Vector<T>.Zero), one, Vector<T>.Zero),
            Activation.HardSigmoid => HardSlopeLanes(output, T.CreateChecked(0.2)),
            Activation.HardSigmoidV3 => HardSlopeLanes(output, T.One / T.CreateChecked(6)),
            _ => one,
        };
    }

    /// <summary>The hard sigmoids' slope inside (0, 1) and 0 where they saturate, lane by lane.</summary>
    private static Vector<T> HardSlopeLanes<T>(Vector<T> output, T slope) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inside = Vector.GreaterThan(output, Vector<T>.Zero) & Vector.LessThan(output, Vector<T>.One);
        return Vector.ConditionalSelect(inside, new Vector<T>(slope), Vector<T>.Zero);
    }

    /// <summary>Derivative of the activation at one element, from its output.</summary>
    public static T Derivative<T>(Activation activation, T output) where T : IFloatingPointIeee754<T> => activation switch
    {
        Activation.Identity => T.One,
        Activation.Sigmoid => output * (T.One - output),
        Activation.Tanh => T.One - (output * output),
        Activation.Relu => output > T.Zero ? T.One : T.Zero,
        Activation.HardSigmoid => HardSlope(output, T.CreateChecked(0.2)),
        Activation.HardSigmoidV3 => HardSlope(output, T.One / T.CreateChecked(6)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>The activation at one element.</summary>
    public static T Value<T>(Activation activation, T x) where T : IFloatingPointIeee754<T> => activation switch
    {
        Activation.Identity => x,
        Activation.Sigmoid => Sigmoid(x),
        Activation.Tanh => T.Tanh(x),
        Activation.Relu => T.Max(x, T.Zero),
        Activation.HardSigmoid => HardSigmoid(x),
        Activation.HardSigmoidV3 => HardSigmoidV3(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };
}
