using System.Numerics;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Training;

/// <summary>
/// What the fit loop (<see cref="Trainer{T}"/>) trains: a task owns its data and its batches,
/// runs one epoch of training steps and scores the model. The loop around it — schedule,
/// history, early stopping, best model, checkpoints, divergence, cancellation — is the same for
/// every task: <see cref="SupervisedTask{T}"/> (fixed tensors, what <see cref="Sequential{T}.Fit"/>
/// trains), <see cref="Arithmetic.AdditionTask{T}"/> (an adder on all or random pairs), or a
/// char-rnn text task (stateful truncated BPTT over B streams, with a validation loss).
/// </summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public interface ITrainingTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Runs one epoch of training steps on the compiled <paramref name="model"/>. Call
    /// <see cref="EpochContext.BeginEpoch"/> once the epoch's step count is known and
    /// <see cref="EpochContext.ReportBatch"/> after every optimizer step (that drives progress,
    /// mid-epoch checkpoints and user callbacks); start at <see cref="EpochContext.StartStep"/>
    /// when resuming mid-epoch; stop between steps when <see cref="EpochContext.CancellationToken"/>
    /// is cancelled, returning <see cref="EpochOutcome.Cancel"/>.
    /// </summary>
    /// <returns>The epoch's mean training loss, or a cancelled outcome.</returns>
    /// <exception cref="TrainingDivergedException">A step's loss was NaN or infinite.</exception>
    EpochOutcome TrainEpoch(Sequential<T> model, EpochContext context);

    /// <summary>
    /// The task's metrics after an epoch, in inference mode, by name (see <see cref="MetricNames"/>:
    /// <c>exact</c>, <c>bit_accuracy</c>, <c>eval_loss</c>, <c>val_loss</c>, …). Empty when the
    /// task measures nothing beyond the training loss.
    /// </summary>
    IReadOnlyDictionary<string, double> Evaluate(Sequential<T> model);

    /// <summary>Adds what the task needs to continue exactly (its generators, arrays, a state string) to a checkpoint being written.</summary>
    void SaveState(TaskState<T> state) { }

    /// <summary>Restores what <see cref="SaveState"/> wrote, before the first resumed epoch.</summary>
    void LoadState(TaskState<T> state) { }
}

/// <summary>The outcome of one epoch of training steps.</summary>
/// <param name="Loss">Mean training loss over the epoch (per sample for batched tasks).</param>
/// <param name="Cancelled">True when cancellation stopped the epoch before its end.</param>
public readonly record struct EpochOutcome(double Loss, bool Cancelled)
{
    /// <summary>An epoch stopped by cancellation.</summary>
    public static EpochOutcome Cancel => new(double.NaN, true);
}

/// <summary>
/// A task's part of a checkpoint: generators, arrays and one string, under the task's own
/// names (stored with a <c>task.</c> prefix, so they cannot collide with the loop's).
/// </summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public sealed class TaskState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>An empty state at <paramref name="position"/>.</summary>
    public TaskState(TrainingPosition position)
    {
        ArgumentNullException.ThrowIfNull(position);
        Position = position;
    }

    /// <summary>Where the run stands when the checkpoint is written: the next batch to train.</summary>
    public TrainingPosition Position { get; }

    /// <summary>Generator states by name (<see cref="RandomGenerator.GetState"/>).</summary>
    public Dictionary<string, ulong[]> Generators { get; } = new(StringComparer.Ordinal);

    /// <summary>Arrays by name.</summary>
    public Dictionary<string, T[]> Tensors { get; } = new(StringComparer.Ordinal);

    /// <summary>Any string (JSON, say); null for none.</summary>
    public string? Text { get; set; }
}

/// <summary>What the loop hands a task for one epoch: where to start, the shuffler, the options, and the callbacks to report to.</summary>
public sealed class EpochContext
{
    private readonly IReadOnlyList<ITrainingCallback> _callbacks;

    internal EpochContext(int epoch, TrainingPosition start, RandomGenerator shuffler, FitOptions options, IReadOnlyList<ITrainingCallback> callbacks)
    {
        Epoch = epoch;
        bool midEpoch = start.Epoch == epoch && start.Step > 0;
        StartStep = midEpoch ? start.Step : 0;
        StartLossSum = midEpoch ? start.LossSum : 0;
        StartOrder = start.Epoch == epoch && start.Order is { } order ? order : null;
        Shuffler = shuffler;
        Options = options;
        _callbacks = callbacks;
    }

    /// <summary>Epoch index, from 0.</summary>
    public int Epoch { get; }

    /// <summary>The step to start at: above 0 only when resuming a checkpoint written mid-epoch.</summary>
    public int StartStep { get; }

    /// <summary>
    /// The sample order to start from when this epoch is the run's first (a checkpoint's order:
    /// this epoch's when <see cref="StartStep"/> &gt; 0, else the previous epoch's, to shuffle
    /// further); null otherwise, and for a new run.
    /// </summary>
    public int[]? StartOrder { get; }

    /// <summary>Sum of per-sample losses over the steps before <see cref="StartStep"/>.</summary>
    public double StartLossSum { get; }

    /// <summary>The run's shuffling generator (kept in checkpoints).</summary>
    public RandomGenerator Shuffler { get; }

    /// <summary>The run's options: batch size, shuffling, clipping.</summary>
    public FitOptions Options { get; }

    /// <summary>Stops the epoch between steps.</summary>
    public CancellationToken CancellationToken => Options.CancellationToken;

    /// <summary>Tells the callbacks that the epoch's first step is next and how many there are.</summary>
    public void BeginEpoch(int batchCount)
    {
        for (int i = 0; i < _callbacks.Count; i++) _callbacks[i].OnEpochBegin(Epoch, batchCount);
    }

    /// <summary>Tells the callbacks (progress, checkpoints) that a step ended.</summary>
    public void ReportBatch(BatchProgress progress)
    {
        for (int i = 0; i < _callbacks.Count; i++) _callbacks[i].OnBatchEnd(progress);
    }
}

/// <summary>The metric names the loop and its readers know (the history CSV's columns).</summary>
public static class MetricNames
{
    /// <summary>Mean training loss over the epoch (what the task's steps reported).</summary>
    public const string Loss = "loss";

    /// <summary>Loss on held-out data (text: the last 5% of the corpus).</summary>
    public const string ValidationLoss = "val_loss";

    /// <summary>Fraction of training samples whose every output is right, 0 to 1.</summary>
    public const string Exact = "exact";

    /// <summary>Fraction of output bits that are right, 0 to 1.</summary>
    public const string BitAccuracy = "bit_accuracy";

    /// <summary>Loss over the training samples in inference mode (no dropout), after the epoch.</summary>
    public const string EvaluationLoss = "eval_loss";

    /// <summary>The learning rate an epoch trained with.</summary>
    public const string LearningRate = "lr";

    /// <summary>Cumulative wall seconds of training since the run began (continued across a resume).</summary>
    public const string Seconds = "seconds";

    /// <summary>Whether a larger value of <paramref name="name"/> is better (exact, bit accuracy) or a smaller one (losses).</summary>
    public static bool HigherIsBetter(string name) => name is Exact or BitAccuracy;
}
