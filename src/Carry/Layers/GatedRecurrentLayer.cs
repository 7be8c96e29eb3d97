using System.Runtime.CompilerServices;
using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// The shared machinery of Elman, LSTM and GRU layers: fused gate weights
/// <c>weight_ih_l0 [G*H, I]</c> and <c>weight_hh_l0 [G*H, H]</c> (G = 1, 4, 3), the input
/// projection of all time steps as one product, one recurrent product per step, and the weight
/// gradients of all steps as single products. A subclass supplies the cell: the non-linear
/// map from the gate pre-activations to the new state, and its derivative.
/// </summary>
public abstract class GatedRecurrentLayer<T> : RecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private Tensor<T>? _input;      // [B, T, I] cached reference
    private Tensor<T>? _dOutput;    // [B, T, H] or [B, H], during Backward only
    private bool _stepwiseInput;    // the input is projected step by step (ProjectInputRows)
    private Tensor<T>? _gates;      // [B, T, GH] pre-activations, then activated gates after the cell
    private Tensor<T>? _hiddenProj; // [B, T, GH] W_hh·h + b_hh, kept apart only when SeparateHiddenProjection
    private Tensor<T>? _hidden;     // [B, T, H] h_t
    private Tensor<T>? _hiddenPrev; // [B, T, H] h_(t-1) in processing order
    private Tensor<T>? _cell;       // [B, T, H] c_t (LSTM)
    private Tensor<T>? _cellPrev;   // [B, T, H] c_(t-1) (LSTM)
    private Tensor<T>? _zeroState;  // [B, H]
    private Tensor<T>? _last;       // [B, H] output when !ReturnSequences
    private Tensor<T>? _finalHidden, _finalCell; // [B, H]
    private Tensor<T>? _dGates;     // [B, T, GH]
    private Tensor<T>? _dHiddenProj;// [B, T, GH] (GRU only)
    private Tensor<T>? _dInput;     // [B, T, I]
    private Tensor<T>? _dHidden;    // [B, H] total gradient reaching h_t
    private Tensor<T>? _dHiddenNext;// [B, H] gradient flowing to h_(t-1)
    private Tensor<T>? _dCellNext;  // [B, H] gradient flowing to c_(t-1)
    private RecurrentState<T>? _finalState, _dInitialState; // reused result records
    private Tensor<T>? _weightIhT;  // [I, GH] W_ih transposed, for the stepwise input projection
    private Tensor<T>? _dBias;      // [GH] Σ over rows of dGates, added to both bias gradients
    private readonly PackedMatrix<T> _packedWeightHhT = new(); // W_hhᵀ [H, GH] packed once per forward
    private readonly PackedMatrix<T> _packedWeightHh = new();  // W_hh [GH, H] packed once per backward

    /// <param name="inputSize">Features per step, I.</param>
    /// <param name="hiddenSize">Hidden units, H (e.g. 16 or 256).</param>
    /// <param name="gateCount">G: 1 (Elman), 4 (LSTM), 3 (GRU).</param>
    /// <param name="bias">Include <c>bias_ih_l0</c> and <c>bias_hh_l0</c> (default true).</param>
    /// <param name="returnSequences">Every step's output, or only the last.</param>
    /// <param name="reverse">Walk time backwards.</param>
    protected GatedRecurrentLayer(int inputSize, int hiddenSize, int gateCount, bool bias, bool returnSequences, bool reverse)
        : base(inputSize, returnSequences, reverse)
    {
        _parameters = Parameter<T>.All(ParameterShapes.Gated(inputSize, hiddenSize, gateCount, bias, reverse));
        HiddenSize = hiddenSize;
        GateCount = gateCount;
        HasBias = bias;
        WeightIh = _parameters[0];
        WeightHh = _parameters[1];
        BiasIh = bias ? _parameters[2] : null;
        BiasHh = bias ? _parameters[3] : null;
        _cellJob = new CellJob(this);
    }

    /// <summary>Hidden units, H.</summary>
    public int HiddenSize { get; }

    /// <summary>Gates per unit, G.</summary>
    public int GateCount { get; }

    /// <summary>Whether the layer has biases.</summary>
    public bool HasBias { get; }

    /// <summary><c>weight_ih_l0 [G*H, I]</c>.</summary>
    public Parameter<T> WeightIh { get; }

    /// <summary><c>weight_hh_l0 [G*H, H]</c>.</summary>
    public Parameter<T> WeightHh { get; }

    /// <summary><c>bias_ih_l0 [G*H]</c>, or null without bias.</summary>
    public Parameter<T>? BiasIh { get; }

    /// <summary><c>bias_hh_l0 [G*H]</c>, or null without bias.</summary>
    public Parameter<T>? BiasHh { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc />
    public override int OutputSize => HiddenSize;

    /// <inheritdoc />
    public override int StateSize => HiddenSize;

    /// <summary>True when the cell needs <c>W_hh·h + b_hh</c> apart from the input projection (GRU).</summary>
    protected virtual bool SeparateHiddenProjection => false;

    /// <summary>
    /// Gate columns whose recurrent input is h_(t-1) itself, a prefix of the G·H rows of <c>W_hh</c>:
    /// all of them, unless the cell feeds the rest something else (the reset-before GRU's new gate
    /// reads <c>r ⊙ h</c>) and computes their product, its input gradient and weight gradient itself.
    /// </summary>
    protected virtual int RecurrentColumns => GateCount * HiddenSize;

    /// <summary>
    /// The cell at time <paramref name="t"/> for batch rows <paramref name="b0"/>..<paramref name="b1"/>-1.
    /// Reads <c>Gates</c> (pre-activations, with the hidden projection already added unless kept
    /// apart in <c>HiddenProj</c>), <c>HiddenPrev</c> and <c>CellPrev</c>; writes <c>Hidden</c> (and
    /// <c>Cell</c>) at t, and may overwrite <c>Gates</c> with whatever its backward needs. It touches
    /// only its own rows, so that rows can run on several threads (<see cref="RowsIndependent"/>).
    /// </summary>
    protected abstract void CellForwardRows(int time, int t, int b0, int b1);

    /// <summary>
    /// The cell's derivative at time <paramref name="t"/> for batch rows <paramref name="b0"/>..<paramref name="b1"/>-1.
    /// Reads <c>DHidden</c> (the total gradient reaching h_t) and <c>DCellNext</c> (reaching c_t);
    /// writes <c>DGates</c> (and <c>DHiddenProj</c>) at t, overwrites its rows of <c>DHiddenNext</c>
    /// with the direct gradient to h_(t-1) (not through W_hh; zero when there is none) and of
    /// <c>DCellNext</c> with the gradient to c_(t-1).
    /// </summary>
    protected abstract void CellBackwardRows(int time, int t, int b0, int b1);

    /// <summary>The weight gradients of the columns past <see cref="RecurrentColumns"/>, after the backward pass through time.</summary>
    protected virtual void AccumulateOwnWeightGradients(int batch, int time)
    {
    }

    /// <summary>Cell buffers of the subclass's own for this shape, made before the first step of a forward pass.</summary>
    protected virtual void AllocateCell(int batch, int time)
    {
    }

    /// <summary>False when the cell's rows share scratch memory and must run on one thread.</summary>
    protected virtual bool RowsIndependent => true;

    /// <summary>Cached buffers the cell reads and writes; see <see cref="CellForwardRows"/>.</summary>
    protected Span<T> Gates => _gates!.Span;
    /// <summary><c>W_hh·h + b_hh</c> per step <c>[B, T, G*H]</c>, when kept apart (GRU).</summary>
    protected Span<T> HiddenProj => _hiddenProj!.Span;
    /// <summary>h_t per step <c>[B, T, H]</c>.</summary>
    protected Span<T> Hidden => _hidden!.Span;
    /// <summary>h_(t-1) per step <c>[B, T, H]</c>, in processing order.</summary>
    protected Span<T> HiddenPrev => _hiddenPrev!.Span;
    /// <summary>c_t per step <c>[B, T, H]</c> (LSTM).</summary>
    protected Span<T> Cell => _cell!.Span;
    /// <summary>c_(t-1) per step <c>[B, T, H]</c> (LSTM).</summary>
    protected Span<T> CellPrev => _cellPrev!.Span;
    /// <summary>Gradient of the gate pre-activations <c>[B, T, G*H]</c>.</summary>
    protected Span<T> DGates => _dGates!.Span;
    /// <summary>Gradient of <c>W_hh·h + b_hh</c> <c>[B, T, G*H]</c> (GRU).</summary>
    protected Span<T> DHiddenProj => _dHiddenProj!.Span;
    /// <summary>Total gradient reaching h_t <c>[B, H]</c>.</summary>
    protected Span<T> DHidden => _dHidden!.Span;
    /// <summary>Direct gradient to h_(t-1) <c>[B, H]</c>.</summary>
    protected Span<T> DHiddenNext => _dHiddenNext!.Span;
    /// <summary>Gradient reaching c_t, then c_(t-1) <c>[B, H]</c>.</summary>
    protected Span<T> DCellNext => _dCellNext!.Span;

    /// <inheritdoc />
    public override RecurrentOutput<T> Forward(Tensor<T> input, RecurrentState<T>? initialState, bool training)
    {
        var (batch, time) = CheckInput(input);
        int h = HiddenSize;
        CheckState(initialState?.Hidden, batch, h, "initialState.Hidden");
        CheckState(initialState?.Cell, batch, h, "initialState.Cell");
        _input = input;
        AllocateForward(batch, time);
        AllocateCell(batch, time);
        _stepwiseInput = ProjectInput(input, batch, time);
        // The same W_hh at every step: pack it once for the step products (skipped where it cannot pay).
        if ((long)batch * RecurrentColumns * h >= GemmKernel.DirectThreshold) _packedWeightHhT.Pack(Compute.GemmPath, true, h, RecurrentColumns, WeightHh.Value.Span, h);
        else _packedWeightHhT.Invalidate();
        var zero = Reuse(ref _zeroState, batch, h);
        zero.Fill(T.Zero);
        int first = Reverse ? time - 1 : 0;
        CopyInitialState(batch, time, first, (initialState?.Hidden ?? zero).Span, (initialState?.Cell ?? zero).Span);
        if (_stepwiseInput) ProjectInputRows(time, first, 0, batch);
        int last = Reverse ? 0 : time - 1;
        PrepareWalk(batch, backward: false);
        if (Shardable(batch) && RunShards(batch, time, backward: false)) return ForwardResult(batch, time, last);
        for (int s = 0; s < time; s++)
        {
            int t = Reverse ? time - 1 - s : s;
            RecurrentProductRows(time, t, 0, batch, null);
            // The cell's rows also ready the next step's (its previous state, its input projection), while they are in cache.
            _nextStep = NextStep(time, s);
            CellForward(batch, time, t);
        }
        _nextStep = -1;
        return ForwardResult(batch, time, last);
    }

    /// <summary>The step whose inputs the current step's cell rows prepare (<see cref="ForwardStepRows"/>); -1 after the last.</summary>
    private int _nextStep = -1;

    /// <summary>The time index processed after the <paramref name="s"/>-th, or -1 after the last.</summary>
    private int NextStep(int time, int s) => s + 1 >= time ? -1 : Reverse ? time - 2 - s : s + 1;

    /// <summary>
    /// True when the cell's own work in a step can run for a range of rows on one thread
    /// (<see cref="CellForwardShardRows"/>, <see cref="CellBackwardShardRows"/>) exactly as the whole
    /// step computes it for those rows, so that the walk may be split into shards of rows.
    /// </summary>
    protected virtual bool CellWalksInShards(int batch) => true;

    /// <summary>Whether the walk through time may run in shards of rows (<see cref="RecurrentLayer{T}.RunShards"/>).</summary>
    private bool Shardable(int batch) =>
        CellWalksInShards(batch) && RowsIndependent && RecurrentColumns > 1 && HiddenSize > 1 && Gemm.ReachesKernel<T>(Compute, batch, RecurrentColumns, HiddenSize);

    /// <summary>A shard's cell forward for rows b0..b1-1 at step t: <see cref="CellForwardRows"/>, unless the cell's step has more (a product of its own, run on <paramref name="scratch"/>).</summary>
    private protected virtual void CellForwardShardRows(int time, int t, int b0, int b1, ComputeContext.Scratch scratch) => CellForwardRows(time, t, b0, b1);

    /// <summary>A shard's cell derivative for rows b0..b1-1 at step t: <see cref="CellBackwardRows"/>, unless the cell's step has more.</summary>
    private protected virtual void CellBackwardShardRows(int time, int t, int b0, int b1, ComputeContext.Scratch scratch) => CellBackwardRows(time, t, b0, b1);

    /// <summary>Before a walk (forward or backward through time), after W_hh is packed: the cell packs weights of its own.</summary>
    protected virtual void PrepareWalk(int batch, bool backward)
    {
    }

    /// <inheritdoc />
    private protected override void WalkRows(bool backward, int time, int b0, int b1, ComputeContext.Scratch scratch)
    {
        if (backward) BackwardWalk(time, b0, b1, scratch);
        else ForwardWalk(time, b0, b1, scratch);
    }

    /// <summary>Rows <paramref name="b0"/>..<paramref name="b1"/>-1 through every step: product, cell, next step's inputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardWalk(int time, int b0, int b1, ComputeContext.Scratch scratch)
    {
        for (int s = 0; s < time; s++)
        {
            int t = Reverse ? time - 1 - s : s;
            RecurrentProductRows(time, t, b0, b1, scratch);
            ForwardStepRows(time, t, NextStep(time, s), b0, b1, scratch);
        }
    }

    /// <summary>Rows <paramref name="b0"/>..<paramref name="b1"/>-1 backward through every step: gradient gathered, cell derivative, product into h_(t-1)'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardWalk(int time, int b0, int b1, ComputeContext.Scratch scratch)
    {
        for (int s = time - 1; s >= 0; s--)
        {
            int t = Reverse ? time - 1 - s : s;
            BackwardStepRows(time, t, b0, b1, gather: true, scratch);
            HiddenGradientProductRows(time, t, b0, b1, scratch);
        }
    }

    /// <summary>The forward buffers for this shape (reused while it stays the same).</summary>
    private void AllocateForward(int batch, int time)
    {
        int h = HiddenSize, gh = GateCount * h;
        Reuse(ref _gates, batch, time, gh);
        Reuse(ref _hidden, batch, time, h);
        Reuse(ref _hiddenPrev, batch, time, h);
        if (SeparateHiddenProjection) Reuse(ref _hiddenProj, batch, time, gh);
        if (HasCell)
        {
            Reuse(ref _cell, batch, time, h);
            Reuse(ref _cellPrev, batch, time, h);
        }
    }

    /// <summary>
    /// Input projection <c>gates = X·W_ihᵀ + b_ih (+ b_hh)   [B*T, GH]</c>: for a few input features
    /// only W_ihᵀ is prepared here and each step projects its own rows just before its product,
    /// while they are in cache (returns true); otherwise every step at once.
    /// </summary>
    private bool ProjectInput(Tensor<T> input, int batch, int time)
    {
        int gh = GateCount * HiddenSize, inSize = InputSize;
        var gates = _gates!.Span;
        if (inSize <= StepwiseInputLimit)
        {
            var weightIhT = Reuse(ref _weightIhT, inSize, gh).Span; // [I, GH]
            ReadOnlySpan<T> w = WeightIh.Value.Span;               // [GH, I]
            for (int j = 0; j < gh; j++)
            {
                for (int i = 0; i < inSize; i++) weightIhT[(i * gh) + j] = w[(j * inSize) + i];
            }
            return true;
        }
        Gemm.Multiply(Compute, false, true, batch * time, gh, inSize, input.Span, inSize, WeightIh.Value.Span, inSize, gates, gh, accumulate: false);
        if (HasBias)
        {
            AddBiasRows(gates, BiasIh!.Value.Span, batch * time);
            if (!SeparateHiddenProjection) AddBiasRows(gates, BiasHh!.Value.Span, batch * time);
        }
        return false;
    }

    /// <summary><c>hiddenPrev[:, t] = h0</c> (and <c>cellPrev</c> = c0) at the first step in processing order.</summary>
    private void CopyInitialState(int batch, int time, int t, ReadOnlySpan<T> h0, ReadOnlySpan<T> c0)
    {
        int h = HiddenSize;
        for (int b = 0; b < batch; b++)
        {
            h0.Slice(b * h, h).CopyTo(HiddenPrev.Slice(At(b, t, time, h), h));
            if (HasCell) c0.Slice(b * h, h).CopyTo(CellPrev.Slice(At(b, t, time, h), h));
        }
    }

    /// <summary>
    /// Step <paramref name="t"/>'s cell for rows <paramref name="b0"/>..<paramref name="b1"/>-1, then, for
    /// the same rows, the next step's inputs: <c>hiddenPrev[:, next] = h_t</c> (and <c>cellPrev</c>)
    /// and its input projection. Everything is per row, so any split of the rows gives the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardStepRows(int time, int t, int next, int b0, int b1, ComputeContext.Scratch? shard = null)
    {
        if (shard is null) CellForwardRows(time, t, b0, b1);
        else CellForwardShardRows(time, t, b0, b1, shard);
        if (next < 0) return;
        int h = HiddenSize;
        for (int b = b0; b < b1; b++)
        {
            Hidden.Slice(At(b, t, time, h), h).CopyTo(HiddenPrev.Slice(At(b, next, time, h), h));
            if (HasCell) Cell.Slice(At(b, t, time, h), h).CopyTo(CellPrev.Slice(At(b, next, time, h), h));
        }
        if (_stepwiseInput) ProjectInputRows(time, next, b0, b1);
    }

    /// <summary>
    /// <c>dHidden = dOutput[:, t] + dHiddenNext</c> (the gradient reaching h_t) for rows
    /// <paramref name="b0"/>..<paramref name="b1"/>-1, then step <paramref name="t"/>'s cell derivative for them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardStepRows(int time, int t, int b0, int b1, bool gather, ComputeContext.Scratch? shard = null)
    {
        if (gather)
        {
            int h = HiddenSize;
            ReadOnlySpan<T> dOutput = _dOutput!.Span;
            for (int b = b0; b < b1; b++)
            {
                var dst = DHidden.Slice(b * h, h);
                var next = DHiddenNext.Slice(b * h, h);
                if (ReturnSequences) TensorPrimitives.Add(dOutput.Slice(((b * time) + t) * h, h), next, dst);
                else next.CopyTo(dst);
            }
        }
        if (shard is null) CellBackwardRows(time, t, b0, b1);
        else CellBackwardShardRows(time, t, b0, b1, shard);
    }

    /// <summary>
    /// The step's recurrent product <c>[B, H] · [H, GH]</c> (its first <see cref="RecurrentColumns"/>
    /// columns), rows strided by T, for batch rows b0..b1-1: added into the gates, or kept apart
    /// with <c>b_hh</c> (<c>HiddenProj</c>) when the cell needs it so. Split across the context's
    /// threads, or on this thread with <paramref name="scratch"/> (a shard of <see cref="RecurrentLayer{T}.RunShards"/>).
    /// </summary>
    private void RecurrentProductRows(int time, int t, int b0, int b1, ComputeContext.Scratch? scratch)
    {
        int h = HiddenSize, gh = GateCount * h, cols = RecurrentColumns, rows = b1 - b0;
        var hPrevStep = HiddenPrev[(At(b0, t, time, h))..];
        if (!SeparateHiddenProjection)
        {
            Gemm.MultiplyRows(Compute, scratch, false, true, rows, gh, h, hPrevStep, time * h, WeightHh.Value.Span, h, Gates[At(b0, t, time, gh)..], time * gh, accumulate: true, _packedWeightHhT);
            return;
        }
        var proj = HiddenProj[(t * gh)..];
        Gemm.MultiplyRows(Compute, scratch, false, true, rows, cols, h, hPrevStep, time * h, WeightHh.Value.Span, h, proj[(b0 * time * gh)..], time * gh, accumulate: false, _packedWeightHhT);
        if (!HasBias) return;
        for (int b = b0; b < b1; b++)
        {
            var row = proj.Slice(b * time * gh, cols);
            TensorPrimitives.Add(row, BiasHh!.Value.Span[..cols], row);
        }
    }

    /// <summary>
    /// The cell at step <paramref name="t"/> for every batch row (<see cref="CellForwardRows"/>, split
    /// across threads), each row then readying the next step's inputs.
    /// </summary>
    protected virtual void CellForward(int batch, int time, int t) => RunRows(batch, time, t, backward: false);

    /// <summary>
    /// The gradient reaching h_t gathered, then the cell's derivative at step <paramref name="t"/>
    /// for every batch row (<see cref="CellBackwardRows"/>), split across threads.
    /// </summary>
    protected virtual void CellBackward(int batch, int time, int t) => RunRows(batch, time, t, backward: true);

    /// <summary>
    /// Runs the cell (forward or backward) over the batch rows of step <paramref name="t"/>, split
    /// across the layer's <see cref="Layer{T}.Compute"/> threads for large batches. Rows are
    /// independent, so the split changes no result. With <paramref name="stepEdges"/> (a whole
    /// step's cell, not the first of two passes) the rows also do the step's per-row edges:
    /// forward, the next step's inputs; backward, the gradient reaching h_t, before the cell.
    /// </summary>
    protected void RunRows(int batch, int time, int t, bool backward, bool stepEdges = true)
    {
        var context = Compute;
        if (RowsIndependent && batch >= 2 * RowsPerPart && context.MaxDegreeOfParallelism > 1 && context.TryAcquire())
        {
            try
            {
                _cellJob.Batch = batch;
                _cellJob.Time = time;
                _cellJob.Step = t;
                _cellJob.Backward = backward;
                _cellJob.StepEdges = stepEdges;
                _cellJob.Parts = Math.Min(batch / RowsPerPart, 2 * context.MaxDegreeOfParallelism);
                context.RunAcquired(_cellJob, _cellJob.Parts);
            }
            finally
            {
                context.Release();
            }
            return;
        }
        if (backward) BackwardStepRows(time, t, 0, batch, stepEdges);
        else ForwardStepRows(time, t, stepEdges ? _nextStep : -1, 0, batch);
    }

    /// <summary>σ of the gates in place: the logistic sigmoid (vectorised), or the recurrent activation chosen instead.</summary>
    protected static void GateActivation(Activation sigma, Span<T> gates)
    {
        if (sigma == Activation.Sigmoid) TensorPrimitives.Sigmoid(gates, gates);
        else Activations.Apply(sigma, gates);
    }

    /// <summary>Fewest batch rows worth handing to another thread.</summary>
    private const int RowsPerPart = 16;

    private readonly CellJob _cellJob;

    /// <summary>Rows [i·B/parts, (i+1)·B/parts) of one step's cell, forward or backward.</summary>
    private sealed class CellJob(GatedRecurrentLayer<T> layer) : ParallelJob
    {
        public int Batch, Time, Step, Parts;
        public bool Backward, StepEdges;

        public override void Execute(int item, ComputeContext.Scratch scratch)
        {
            int b0 = (int)((long)item * Batch / Parts), b1 = (int)((long)(item + 1) * Batch / Parts);
            if (Backward) layer.BackwardStepRows(Time, Step, b0, b1, StepEdges);
            else layer.ForwardStepRows(Time, Step, StepEdges ? layer._nextStep : -1, b0, b1);
        }
    }

    /// <summary>The output (every step's hidden state, or the last one) and the final state, from the last processed step <paramref name="tLast"/>.</summary>
    private RecurrentOutput<T> ForwardResult(int batch, int time, int tLast)
    {
        int h = HiddenSize;
        var finalHidden = Reuse(ref _finalHidden, batch, h);
        for (int b = 0; b < batch; b++) Hidden.Slice(At(b, tLast, time, h), h).CopyTo(finalHidden.Span.Slice(b * h, h));
        Tensor<T>? finalCell = null;
        if (HasCell)
        {
            finalCell = Reuse(ref _finalCell, batch, h);
            for (int b = 0; b < batch; b++) Cell.Slice(At(b, tLast, time, h), h).CopyTo(finalCell.Span.Slice(b * h, h));
        }
        Tensor<T> output = _hidden!;
        if (!ReturnSequences)
        {
            output = Reuse(ref _last, batch, h);
            finalHidden.Span.CopyTo(output.Span);
        }
        return new RecurrentOutput<T>(output, ReuseState(ref _finalState, finalHidden, finalCell));
    }

    /// <summary>Inputs this narrow are projected step by step (<see cref="ProjectInputRows"/>) rather than in one product.</summary>
    private const int StepwiseInputLimit = 8;

    /// <summary>
    /// <c>gates[:, t] = x_t · W_ih^T + b_ih (+ b_hh)</c> for batch rows b0..b1-1, summed in the same
    /// order as the direct product (<c>x_0 w_0 + x_1 w_1 + ...</c>, then the biases).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ProjectInputRows(int time, int t, int b0, int b1)
    {
        int inSize = InputSize, gh = GateCount * HiddenSize;
        ReadOnlySpan<T> weightIhT = _weightIhT!.Span; // [I, GH]
        ReadOnlySpan<T> input = _input!.Span;
        Span<T> gates = Gates;
        for (int b = b0; b < b1; b++)
        {
            var row = gates.Slice(At(b, t, time, gh), gh);
            var x = input.Slice(At(b, t, time, inSize), inSize);
            TensorPrimitives.Multiply(weightIhT[..gh], x[0], row);
            for (int i = 1; i < inSize; i++) TensorPrimitives.MultiplyAdd(weightIhT.Slice(i * gh, gh), x[i], row, row);
            if (HasBias)
            {
                TensorPrimitives.Add(row, BiasIh!.Value.Span, row);
                if (!SeparateHiddenProjection) TensorPrimitives.Add(row, BiasHh!.Value.Span, row);
            }
        }
    }

    /// <inheritdoc />
    public override RecurrentGradient<T> Backward(Tensor<T> dOutput, RecurrentState<T>? dFinalState)
    {
        if (_input is null) throw new InvalidOperationException("Backward called before Forward.");
        int batch = _input.Dim(0), time = _input.Dim(1);
        int h = HiddenSize, gh = GateCount * h, inSize = InputSize;
        CheckDOutput(dOutput, batch, time);
        CheckState(dFinalState?.Hidden, batch, h, "dFinalState.Hidden");
        CheckState(dFinalState?.Cell, batch, h, "dFinalState.Cell");

        var dGates = Reuse(ref _dGates, batch, time, gh);
        var dHiddenProj = SeparateHiddenProjection ? Reuse(ref _dHiddenProj, batch, time, gh) : dGates;
        Reuse(ref _dHidden, batch, h);
        var dHiddenNext = Reuse(ref _dHiddenNext, batch, h);
        var dCellNext = Reuse(ref _dCellNext, batch, h);
        if (dFinalState?.Hidden is { } dhn) dhn.Span.CopyTo(dHiddenNext.Span); else dHiddenNext.Fill(T.Zero);
        if (dFinalState?.Cell is { } dcn) dcn.Span.CopyTo(dCellNext.Span); else dCellNext.Fill(T.Zero);
        if (!ReturnSequences)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(dHiddenNext.Span, dOutput.Span, dHiddenNext.Span);
        }

        int cols = RecurrentColumns;
        if ((long)batch * cols * h >= GemmKernel.DirectThreshold) _packedWeightHh.Pack(Compute.GemmPath, false, cols, h, WeightHh.Value.Span, h);
        else _packedWeightHh.Invalidate();

        _dOutput = dOutput;
        PrepareWalk(batch, backward: true);
        if (!(Shardable(batch) && RunShards(batch, time, backward: true)))
        {
            for (int s = time - 1; s >= 0; s--)
            {
                int t = Reverse ? time - 1 - s : s;
                CellBackward(batch, time, t); // dHidden = dOutput[:, t] + dHiddenNext, then the cell, row by row
                HiddenGradientProductRows(time, t, 0, batch, null);
            }
        }
        _dOutput = null;

        // Weight gradients of all steps as single products.
        Gemm.Multiply(Compute, true, false, gh, inSize, batch * time, dGates.Span, gh, _input.Span, inSize, WeightIh.Gradient.Span, inSize, accumulate: true);
        Gemm.Multiply(Compute, true, false, cols, h, batch * time, dHiddenProj.Span, gh, _hiddenPrev!.Span, h, WeightHh.Gradient.Span, h, accumulate: true);
        AccumulateOwnWeightGradients(batch, time);
        if (HasBias)
        {
            if (SeparateHiddenProjection)
            {
                AccumulateColumnSums(dGates.Span, BiasIh!.Gradient.Span, batch * time);
                AccumulateColumnSums(dHiddenProj.Span, BiasHh!.Gradient.Span, batch * time);
            }
            else
            {
                // Both biases enter every gate unchanged: one pass over dGates serves both.
                var dBias = Reuse(ref _dBias, gh);
                dBias.Fill(T.Zero);
                AccumulateColumnSums(dGates.Span, dBias.Span, batch * time);
                TensorPrimitives.Add(BiasIh!.Gradient.Span, dBias.Span, BiasIh.Gradient.Span);
                TensorPrimitives.Add(BiasHh!.Gradient.Span, dBias.Span, BiasHh.Gradient.Span);
            }
        }
        var dInput = Reuse(ref _dInput, batch, time, inSize);
        if (InputGradientNeeded) Gemm.Multiply(Compute, false, false, batch * time, inSize, gh, dGates.Span, gh, WeightIh.Value.Span, inSize, dInput.Span, inSize, accumulate: false);
        return new RecurrentGradient<T>(dInput, ReuseState(ref _dInitialState, dHiddenNext, HasCell ? dCellNext : null));
    }

    /// <summary>
    /// <c>dh_(t-1) += dHiddenProj[:, t] · W_hh</c> <c>[B, GH]·[GH, H]</c> (the first
    /// <see cref="RecurrentColumns"/> of GH) for batch rows b0..b1-1, as <see cref="RecurrentProductRows"/> splits it.
    /// </summary>
    private void HiddenGradientProductRows(int time, int t, int b0, int b1, ComputeContext.Scratch? scratch)
    {
        int h = HiddenSize, gh = GateCount * h;
        var dHiddenProj = SeparateHiddenProjection ? _dHiddenProj! : _dGates!;
        Gemm.MultiplyRows(Compute, scratch, false, false, b1 - b0, h, RecurrentColumns, dHiddenProj.Span[At(b0, t, time, gh)..], time * gh,
            WeightHh.Value.Span, h, DHiddenNext[(b0 * h)..], h, accumulate: true, _packedWeightHh);
    }

    /// <inheritdoc />
    public override void Initialize(Initialization scheme, RandomGenerator random)
    {
        double bound = 1.0 / Math.Sqrt(HiddenSize);
        if (scheme == Initialization.PyTorch)
        {
            // torch.nn.RNNBase.reset_parameters: every parameter from U(-1/√H, 1/√H), in order.
            foreach (var p in _parameters) FillUniform(p.Value.Span, bound, random);
            return;
        }
        // Keras: glorot-uniform kernel [I, GH] (fan_in I, fan_out GH), orthogonal recurrent kernel.
        int gh = GateCount * HiddenSize;
        FillUniform(WeightIh.Value.Span, Math.Sqrt(6.0 / (InputSize + gh)), random);
        FillOrthogonal(WeightHh.Value.Span, gh, HiddenSize, random);
        if (HasBias)
        {
            BiasIh!.Value.Fill(T.Zero);
            BiasHh!.Value.Fill(T.Zero);
            InitializeKerasBias(BiasIh.Value.Span);
        }
    }

    /// <summary>Keras's bias initialisation beyond zeros (the LSTM forget gate's 1).</summary>
    protected virtual void InitializeKerasBias(Span<T> bias)
    {
    }

    // Tracing: Carry.Analysis.StateTrace reads what the last Forward left in these caches; nothing here writes.

    /// <summary>h_t of the last Forward <c>[B, T, H]</c>, indexed by time (also when reversed); null before the first.</summary>
    internal Tensor<T>? TracedHidden => _hidden;

    /// <summary>c_t of the last Forward <c>[B, T, H]</c> when the layer has a cell (LSTM); otherwise null.</summary>
    internal Tensor<T>? TracedCell => HasCell ? _cell : null;

    /// <summary>The gate buffer of the last Forward after the cell ran <c>[B, T, G·H]</c>: for an LSTM the activated i, f, g, o.</summary>
    internal Tensor<T>? TracedGates => _gates;
}
