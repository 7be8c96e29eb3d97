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
    private Tensor<T>? _y0;        // [B, O] y_(-1), during Forward
    private Tensor<T>? _dOutput;   // during Backward
    // The weights packed once per pass for the step products (PackedMatrix ignores them where the kernel does not run).
    private readonly PackedMatrix<T> _packedYhT = new(), _packedHyT = new(), _packedHy = new(), _packedYh = new();

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
        _y0 = initialState?.Hidden ?? zero;
        bool product = PackStepWeights(batch, forward: true);
        if (!(product && RunShards(batch, time, backward: false))) ForwardWalk(time, 0, batch, null);
        _y0 = null;
        int tPrev = Reverse ? 0 : time - 1;
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

    /// <summary>
    /// Packs the two step products' weights for this pass (forward: W_yhᵀ and W_hyᵀ; backward: W_hy
    /// and W_yh) where the products reach the kernel; true when both do with more than one column
    /// each, so that the walk may also run in shards of rows.
    /// </summary>
    private bool PackStepWeights(int batch, bool forward)
    {
        int h = HiddenSize, o = OutputUnits;
        bool kernel = Gemm.ReachesKernel<T>(Compute, batch, h, o);
        var path = Compute.GemmPath;
        var yh = forward ? _packedYhT : _packedYh;
        var hy = forward ? _packedHyT : _packedHy;
        if (!kernel)
        {
            yh.Invalidate();
            hy.Invalidate();
            return false;
        }
        if (forward)
        {
            yh.Pack(path, true, o, h, WeightYh.Value.Span, o);  // y·W_yhᵀ: op(B) [O, H]
            hy.Pack(path, true, h, o, WeightHy.Value.Span, h);  // h·W_hyᵀ: op(B) [H, O]
        }
        else
        {
            hy.Pack(path, false, o, h, WeightHy.Value.Span, h); // dyPre·W_hy: B [O, H]
            yh.Pack(path, false, h, o, WeightYh.Value.Span, o); // dhPre·W_yh: B [H, O]
        }
        return h > 1 && o > 1;
    }

    /// <inheritdoc />
    private protected override void WalkRows(bool backward, int time, int b0, int b1, ComputeContext.Scratch scratch)
    {
        if (backward) BackwardWalk(time, b0, b1, scratch);
        else ForwardWalk(time, b0, b1, scratch);
    }

    /// <summary>
    /// Batch rows <paramref name="b0"/>..<paramref name="b1"/>-1 through every step: y_(t-1) kept,
    /// <c>h_t = f(... + y_(t-1)·W_yhᵀ)</c>, <c>y_t = g(h_t·W_hyᵀ + b_y)</c>; the products split across
    /// the context's threads, or on this thread with <paramref name="scratch"/> (a shard).
    /// </summary>
    private void ForwardWalk(int time, int b0, int b1, ComputeContext.Scratch? scratch)
    {
        int h = HiddenSize, o = OutputUnits, rows = b1 - b0;
        Span<T> hidden = _hidden!.Span, outputs = _outputs!.Span, outPrev = _outPrev!.Span;
        ReadOnlySpan<T> y0 = _y0!.Span;
        int tPrev = -1;
        for (int s = 0; s < time; s++)
        {
            int t = Reverse ? time - 1 - s : s;
            for (int b = b0; b < b1; b++)
            {
                (tPrev < 0 ? y0.Slice(b * o, o) : outputs.Slice(At(b, tPrev, time, o), o)).CopyTo(outPrev.Slice(At(b, t, time, o), o));
            }
            var hStep = hidden[At(b0, t, time, h)..];
            var yStep = outputs[At(b0, t, time, o)..];
            // h_t = f(... + y_(t-1)·W_yhᵀ)   [B, O]·[O, H]
            Gemm.MultiplyRows(Compute, scratch, false, true, rows, h, o, outPrev[At(b0, t, time, o)..], time * o, WeightYh.Value.Span, o, hStep, time * h, accumulate: true, _packedYhT);
            for (int b = 0; b < rows; b++) Activations.Apply(ActivationFunction, hStep.Slice(b * time * h, h));
            // y_t = g(h_t·W_hyᵀ + b_y)   [B, H]·[H, O]
            Gemm.MultiplyRows(Compute, scratch, false, true, rows, o, h, hStep, time * h, WeightHy.Value.Span, h, yStep, time * o, accumulate: false, _packedHyT);
            for (int b = 0; b < rows; b++)
            {
                var row = yStep.Slice(b * time * o, o);
                if (BiasY is not null) System.Numerics.Tensors.TensorPrimitives.Add(row, BiasY.Value.Span, row);
                Activations.Apply(OutputActivation, row);
            }
            tPrev = t;
        }
    }

    /// <summary>
    /// Batch rows <paramref name="b0"/>..<paramref name="b1"/>-1 backward through every step:
    /// <c>dyPre = (dOutput_t + dy_t) ⊙ g'(y)</c>, <c>dhPre = dyPre·W_hy ⊙ f'(h)</c>, <c>dy_(t-1) = dhPre·W_yh</c>.
    /// </summary>
    private void BackwardWalk(int time, int b0, int b1, ComputeContext.Scratch? scratch)
    {
        int h = HiddenSize, o = OutputUnits, rows = b1 - b0;
        Span<T> dOutPre = _dOutPre!.Span, dHidPre = _dHidPre!.Span, dYNext = _dYNext!.Span;
        ReadOnlySpan<T> hidden = _hidden!.Span, outputs = _outputs!.Span, dOutput = _dOutput!.Span;
        for (int s = time - 1; s >= 0; s--)
        {
            int t = Reverse ? time - 1 - s : s;
            for (int b = b0; b < b1; b++)
            {
                var dst = dOutPre.Slice(At(b, t, time, o), o);
                if (ReturnSequences) System.Numerics.Tensors.TensorPrimitives.Add(dOutput.Slice(At(b, t, time, o), o), dYNext.Slice(b * o, o), dst);
                else dYNext.Slice(b * o, o).CopyTo(dst);
                Activations.MultiplyDerivative(OutputActivation, outputs.Slice(At(b, t, time, o), o), dst); // dy ⊙ g'(y)
            }
            // dh_t = dyPre·W_hy   [B, O]·[O, H], then ⊙ f'(h)
            var dHStep = dHidPre[At(b0, t, time, h)..];
            Gemm.MultiplyRows(Compute, scratch, false, false, rows, h, o, dOutPre[At(b0, t, time, o)..], time * o, WeightHy.Value.Span, h, dHStep, time * h, accumulate: false, _packedHy);
            for (int b = b0; b < b1; b++)
            {
                int off = At(b, t, time, h);
                Activations.MultiplyDerivative(ActivationFunction, hidden.Slice(off, h), dHidPre.Slice(off, h));
            }
            // dy_(t-1) = dhPre·W_yh   [B, H]·[H, O]
            Gemm.MultiplyRows(Compute, scratch, false, false, rows, o, h, dHStep, time * h, WeightYh.Value.Span, o, dYNext[(b0 * o)..], o, accumulate: false, _packedYh);
        }
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
        _dOutput = dOutput;
        bool product = PackStepWeights(batch, forward: false);
        if (!(product && RunShards(batch, time, backward: true))) BackwardWalk(time, 0, batch, null);
        _dOutput = null;
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
