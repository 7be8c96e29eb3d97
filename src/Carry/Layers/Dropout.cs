using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// Inverted dropout: in training each element is zeroed with probability <see cref="Rate"/> and
/// the survivors scaled by <c>1/(1-rate)</c>, so the expectation is unchanged; outside training
/// it is the identity. The mask comes from a generator seeded by <c>seed</c>, so the same seed
/// repeats the same masks.
/// </summary>
public sealed class Dropout<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly RandomGenerator _random;
    private Tensor<T>? _mask;    // same shape as input: 0 or 1/(1-rate)
    private Tensor<T>? _output;
    private Tensor<T>? _dInput;
    private bool _trainingPass;

    /// <param name="rate">Probability of dropping an element, in [0, 1) (0.2 in the Keras experiment).</param>
    /// <param name="seed">Seed of the mask generator (default 0).</param>
    public Dropout(double rate, ulong seed = 0)
    {
        if (!(rate >= 0.0 && rate < 1.0)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "Dropout rate must be in [0, 1).");
        Rate = rate;
        Seed = seed;
        _random = new RandomGenerator(seed);
    }

    /// <summary>Drop probability.</summary>
    public double Rate { get; }

    /// <summary>The seed the mask generator started from.</summary>
    public ulong Seed { get; }

    /// <summary>The mask generator (its state goes into checkpoints).</summary>
    public RandomGenerator Random => _random;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter<T>> Parameters => [];

    /// <inheritdoc />
    public override LayerSpec Spec => new() { Kind = LayerKinds.Dropout, Rate = Rate, Seed = Seed };

    /// <inheritdoc />
    public override int[] OutputShape(ReadOnlySpan<int> inputShape) => inputShape.ToArray();

    /// <inheritdoc />
    public override Tensor<T> Forward(Tensor<T> input, bool training)
    {
        ArgumentNullException.ThrowIfNull(input);
        _trainingPass = training && Rate > 0.0;
        if (!_trainingPass) return input;
        var mask = Reuse(ref _mask, input.Shape);
        var output = Reuse(ref _output, input.Shape);
        T scale = T.One / (T.One - T.CreateChecked(Rate));
        var m = mask.Span;
        for (int i = 0; i < m.Length; i++) m[i] = _random.NextDouble() < Rate ? T.Zero : scale;
        System.Numerics.Tensors.TensorPrimitives.Multiply(input.Span, m, output.Span);
        return output;
    }

    /// <inheritdoc />
    public override Tensor<T> Backward(Tensor<T> dOutput)
    {
        ArgumentNullException.ThrowIfNull(dOutput);
        if (!_trainingPass) return dOutput;
        Check.Shape(dOutput, _mask!.Shape, nameof(dOutput));
        var dInput = Reuse(ref _dInput, dOutput.Shape);
        System.Numerics.Tensors.TensorPrimitives.Multiply(dOutput.Span, _mask.Span, dInput.Span);
        return dInput;
    }

    /// <inheritdoc />
    public override void Initialize(Initialization scheme, RandomGenerator random)
    {
    }
}
