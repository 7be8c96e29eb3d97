namespace Carry.Training;

/// <summary>
/// Options of the fit loop (<see cref="Trainer{T}"/>, and <see cref="Layers.Sequential{T}.Fit"/>
/// which runs it): epochs, batches and shuffling, clipping, and the loop's callbacks in the
/// Keras sense — learning-rate schedule, early stopping, stop-when-perfect, best model,
/// history file, checkpoints — each off unless set.
/// </summary>
public sealed record FitOptions
{
    /// <summary>Passes over the data (default 1).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Samples per gradient step (default 32, as Keras). The last batch may be smaller.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Shuffle the sample order at every epoch (default true).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the shuffling generator (default 0).</summary>
    public ulong Seed { get; init; }

    /// <summary>Epoch to start at (resuming a run); epochs are counted from 0.</summary>
    public int InitialEpoch { get; init; }

    /// <summary>
    /// Batch to start at within <see cref="InitialEpoch"/> (resuming a checkpoint written
    /// mid-epoch; default 0). When above 0, that epoch is not shuffled again: pass its order in
    /// <see cref="InitialOrder"/> and the running loss sum in <see cref="InitialLossSum"/>.
    /// </summary>
    public int InitialStep { get; init; }

    /// <summary>
    /// The sample order to start from (a checkpoint's <see cref="BatchProgress.Order"/>): the
    /// current epoch's order when <see cref="InitialStep"/> &gt; 0, else the previous epoch's,
    /// which the first epoch shuffles further. Null: 0, 1, …, N−1.
    /// </summary>
    public ReadOnlyMemory<int>? InitialOrder { get; init; }

    /// <summary>Sum of the per-sample losses over the batches of <see cref="InitialEpoch"/> before <see cref="InitialStep"/>.</summary>
    public double InitialLossSum { get; init; }

    /// <summary>Clip each gradient element to ±this (0: off).</summary>
    public double ClipValue { get; init; }

    /// <summary>Clip the global gradient norm to this (0: off).</summary>
    public double ClipNorm { get; init; }

    /// <summary>Stops training between steps when cancelled (Ctrl-C).</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Sets the learning rate of each next epoch (null: constant).</summary>
    public ILearningRateSchedule? Schedule { get; init; }

    /// <summary>Stops when a monitored value has not improved for a number of epochs (null: off).</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>Stop after the first epoch whose <c>exact</c> metric is 1: every training sample right (default false).</summary>
    public bool StopWhenPerfect { get; init; }

    /// <summary>
    /// Keep a copy of the best epoch's weights (most exact, then lowest evaluation loss; without
    /// an <c>exact</c> metric, lowest <c>val_loss</c>, else lowest loss) and put them back in the
    /// model when training ends (default false: the model ends with the last epoch's weights).
    /// </summary>
    public bool KeepBest { get; init; }

    /// <summary>Write the history as CSV to this file after every epoch (null: don't). See <see cref="HistoryCsv"/>.</summary>
    public string? HistoryPath { get; init; }

    /// <summary>Write a checkpoint to this file after every epoch and when cancelled (null: don't).</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Also write the checkpoint every this many optimizer steps (default 0: epoch ends only).</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>The caller's settings string, stored in checkpoints as given (e.g. the flags as JSON; default empty).</summary>
    public string CheckpointSettings { get; init; } = "";

    /// <summary>Task and training metadata stored in checkpoints (null: none).</summary>
    public Serialization.ModelMetadata? CheckpointMetadata { get; init; }

    /// <summary>True when something reads the task's metrics each epoch (stop-when-perfect, best model, history, a monitor other than the loss).</summary>
    public bool NeedsMetrics => StopWhenPerfect || KeepBest || HistoryPath is not null
        || (EarlyStopping is { } stop && stop.Monitor != MetricNames.Loss)
        || (Schedule is ReduceOnPlateau plateau && plateau.Monitor != MetricNames.Loss);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad option.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(CheckpointEverySteps);
        ArgumentNullException.ThrowIfNull(CheckpointSettings);
        if (CheckpointEverySteps > 0 && CheckpointPath is null) throw new ArgumentOutOfRangeException(nameof(CheckpointEverySteps), CheckpointEverySteps, "CheckpointEverySteps needs a CheckpointPath.");
        ArgumentOutOfRangeException.ThrowIfNegative(Epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BatchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(InitialEpoch);
        ArgumentOutOfRangeException.ThrowIfNegative(InitialStep);
        if (!double.IsFinite(InitialLossSum)) throw new ArgumentOutOfRangeException(nameof(InitialLossSum), InitialLossSum, "InitialLossSum must be finite.");
        if (!(ClipValue >= 0) || double.IsInfinity(ClipValue)) throw new ArgumentOutOfRangeException(nameof(ClipValue), ClipValue, "ClipValue must be a finite number ≥ 0.");
        if (!(ClipNorm >= 0) || double.IsInfinity(ClipNorm)) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "ClipNorm must be a finite number ≥ 0.");
    }
}

