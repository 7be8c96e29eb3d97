using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// Fully connected layer (PyTorch's <c>nn.Linear</c> followed by an activation, as Keras's
/// <c>Dense(units, activation)</c>): <c>y = f(x Wᵀ + b)</c>. Applied to the last axis, so a
/// <c>[B, T, in]</c> sequence gives <c>[B, T, out]</c>, step by step.
/// </summary>
public sealed class Dense<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private Tensor<T>? _input;   // [N, in] cached reference (N = all leading dims)
    private Tensor<T>? _output;  // [..., out]
    private Tensor<T>? _dPre;    // [N, out] (not for the identity: dOutput is read as it is)
    private Tensor<T>? _dInput;  // [..., in]

    /// <param name="inputSize">Input features (e.g. 256).</param>
    /// <param name="outputSize">Output features (e.g. 9).</param>
    /// <param name="activation">f (default identity).</param>
    /// <param name="bias">Include <c>bias [out]</c> (default true).</param>
    public Dense(int inputSize, int outputSize, Activation activation = Activation.Identity, bool bias = true)
    {
        _parameters = Parameter<T>.All(ParameterShapes.Dense(inputSize, outputSize, bias));
        InputSize = inputSize;
        OutputSize = outputSize;
        ActivationFunction = activation;
        Weight = _parameters[0];
        Bias = bias ? _parameters[1] : null;
    }

    /// <summary>Input features.</summary>
    public int InputSize { get; }

    /// <summary>Output features.</summary>
    public int OutputSize { get; }

    /// <summary>The activation f.</summary>
    public Activation ActivationFunction { get; }

    /// <summary><c>weight [out, in]</c>.</summary>
    public Parameter<T> Weight { get; }

    /// <summary><c>bias [out]</c>, or null.</summary>
    public Parameter<T>? Bias { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc />
    public override LayerSpec Spec => new()
    {
        Kind = LayerKinds.Dense, InputSize = InputSize, Units = OutputSize, Activation = ActivationFunction.Name(), Bias = Bias is not null,
    };

    /// <inheritdoc />
    public override int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length == 0 || inputShape[^1] != InputSize)
        {
            throw new ArgumentException($"Dense expects per-sample input [..., {InputSize}], got {Tensor<T>.ShapeText(inputShape)}.", nameof(inputShape));
        }
        int[] shape = inputShape.ToArray();
        shape[^1] = OutputSize;
        return shape;
    }

    /// <inheritdoc />
    public override Tensor<T> Forward(Tensor<T> input, bool training)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2 || input.Dim(-1) != InputSize)
        {
            throw new ArgumentException($"input must be [batch, ..., {InputSize}], but has shape {input.ShapeString}.", nameof(input));
        }
        Check.NonEmptyBatch(input, nameof(input));
        int rows = input.Length / InputSize;
        Span<int> shape = stackalloc int[input.Rank];
        input.Shape.CopyTo(shape);
        shape[^1] = OutputSize;
        var output = Reuse(ref _output, shape);
        _input = input;
        // output = input · Wᵀ + b   [N, out]
        Gemm.Multiply(Compute, false, true, rows, OutputSize, InputSize, input.Span, InputSize, Weight.Value.Span, InputSize, output.Span, OutputSize, accumulate: false);
        if (Bias is not null) AddBiasRows(output.Span, Bias.Value.Span, rows);
        Activations.Apply(ActivationFunction, output.Span);
        return output;
    }

    /// <inheritdoc />
    public override Tensor<T> Backward(Tensor<T> dOutput)
    {
        if (_input is null || _output is null) throw new InvalidOperationException("Backward called before Forward.");
        Check.Shape(dOutput, _output.Shape, nameof(dOutput));
        int rows = _input.Length / InputSize;
        // dPre = dy ⊙ f'(y); for the identity that is dy itself, read in place (no copy of, say, 6,054 logits a row).
        var dPre = dOutput;
        if (ActivationFunction != Activation.Identity)
        {
            dPre = Reuse(ref _dPre, rows, OutputSize);
            dOutput.Span.CopyTo(dPre.Span);
            Activations.MultiplyDerivative(ActivationFunction, _output.Span, dPre.Span);
        }
        // dW += dPreᵀ · x   [out, N]·[N, in];  db += Σ_rows dPre;  dx = dPre · W   [N, out]·[out, in]
        Gemm.Multiply(Compute, true, false, OutputSize, InputSize, rows, dPre.Span, OutputSize, _input.Span, InputSize, Weight.Gradient.Span, InputSize, accumulate: true);
        if (Bias is not null) AccumulateColumnSums(dPre.Span, Bias.Gradient.Span, rows);
        var dInput = Reuse(ref _dInput, _input.Shape);
        if (InputGradientNeeded) Gemm.Multiply(Compute, false, false, rows, InputSize, OutputSize, dPre.Span, OutputSize, Weight.Value.Span, InputSize, dInput.Span, InputSize, accumulate: false);
        return dInput;
    }

    /// <inheritdoc />
    public override void Initialize(Initialization scheme, RandomGenerator random)
    {
        if (scheme == Initialization.PyTorch)
        {
            // nn.Linear: kaiming_uniform(a=√5) gives U(-1/√in, 1/√in) for the weight; the bias likewise.
            double bound = 1.0 / Math.Sqrt(InputSize);
            FillUniform(Weight.Value.Span, bound, random);
            if (Bias is not null) FillUniform(Bias.Value.Span, bound, random);
        }
        else
        {
            FillUniform(Weight.Value.Span, Math.Sqrt(6.0 / (InputSize + OutputSize)), random); // glorot_uniform
            Bias?.Value.Fill(T.Zero);
        }
    }
}
