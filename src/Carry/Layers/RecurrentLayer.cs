using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>A recurrent layer's state at one boundary of the sequence: <c>Hidden [B, H]</c>, and <c>Cell [B, H]</c> for an LSTM.</summary>
public sealed record RecurrentState<T>(Tensor<T> Hidden, Tensor<T>? Cell = null) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>What a recurrent forward pass returns: the output and the final state.</summary>
public readonly record struct RecurrentOutput<T>(Tensor<T> Output, RecurrentState<T> FinalState) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>What a recurrent backward pass returns: <c>dInput [B, T, I]</c> and the gradient of the initial state.</summary>
public readonly record struct RecurrentGradient<T>(Tensor<T> DInput, RecurrentState<T> DInitialState) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// A layer that reads a batch-first sequence <c>[B, T, I]</c> step by step. It holds no
/// sequence state: the initial state goes in, the final state comes out. With
/// <see cref="ReturnSequences"/> the output is every step's <c>[B, T, O]</c>, otherwise the last
/// processed step's <c>[B, O]</c> (for a reversed layer, the step at time 0).
/// </summary>
public abstract class RecurrentLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="inputSize">Features per step, I (e.g. 1 or 2).</param>
    /// <param name="returnSequences">Every step's output (true) or only the last (false).</param>
    /// <param name="reverse">Walk time from the last step to the first (the backward half of a bidirectional layer).</param>
    protected RecurrentLayer(int inputSize, bool returnSequences, bool reverse)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        InputSize = inputSize;
        ReturnSequences = returnSequences;
        Reverse = reverse;
    }

    /// <summary>Features per input step, I.</summary>
    public int InputSize { get; }

    /// <summary>Every step's output, or only the last.</summary>
    public bool ReturnSequences { get; }

    /// <summary>True when time runs from the last step to the first.</summary>
    public bool Reverse { get; }

    /// <summary>Features per output step.</summary>
    public abstract int OutputSize { get; }

    /// <summary>Width of the hidden state carried between steps.</summary>
    public abstract int StateSize { get; }

    /// <summary>True for layers with a cell state (LSTM).</summary>
    public virtual bool HasCell => false;

    /// <summary>Forward pass from <paramref name="initialState"/> (zeros when null).</summary>
    public abstract RecurrentOutput<T> Forward(Tensor<T> input, RecurrentState<T>? initialState, bool training);

    /// <summary>Backward pass; <paramref name="dFinalState"/> is the gradient flowing into the final state (zeros when null).</summary>
    public abstract RecurrentGradient<T> Backward(Tensor<T> dOutput, RecurrentState<T>? dFinalState);

    /// <inheritdoc />
    public override Tensor<T> Forward(Tensor<T> input, bool training) => Forward(input, null, training).Output;

    /// <inheritdoc />
    public override Tensor<T> Backward(Tensor<T> dOutput) => Backward(dOutput, null).DInput;

    /// <inheritdoc />
    public override int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length != 2 || inputShape[1] != InputSize)
        {
            throw new ArgumentException($"{GetType().Name.Split('`')[0]} expects per-sample input [time, {InputSize}], got {Tensor<T>.ShapeText(inputShape)}.", nameof(inputShape));
        }
        return ReturnSequences ? [inputShape[0], OutputSize] : [OutputSize];
    }

    /// <summary>Row offset of (b, t) in a <c>[B, T, width]</c> buffer.</summary>
    protected static int At(int b, int t, int time, int width) => ((b * time) + t) * width;

    /// <summary>Fewest batch rows a shard of <see cref="RunShards"/> takes.</summary>
    private const int RowsPerShard = 8;

    private ShardJob? _shardJob;

    /// <summary>
    /// The whole walk through time (forward, or backward through time) with the batch split into one
    /// contiguous shard of rows per thread of <see cref="Layer{T}.Compute"/>, each shard walking every
    /// step on its own thread (<see cref="WalkRows"/>): its rows of each step product, run serially on
    /// the packed kernel as the whole product would run, and of the cell. Rows never meet during the
    /// walk, so shards need no hand-over from step to step, and every element is computed exactly as in
    /// the unsplit walk: the same bits for every thread count. The caller checks that the whole step
    /// products reach the kernel (<see cref="Gemm.ReachesKernel{T}"/>, more than one column). Returns
    /// false, having done nothing, for one thread, a small batch or a busy context.
    /// </summary>
    private protected bool RunShards(int batch, int time, bool backward)
    {
        var context = Compute;
        int shards = Math.Min(context.MaxDegreeOfParallelism, batch / RowsPerShard);
        if (shards < 2 || !context.TryAcquire()) return false;
        try
        {
            var job = _shardJob ??= new ShardJob(this);
            job.Batch = batch;
            job.Time = time;
            job.Parts = shards;
            job.Backward = backward;
            context.RunAcquired(job, shards);
        }
        finally
        {
            context.Release();
        }
        return true;
    }

    /// <summary>One shard of <see cref="RunShards"/>: batch rows b0..b1-1 through every step, forward or backward, on this thread with <paramref name="scratch"/>.</summary>
    private protected virtual void WalkRows(bool backward, int time, int b0, int b1, ComputeContext.Scratch scratch) =>
        throw new NotSupportedException($"{GetType().Name} does not walk in shards.");

    /// <summary>Rows [i·B/parts, (i+1)·B/parts) walked through every step.</summary>
    private sealed class ShardJob(RecurrentLayer<T> layer) : ParallelJob
    {
        public int Batch, Time, Parts;
        public bool Backward;

        public override void Execute(int item, ComputeContext.Scratch scratch)
        {
            int b0 = (int)((long)item * Batch / Parts), b1 = (int)((long)(item + 1) * Batch / Parts);
            layer.WalkRows(Backward, Time, b0, b1, scratch);
        }
    }

    /// <summary>Validates a batch-first input and returns (batch, time).</summary>
    protected (int Batch, int Time) CheckInput(Tensor<T> input)
    {
        Check.Rank(input, 3, nameof(input));
        if (input.Dim(2) != InputSize)
        {
            throw new ArgumentException($"input must be [batch, time, {InputSize}], but has shape {input.ShapeString}.", nameof(input));
        }
        Check.NonEmptyBatch(input, nameof(input));
        if (input.Dim(1) == 0) throw new ArgumentException($"input has no time steps (shape {input.ShapeString}).", nameof(input));
        return (input.Dim(0), input.Dim(1));
    }

    /// <summary>Validates an optional state tensor of shape <c>[batch, width]</c>.</summary>
    protected static void CheckState(Tensor<T>? state, int batch, int width, string paramName)
    {
        if (state is not null) Check.Shape(state, [batch, width], paramName);
    }

    /// <summary>Validates <c>dOutput</c> against the last forward's shape.</summary>
    protected void CheckDOutput(Tensor<T> dOutput, int batch, int time)
    {
        if (ReturnSequences) Check.Shape(dOutput, [batch, time, OutputSize], nameof(dOutput));
        else Check.Shape(dOutput, [batch, OutputSize], nameof(dOutput));
    }

    /// <summary>
    /// A state record for (<paramref name="hidden"/>, <paramref name="cell"/>), reusing
    /// <paramref name="cached"/> when it already holds these tensors, so that a steady training
    /// loop allocates nothing.
    /// </summary>
    protected static RecurrentState<T> ReuseState(ref RecurrentState<T>? cached, Tensor<T> hidden, Tensor<T>? cell)
    {
        if (cached is null || !ReferenceEquals(cached.Hidden, hidden) || !ReferenceEquals(cached.Cell, cell)) cached = new RecurrentState<T>(hidden, cell);
        return cached;
    }
}
