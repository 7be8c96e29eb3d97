using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// Elman network (PyTorch's <c>nn.RNN</c>): <c>h_t = f(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)</c>,
/// the hidden layer's output fed back as input at the next step.
/// </summary>
public sealed class SimpleRnn<T> : GatedRecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="inputSize">Features per step, I (2 in the numpy experiment).</param>
    /// <param name="hiddenSize">Hidden units, H (16 in the numpy experiment).</param>
    /// <param name="activation">f: <see cref="Activation.Tanh"/> (PyTorch's default), sigmoid or relu.</param>
    /// <param name="bias">Include biases (default true; the numpy experiment has none).</param>
    /// <param name="returnSequences">Every step's output (true) or the last (false, the default).</param>
    /// <param name="reverse">Walk time backwards.</param>
    public SimpleRnn(int inputSize, int hiddenSize, Activation activation = Activation.Tanh, bool bias = true, bool returnSequences = false, bool reverse = false)
        : base(inputSize, hiddenSize, ParameterShapes.ElmanGates, bias, returnSequences, reverse)
    {
        ActivationFunction = activation;
    }

    /// <summary>The non-linearity f.</summary>
    public Activation ActivationFunction { get; }

    /// <inheritdoc />
    public override LayerSpec Spec => new()
    {
        Kind = LayerKinds.Elman, InputSize = InputSize, Units = HiddenSize, Activation = ActivationFunction.Name(),
        Bias = HasBias, ReturnSequences = ReturnSequences,
    };

    /// <summary>The cell forward for batch rows <paramref name="b0"/>..<paramref name="b1"/>-1 at time <paramref name="t"/>: <c>h = f(pre)</c>.</summary>
    protected override void CellForwardRows(int time, int t, int b0, int b1)
    {
        int h = HiddenSize;
        Span<T> gates = Gates, hidden = Hidden;
        for (int b = b0; b < b1; b++)
        {
            int o = At(b, t, time, h);
            var pre = gates.Slice(o, h);
            Activations.Apply(ActivationFunction, pre);
            pre.CopyTo(hidden.Slice(o, h));
        }
    }

    /// <summary>The cell backward for batch rows <paramref name="b0"/>..<paramref name="b1"/>-1 at time <paramref name="t"/>: <c>dPre = dh ⊙ f'(h)</c>.</summary>
    protected override void CellBackwardRows(int time, int t, int b0, int b1)
    {
        int h = HiddenSize;
        Span<T> dGates = DGates, dHidden = DHidden, hidden = Hidden;
        for (int b = b0; b < b1; b++)
        {
            int o = At(b, t, time, h);
            var dPre = dGates.Slice(o, h);
            dHidden.Slice(b * h, h).CopyTo(dPre);
            Activations.MultiplyDerivative(ActivationFunction, hidden.Slice(o, h), dPre);
        }
        DHiddenNext.Slice(b0 * h, (b1 - b0) * h).Clear(); // h_(t-1) reaches h_t only through W_hh
    }
}
