using System.Numerics;

namespace Carry.Training;

/// <summary>Options of <see cref="Layers.Sequential{T}.Fit"/>.</summary>
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

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad option.</summary>
    public void Validate()
    {
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

/// <summary>What one epoch reached.</summary>
/// <param name="Epoch">Epoch index, from 0.</param>
/// <param name="Loss">Mean training loss over the epoch's samples.</param>
/// <param name="Elapsed">Wall time of the epoch.</param>
public sealed record EpochSummary(int Epoch, double Loss, TimeSpan Elapsed);

/// <summary>Lets a callback stop training after the current epoch.</summary>
public sealed class TrainingControl
{
    /// <summary>True once a callback asked to stop.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Stop after this epoch.</summary>
    public void Stop() => StopRequested = true;
}

/// <summary>Hooks into <see cref="Layers.Sequential{T}.Fit"/>: progress bars, early stopping, checkpoints.</summary>
public interface ITrainingCallback
{
    /// <summary>Before an epoch's first batch.</summary>
    void OnEpochBegin(int epoch, int batchCount) { }

    /// <summary>After each batch's update.</summary>
    void OnBatchEnd(BatchProgress progress) { }

    /// <summary>After an epoch; may call <see cref="TrainingControl.Stop"/>.</summary>
    void OnEpochEnd(EpochSummary summary, TrainingControl control) { }
}

/// <summary>The loss became NaN or infinite: training stopped at <see cref="Epoch"/>, <see cref="Step"/>.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>The loss became <paramref name="loss"/> (not finite) at <paramref name="epoch"/>, <paramref name="step"/> (both zero-based).</summary>
    public TrainingDivergedException(int epoch, int step, double loss)
        : base($"Training diverged at epoch {epoch + 1}, step {step + 1}: the loss is {loss}.")
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
    }

    /// <summary>Training diverged.</summary>
    public TrainingDivergedException() { }

    /// <summary>Training diverged, as <paramref name="message"/> says.</summary>
    public TrainingDivergedException(string message) : base(message) { }

    /// <summary>Training diverged, as <paramref name="message"/> says, caused by <paramref name="inner"/>.</summary>
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
public sealed record Evaluation(double Loss, double ExactMatch, double BitAccuracy);

internal static class Numeric
{
    public static double ToDouble<T>(T value) where T : IFloatingPointIeee754<T> => double.CreateChecked(value);
}
