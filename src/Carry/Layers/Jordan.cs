using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// Jordan network: the previous step's <em>output</em>, not its hidden layer, is fed back.
/// It owns its output layer:
/// <code>
/// h_t = f(W_ih x_t + W_yh y_(t-1) + b_h)       weight_ih [H, I], weight_yh [H, O], bias_h [H]
/// y_t = g(W_hy h_t + b_y)                      weight_hy [O, H], bias_y [O]
/// </code>
/// The carried state is <c>y_(t-1) [B, O]</c>. PyTorch has no twin; the names are Carry's own,
/// in PyTorch's <c>[out, in]</c> layout.
/// </summary>
public sealed class Jordan<T> : RecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private Tensor<T>? _input;     // [B, T, I]
    private Tensor<T>? _hidden;    // [B, T, H] h_t
    private Tensor<T>? _outputs;   // [B, T, O] y_t
    private Tensor<T>? _outPrev;   // [B, T, O] y_(t-1) in processing order
    private Tensor<T>? _zero, _last, _final; // [B, O]
    private Tensor<T>? _dOutPre;   // [B, T, O]
    private Tensor<T>? _dHidPre;   // [B, T, H]
    private Tensor<T>? _dYNext;    // [B, O]
    private Tensor<T>? _dInput;    // [B, T, I]
    private RecurrentState<T>? _finalState, _dInitialState; // reused result records

    /// <param name="inputSize">Features per step, I.</param>
    /// <param name="hiddenSize">Hidden units, H.</param>
    /// <param name="outputSize">Outputs per step, O (fed back).</param>
    /// <param name="activation">Hidden non-linearity f (default tanh).</param>
    /// <param name="outputActivation">Output non-linearity g (default sigmoid).</param>
    /// <param name="bias">Include <c>bias_h</c> and <c>bias_y</c> (default true).</param>
    /// <param name="returnSequences">Every step's output (true) or the last (false, the default).</param>
    /// <param name="reverse">Walk time backwards.</param>
    public Jordan(int inputSize, int hiddenSize, int outputSize, Activation activation = Activation.Tanh,
        Activation outputActivation = Activation.Sigmoid, bool bias = true, bool returnSequences = false, bool reverse = false)
        : base(inputSize, returnSequences, reverse)
    {
        _parameters = Parameter<T>.All(ParameterShapes.Jordan(inputSize, hiddenSize, outputSize, bias, reverse));
        HiddenSize = hiddenSize;
        OutputUnits = outputSize;
        ActivationFunction = activation;
        OutputActivation = outputActivation;
        WeightIh = _parameters[0];
        WeightYh = _parameters[1];
        BiasH = bias ? _parameters[2] : null;
        WeightHy = _parameters[bias ? 3 : 2];
        BiasY = bias ? _parameters[4] : null;
    }

    /// <summary>Hidden units, H.</summary>
    public int HiddenSize { get; }

    /// <summary>Outputs per step, O (fed back as the state).</summary>
    public int OutputUnits { get; }

    /// <summary>Hidden non-linearity f.</summary>
    public Activation ActivationFunction { get; }

    /// <summary>Output non-linearity g.</summary>
    public Activation OutputActivation { get; }

    /// <summary><c>weight_ih_l0 [H, I]</c>.</summary>
    public Parameter<T> WeightIh { get; }

    /// <summary><c>weight_yh_l0 [H, O]</c>: the previous output into the hidden layer.</summary>
    public Parameter<T> WeightYh { get; }

    /// <summary><c>weight_hy_l0 [O, H]</c>: the hidden layer into the output.</summary>
    public Parameter<T> WeightHy { get; }

    /// <summary><c>bias_h_l0 [H]</c>, or null without bias.</summary>
    public Parameter<T>? BiasH { get; }

    /// <summary><c>bias_y_l0 [O]</c>, or null without bias.</summary>
    public Parameter<T>? BiasY { get; }

    // Tracing: Carry.Analysis.StateTrace reads what the last Forward left in these caches; nothing here writes.

    /// <summary>h_t of the last Forward <c>[B, T, H]</c>, indexed by time; null before the first.</summary>
    internal Tensor<T>? TracedHidden => _hidden;

    /// <summary>y_t of the last Forward <c>[B, T, O]</c> (the state fed back), indexed by time; null before the first.</summary>
    internal Tensor<T>? TracedOutputs => _outputs;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc />
    public override int OutputSize => OutputUnits;

    /// <inheritdoc />
    public override int StateSize => OutputUnits;

    /// <inheritdoc />
    public override LayerSpec Spec => new()
    {
        Kind = LayerKinds.Jordan, InputSize = InputSize, Units = HiddenSize, OutputSize = OutputUnits,
        Activation = ActivationFunction.Name(), OutputActivation = OutputActivation.Name(), Bias = BiasH is not null, ReturnSequences = ReturnSequences,
    };

    /// <inheritdoc />
    public override RecurrentOutput<T> Forward(Tensor<T> input, RecurrentState<T>? initialState, bool training)
    {
        var (batch, time) = CheckInput(input);
        int h = HiddenSize, o = OutputUnits, inSize = InputSize;
        CheckState(initialState?.Hidden, batch, o, "initialState.Hidden");
        _input = input;
        var hidden = Reuse(ref _hidden, batch, time, h);
        var outputs = Reuse(ref _outputs, batch, time, o);
        var outPrev = Reuse(ref _outPrev, batch, time, o);
        var zero = Reuse(ref _zero, batch, o);
        zero.Fill(T.Zero);
        // hidden = X·W_ihᵀ + b_h for every step at once   [B*T, H]
        Gemm.Multiply(Compute, false, true, batch * time, h, inSize, input.Span, inSize, WeightIh.Value.Span, inSize, hidden.Span, h, accumulate: false);
        if (BiasH is not null) AddBiasRows(hidden.Span, BiasH.Value.Span, batch * time);
        ReadOnlySpan<T> y0 = (initialState?.Hidden ?? zero).Span;
        int tPrev = -1;
        for (int s = 0; s < time; s++)
        {
            int t = Reverse ? time - 1 - s : s;
            for (int b = 0; b < batch; b++)
            {
                (tPrev < 0 ? y0.Slice(b * o, o) : outputs.Span.Slice(((b * time) + tPrev) * o, o)).CopyTo(outPrev.Span.Slice(((b * time) + t) * o, o));
            }
            var hStep = hidden.Span.Slice(t * h);
            var yStep = outputs.Span.Slice(t * o);
            // h_t = f(... + y_(t-1)·W_yhᵀ)   [B, O]·[O, H]
            Gemm.Multiply(Compute, false, true, batch, h, o, outPrev.Span.Slice(t * o), time * o, WeightYh.Value.Span, o, hStep, time * h, accumulate: true);
            for (int b = 0; b < batch; b++) Activations.Apply(ActivationFunction, hStep.Slice(b * time * h, h));
            // y_t = g(h_t·W_hyᵀ + b_y)   [B, H]·[H, O]
            Gemm.Multiply(Compute, false, true, batch, o, h, hStep, time * h, WeightHy.Value.Span, h, yStep, time * o, accumulate: false);
            for (int b = 0; b < batch; b++)
            {
                var row = yStep.Slice(b * time * o, o);
                if (BiasY is not null) System.Numerics.Tensors.TensorPrimitives.Add(row, BiasY.Value.Span, row);
                Activations.Apply(OutputActivation, row);
            }
            tPrev = t;
        }
        var final = Reuse(ref _final, batch, o);
        for (int b = 0; b < batch; b++) outputs.Span.Slice(((b * time) + tPrev) * o, o).CopyTo(final.Span.Slice(b * o, o));
        Tensor<T> output = outputs;
        if (!ReturnSequences)
        {
            output = Reuse(ref _last, batch, o);
            final.Span.CopyTo(output.Span);
        }
        return new RecurrentOutput<T>(output, ReuseState(ref _finalState, final, null));
    }

    /// <inheritdoc />
    public override RecurrentGradient<T> Backward(Tensor<T> dOutput, RecurrentState<T>? dFinalState)
    {
        if (_input is null) throw new InvalidOperationException("Backward called before Forward.");
        int batch = _input.Dim(0), time = _input.Dim(1), h = HiddenSize, o = OutputUnits, inSize = InputSize;
        CheckDOutput(dOutput, batch, time);
        CheckState(dFinalState?.Hidden, batch, o, "dFinalState.Hidden");
        var dOutPre = Reuse(ref _dOutPre, batch, time, o);
        var dHidPre = Reuse(ref _dHidPre, batch, time, h);
        var dYNext = Reuse(ref _dYNext, batch, o);
        if (dFinalState is not null) dFinalState.Hidden.Span.CopyTo(dYNext.Span); else dYNext.Fill(T.Zero);
        if (!ReturnSequences) System.Numerics.Tensors.TensorPrimitives.Add(dYNext.Span, dOutput.Span, dYNext.Span);
        var hidden = _hidden!.Span;
        var outputs = _outputs!.Span;
        for (int s = time - 1; s >= 0; s--)
        {
            int t = Reverse ? time - 1 - s : s;
            for (int b = 0; b < batch; b++)
            {
                var dst = dOutPre.Span.Slice(((b * time) + t) * o, o);
                if (ReturnSequences) System.Numerics.Tensors.TensorPrimitives.Add(dOutput.Span.Slice(((b * time) + t) * o, o), dYNext.Span.Slice(b * o, o), dst);
                else dYNext.Span.Slice(b * o, o).CopyTo(dst);
                Activations.MultiplyDerivative(OutputActivation, outputs.Slice(((b * time) + t) * o, o), dst); // dy ⊙ g'(y)
            }
            // dh_t = dyPre·W_hy   [B, O]·[O, H], then ⊙ f'(h)
            var dHStep = dHidPre.Span.Slice(t * h);
            Gemm.Multiply(Compute, false, false, batch, h, o, dOutPre.Span.Slice(t * o), time * o, WeightHy.Value.Span, h, dHStep, time * h, accumulate: false);
            for (int b = 0; b < batch; b++)
            {
                int off = ((b * time) + t) * h;
                Activations.MultiplyDerivative(ActivationFunction, hidden.Slice(off, h), dHidPre.Span.Slice(off, h));
            }
            // dy_(t-1) = dhPre·W_yh   [B, H]·[H, O]
            Gemm.Multiply(Compute, false, false, batch, o, h, dHStep, time * h, WeightYh.Value.Span, o, dYNext.Span, o, accumulate: false);
        }
        Gemm.Multiply(Compute, true, false, o, h, batch * time, dOutPre.Span, o, hidden, h, WeightHy.Gradient.Span, h, accumulate: true);
        Gemm.Multiply(Compute, true, false, h, inSize, batch * time, dHidPre.Span, h, _input.Span, inSize, WeightIh.Gradient.Span, inSize, accumulate: true);
        Gemm.Multiply(Compute, true, false, h, o, batch * time, dHidPre.Span, h, _outPrev!.Span, o, WeightYh.Gradient.Span, o, accumulate: true);
        if (BiasH is not null)
        {
            AccumulateColumnSums(dHidPre.Span, BiasH.Gradient.Span, batch * time);
            AccumulateColumnSums(dOutPre.Span, BiasY!.Gradient.Span, batch * time);
        }
        var dInput = Reuse(ref _dInput, batch, time, inSize);
        Gemm.Multiply(Compute, false, false, batch * time, inSize, h, dHidPre.Span, h, WeightIh.Value.Span, inSize, dInput.Span, inSize, accumulate: false);
        return new RecurrentGradient<T>(dInput, ReuseState(ref _dInitialState, dYNext, null));
    }

    /// <inheritdoc />
    public override void Initialize(Initialization scheme, RandomGenerator random)
    {
        if (scheme == Initialization.PyTorch)
        {
            double bh = 1.0 / Math.Sqrt(HiddenSize);
            FillUniform(WeightIh.Value.Span, bh, random);
            FillUniform(WeightYh.Value.Span, bh, random);
            if (BiasH is not null) FillUniform(BiasH.Value.Span, bh, random);
            double bo = 1.0 / Math.Sqrt(HiddenSize);
            FillUniform(WeightHy.Value.Span, bo, random);
            if (BiasY is not null) FillUniform(BiasY.Value.Span, bo, random);
            return;
        }
        FillUniform(WeightIh.Value.Span, Math.Sqrt(6.0 / (InputSize + HiddenSize)), random);
        FillOrthogonal(WeightYh.Value.Span, HiddenSize, OutputUnits, random);
        FillUniform(WeightHy.Value.Span, Math.Sqrt(6.0 / (HiddenSize + OutputUnits)), random);
        BiasH?.Value.Fill(T.Zero);
        BiasY?.Value.Fill(T.Zero);
    }
}
