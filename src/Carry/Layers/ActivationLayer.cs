using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// A parameter-free activation over the last axis (Keras's <c>Activation</c> and <c>Softmax</c>
/// layers): <c>softmax</c>, <c>y_i = e^(x_i - max x) / Σ_j e^(x_j - max x)</c> over each row of the
/// last axis, or any element-wise <see cref="Activation"/>. The shape is unchanged.
/// </summary>
public sealed class ActivationLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The name that selects the softmax.</summary>
    public const string SoftmaxName = "softmax";

    private Tensor<T>? _output; // same shape as the input
    private Tensor<T>? _dInput; // same shape as the input

    /// <param name="name"><c>softmax</c>, or an element-wise activation's name (<c>sigmoid</c>, <c>tanh</c>, <c>relu</c>, <c>linear</c>, <c>hard_sigmoid</c>, ...).</param>
    /// <exception cref="ArgumentException">The name is neither.</exception>
    public ActivationLayer(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        IsSoftmax = name == SoftmaxName;
        Function = IsSoftmax ? Activation.Identity : Activations.Parse(name);
        Name = IsSoftmax ? SoftmaxName : Function.Name();
    }

    /// <summary>The activation's name as the config stores it.</summary>
    public string Name { get; }

    /// <summary>True for the softmax over the last axis.</summary>
    public bool IsSoftmax { get; }

    /// <summary>The element-wise function (unused for the softmax).</summary>
    public Activation Function { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter<T>> Parameters => [];

    /// <inheritdoc />
    public override LayerSpec Spec => new() { Kind = LayerKinds.Activation, Activation = Name, Bias = false };

    /// <inheritdoc />
    public override int[] OutputShape(ReadOnlySpan<int> inputShape) => inputShape.ToArray();

    /// <inheritdoc />
    public override Tensor<T> Forward(Tensor<T> input, bool training)
    {
        ArgumentNullException.ThrowIfNull(input);
        Check.NonEmptyBatch(input, nameof(input));
        var output = Reuse(ref _output, input.Shape);
        input.Span.CopyTo(output.Span);
        if (!IsSoftmax)
        {
            Activations.Apply(Function, output.Span);
            return output;
        }
        int width = input.Dim(-1);
        for (int r = 0; r < output.Length / width; r++)
        {
            var row = output.Span.Slice(r * width, width);
            T max = System.Numerics.Tensors.TensorPrimitives.Max<T>(row);
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, max, row); // shift by the max: e^x cannot overflow
            System.Numerics.Tensors.TensorPrimitives.Exp<T>(row, row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, System.Numerics.Tensors.TensorPrimitives.Sum<T>(row), row);
        }
        return output;
    }

    /// <inheritdoc />
    public override Tensor<T> Backward(Tensor<T> dOutput)
    {
        if (_output is null) throw new InvalidOperationException("Backward called before Forward.");
        Check.Shape(dOutput, _output.Shape, nameof(dOutput));
        var dInput = Reuse(ref _dInput, _output.Shape);
        dOutput.Span.CopyTo(dInput.Span);
        if (!IsSoftmax)
        {
            Activations.MultiplyDerivative(Function, _output.Span, dInput.Span); // dx = dy ⊙ f'(y)
            return dInput;
        }
        int width = _output.Dim(-1);
        for (int r = 0; r < _output.Length / width; r++)
        {
            // dx_i = y_i (dy_i - Σ_j dy_j y_j)   (∂y_j/∂x_i = y_j (δ_ij - y_i))
            var y = _output.Span.Slice(r * width, width);
            var dx = dInput.Span.Slice(r * width, width);
            T dot = System.Numerics.Tensors.TensorPrimitives.Dot<T>(y, dx);
            System.Numerics.Tensors.TensorPrimitives.Subtract(dx, dot, dx);
            System.Numerics.Tensors.TensorPrimitives.Multiply(dx, y, dx);
        }
        return dInput;
    }

    /// <inheritdoc />
    public override void Initialize(Initialization scheme, RandomGenerator random)
    {
    }
}