/// <summary>Progress after one batch.</summary>
/// <param name="Epoch">Epoch index, from 0.</param>
/// <param name="Batch">Batch index within the epoch, from 0.</param>
/// <param name="BatchCount">Batches in the epoch.</param>
/// <param name="SamplesSeen">Samples processed so far this epoch.</param>
/// <param name="SampleCount">Samples in the epoch.</param>
/// <param name="Loss">Running mean loss over this epoch so far.</param>
public readonly record struct BatchProgress(int Epoch, int Batch, int BatchCount, int SamplesSeen, int SampleCount, double Loss)
{
    /// <summary>This epoch's sample order (Fit's live buffer: copy it to keep it), for checkpoints.</summary>
    public ReadOnlyMemory<int> Order { get; init; }

    /// <summary>Sum of the per-sample losses so far this epoch (<see cref="Loss"/> × <see cref="SamplesSeen"/>, unrounded), for checkpoints.</summary>
    public double LossSum { get; init; }
}

/// <summary>What one epoch reached: one row of the history.</summary>
/// <param name="Epoch">Epoch index, from 0.</param>
/// <param name="Loss">Mean training loss over the epoch's samples.</param>
/// <param name="Elapsed">Wall time of the epoch.</param>
public sealed record EpochSummary(int Epoch, double Loss, TimeSpan Elapsed)
{
    private static readonly IReadOnlyDictionary<string, double> None = new Dictionary<string, double>();

    /// <summary>The task's metrics after the epoch (<see cref="ITrainingTask{T}.Evaluate"/>): <c>exact</c>, <c>bit_accuracy</c>, <c>val_loss</c>, …</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = None;

    /// <summary>The learning rate the epoch trained with.</summary>
    public double LearningRate { get; init; } = double.NaN;

    /// <summary>Cumulative wall seconds of training since the run began, at the epoch's end (continued across a resume).</summary>
    public double Seconds { get; init; }

    /// <summary>A value by name: <c>loss</c>, <c>lr</c>, <c>seconds</c> or a metric; null when the epoch has no such value.</summary>
    public double? Find(string name) => name switch
    {
        MetricNames.Loss => Loss,
        MetricNames.LearningRate => LearningRate,
        MetricNames.Seconds => Seconds,
        _ => Metrics.TryGetValue(name, out double v) ? v : null,
    };

    /// <summary>A value by name, as <see cref="Find"/>.</summary>
    /// <exception cref="InvalidOperationException">The epoch has no value of that name (the task does not report it).</exception>
    public double Get(string name) => Find(name)
        ?? throw new InvalidOperationException($"The training task reports no '{name}' (it reports loss{string.Concat(Metrics.Keys.Select(k => ", " + k))}).");
}

/// <summary>Lets a callback stop training after the current epoch.</summary>
public sealed class TrainingControl
{
    /// <summary>True once a callback asked to stop.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Stop after this epoch.</summary>
    public void Stop() => StopRequested = true;
}

/// <summary>Hooks into the fit loop (<see cref="Trainer{T}"/>, <see cref="Layers.Sequential{T}.Fit"/>): progress bars, printing, custom stopping rules.</summary>
public interface ITrainingCallback
{
    /// <summary>Before an epoch's first batch.</summary>
    void OnEpochBegin(int epoch, int batchCount) { }

    /// <summary>After each batch's update.</summary>
    void OnBatchEnd(BatchProgress progress) { }

    /// <summary>After an epoch has been scored (<see cref="EpochSummary.Metrics"/>), before the schedule, the stopping rules and the checkpoint; may call <see cref="TrainingControl.Stop"/>.</summary>
    void OnEpochEnd(EpochSummary summary, TrainingControl control) { }
}

/// <summary>The loss became NaN or infinite: training stopped at <see cref="Epoch"/>, <see cref="Step"/>.</summary>
public sealed class TrainingDivergedException : Exception
{
    public TrainingDivergedException(int epoch, int step, double loss)
        : base($"Training diverged at epoch {epoch + 1}, step {step + 1}: the loss is {loss}.")
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
    }

    public TrainingDivergedException() { }
    public TrainingDivergedException(string message) : base(message) { }
    public TrainingDivergedException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Epoch index (from 0).</summary>
    public int Epoch { get; }

    /// <summary>Step within the epoch (from 0).</summary>
    public int Step { get; }

    /// <summary>The non-finite loss.</summary>
    public double Loss { get; }
}

/// <summary>What <c>Fit</c> did.</summary>
/// <param name="History">One summary per completed epoch.</param>
/// <param name="Cancelled">True when the cancellation token stopped training early.</param>
public sealed record FitResult(IReadOnlyList<EpochSummary> History, bool Cancelled);

/// <summary>Loss and accuracy of a model over a data set.</summary>
/// <param name="Loss">Mean loss.</param>
/// <param name="ExactMatch">Fraction of samples whose every output rounds to its target.</param>
/// <param name="BitAccuracy">Fraction of outputs that round to their target.</param>
public sealed record Evaluation(double Loss, double ExactMatch, double BitAccuracy)
{
    /// <summary>As metrics of an epoch: <c>exact</c>, <c>bit_accuracy</c>, <c>eval_loss</c>.</summary>
    public IReadOnlyDictionary<string, double> ToMetrics() => new Dictionary<string, double>
    {
        [MetricNames.Exact] = ExactMatch,
        [MetricNames.BitAccuracy] = BitAccuracy,
        [MetricNames.EvaluationLoss] = Loss,
    };
}
