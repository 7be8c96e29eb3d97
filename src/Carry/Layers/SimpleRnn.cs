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

    /// <inheritdoc />
    protected override void CellForward(int batch, int time, int t)
    {
        int h = HiddenSize;
        for (int b = 0; b < batch; b++)
        {
            int o = At(b, t, time, h);
            var pre = Gates.Slice(o, h);
            Activations.Apply(ActivationFunction, pre);
            pre.CopyTo(Hidden.Slice(o, h));
        }
    }

    /// <inheritdoc />
    protected override void CellBackward(int batch, int time, int t)
    {
        int h = HiddenSize;
        for (int b = 0; b < batch; b++)
        {
            int o = At(b, t, time, h);
            var dPre = DGates.Slice(o, h);
            DHidden.Slice(b * h, h).CopyTo(dPre);
            // dPre = dh ⊙ f'(h)
            Activations.MultiplyDerivative(ActivationFunction, Hidden.Slice(o, h), dPre);
        }
        DHiddenNext.Clear();
    }
}
