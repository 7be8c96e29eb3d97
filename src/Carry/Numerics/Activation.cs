using System.Numerics;

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
    public static void Apply<T>(Activation activation, Span<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
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

    /// <summary>
    /// Multiplies <paramref name="gradient"/> in place by the activation's derivative, given the
    /// activation's <paramref name="output"/> (so nothing but the output needs caching).
    /// </summary>
    public static void MultiplyDerivative<T>(Activation activation, ReadOnlySpan<T> output, Span<T> gradient) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (activation)
        {
            case Activation.Identity:
                break;
            case Activation.Sigmoid:
                for (int i = 0; i < gradient.Length; i++) gradient[i] *= output[i] * (T.One - output[i]);
                break;
            case Activation.Tanh:
                for (int i = 0; i < gradient.Length; i++) gradient[i] *= T.One - (output[i] * output[i]);
                break;
            case Activation.Relu:
                for (int i = 0; i < gradient.Length; i++) if (output[i] <= T.Zero) gradient[i] = T.Zero;
                break;
            case Activation.HardSigmoid or Activation.HardSigmoidV3:
                for (int i = 0; i < gradient.Length; i++) gradient[i] *= Derivative(activation, output[i]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }
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
