using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// Keras's <c>RepeatVector(n)</c>: <c>[B, F]</c> → <c>[B, n, F]</c>, the same vector at every
/// step (the bridge from an encoder's last state to a decoder's sequence). Backward sums the
/// steps' gradients.
/// </summary>
public sealed class RepeatVector<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _output; // [B, n, F]
    private Tensor<T>? _dInput; // [B, F]

    /// <param name="repeats">Steps n of the output (e.g. 5).</param>
    public RepeatVector(int repeats)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeats);
        Repeats = repeats;
    }

    /// <summary>Steps of the output, n.</summary>
    public int Repeats { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter<T>> Parameters => [];

    /// <inheritdoc />
    public override LayerSpec Spec => new() { Kind = LayerKinds.RepeatVector, Repeats = Repeats, Bias = false };

    /// <inheritdoc />
    public override int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length != 1) throw new ArgumentException($"RepeatVector expects per-sample input [features], got {Tensor<T>.ShapeText(inputShape)}.", nameof(inputShape));
        return [Repeats, inputShape[0]];
    }

    /// <inheritdoc />
    public override Tensor<T> Forward(Tensor<T> input, bool training)
    {
        Check.Rank(input, 2, nameof(input));
        Check.NonEmptyBatch(input, nameof(input));
        int batch = input.Dim(0), width = input.Dim(1);
        var output = Reuse(ref _output, batch, Repeats, width);
        for (int b = 0; b < batch; b++)
        {
            var x = input.Span.Slice(b * width, width);
            for (int t = 0; t < Repeats; t++) x.CopyTo(output.Span.Slice(((b * Repeats) + t) * width, width)); // y[b, t] = x[b]
        }
        return output;
    }

    /// <inheritdoc />
    public override Tensor<T> Backward(Tensor<T> dOutput)
    {
        if (_output is null) throw new InvalidOperationException("Backward called before Forward.");
        Check.Shape(dOutput, _output.Shape, nameof(dOutput));
        int batch = _output.Dim(0), width = _output.Dim(2);
        var dInput = Reuse(ref _dInput, batch, width);
        dInput.Fill(T.Zero);
        for (int b = 0; b < batch; b++)
        {
            var dx = dInput.Span.Slice(b * width, width);
            for (int t = 0; t < Repeats; t++) System.Numerics.Tensors.TensorPrimitives.Add(dx, dOutput.Span.Slice(((b * Repeats) + t) * width, width), dx); // dx[b] += dy[b, t]
        }
        return dInput;
    }

    /// <inheritdoc />
    public override void Initialize(Initialization scheme, RandomGenerator random)
    {
    }
}
