namespace Carry.Training;

/// <summary>
/// A learning-rate schedule: after each epoch the loop sets the optimizer's rate to
/// <see cref="Next"/>. A schedule is a function of the history so far (which checkpoints keep),
/// so a resumed run follows the same rates as one that never stopped.
/// </summary>
public interface ILearningRateSchedule
{
    /// <summary>The rate for the epoch after the last one in <paramref name="history"/>, which trained with <paramref name="rate"/>.</summary>
    /// <param name="history">Every epoch so far, the one just ended last (never empty).</param>
    /// <param name="rate">The rate the last epoch trained with.</param>
    double Next(IReadOnlyList<EpochSummary> history, double rate);
}

/// <summary>
/// Step decay: multiply the rate by <see cref="Factor"/> after every <see cref="Every"/> epochs
/// (Carry's <c>--decay</c>), starting once <see cref="After"/> epochs have ended (char-rnn's
/// <c>learning_rate_decay_after</c>: with 10, epochs 1–10 train at the initial rate, epoch 11 at rate × factor).
/// </summary>
public sealed record StepDecay : ILearningRateSchedule
{
    /// <param name="factor">Multiplier in (0, 1] (e.g. 0.93).</param>
    /// <param name="every">Epochs between multiplications (default 1).</param>
    /// <param name="after">Epochs that end before the first multiplication can happen (default 0).</param>
    public StepDecay(double factor, int every = 1, int after = 0)
    {
        if (!(factor > 0 && factor <= 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The decay factor must be in (0, 1].");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(every);
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        Factor = factor;
        Every = every;
        After = after;
    }

    /// <summary>Epochs that end before the first multiplication.</summary>
    public int After { get; }

    /// <summary>Multiplier in (0, 1].</summary>
    public double Factor { get; }

    /// <summary>Epochs between multiplications.</summary>
    public int Every { get; }

    /// <inheritdoc />
    public double Next(IReadOnlyList<EpochSummary> history, double rate)
    {
        ArgumentNullException.ThrowIfNull(history);
        int ended = history[^1].Epoch + 1;
        return ended >= After && ended % Every == 0 ? rate * Factor : rate;
    }
}

/// <summary>
/// Cosine annealing (Loshchilov &amp; Hutter, SGDR, 2017, without restarts): epoch e of E trains
/// with <c>min + (initial − min)·(1 + cos(π·e/E))/2</c>, from <see cref="InitialRate"/> at
/// epoch 0 down to <see cref="MinRate"/> at epoch E; epochs past E keep <see cref="MinRate"/>.
/// </summary>
public sealed record CosineDecay : ILearningRateSchedule
{
    /// <param name="initialRate">Rate of epoch 0 (the optimizer's rate when training starts).</param>
    /// <param name="epochs">Epochs over which the rate falls to <paramref name="minRate"/> (usually the run's epochs).</param>
    /// <param name="minRate">Lowest rate (default 0).</param>
    public CosineDecay(double initialRate, int epochs, double minRate = 0)
    {
        if (!(initialRate > 0) || double.IsInfinity(initialRate)) throw new ArgumentOutOfRangeException(nameof(initialRate), initialRate, "The initial rate must be a positive number.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        if (!(minRate >= 0 && minRate <= initialRate)) throw new ArgumentOutOfRangeException(nameof(minRate), minRate, "The minimum rate must be in [0, initialRate].");
        InitialRate = initialRate;
        Epochs = epochs;
        MinRate = minRate;
    }

    /// <summary>Rate of epoch 0.</summary>
    public double InitialRate { get; }

    /// <summary>Epochs over which the rate falls.</summary>
    public int Epochs { get; }

    /// <summary>Lowest rate.</summary>
    public double MinRate { get; }

    /// <summary>The rate of epoch <paramref name="epoch"/> (from 0).</summary>
    public double Rate(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (epoch >= Epochs) return MinRate;
        // Written as a fall from the initial rate, so that epoch 0 trains at exactly InitialRate.
        return InitialRate - ((InitialRate - MinRate) * (1 - Math.Cos(Math.PI * epoch / Epochs)) / 2);
    }

    /// <inheritdoc />
    public double Next(IReadOnlyList<EpochSummary> history, double rate)
    {
        ArgumentNullException.ThrowIfNull(history);
        return Rate(history[^1].Epoch + 1);
    }
}

/// <summary>
/// Reduce on plateau (Keras's <c>ReduceLROnPlateau</c>): when <see cref="Monitor"/> has not
/// improved by more than <see cref="MinDelta"/> for <see cref="Patience"/> epochs, multiply the
/// rate by <see cref="Factor"/> (not below <see cref="MinRate"/>), and start counting again.
/// </summary>
public sealed record ReduceOnPlateau : ILearningRateSchedule
{
    /// <param name="monitor">The value watched: <c>loss</c> (default), <c>exact</c>, <c>val_loss</c>, …; exact and bit accuracy improve upwards, losses downwards.</param>
    /// <param name="factor">Multiplier in (0, 1) (default 0.5).</param>
    /// <param name="patience">Epochs without improvement before a reduction (default 5).</param>
    /// <param name="minRate">Lowest rate (default 0).</param>
    /// <param name="minDelta">Smallest change that counts as an improvement (default 0).</param>
    public ReduceOnPlateau(string monitor = MetricNames.Loss, double factor = 0.5, int patience = 5, double minRate = 0, double minDelta = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(monitor);
        if (!(factor > 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be in (0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patience);
        if (!(minRate >= 0) || double.IsInfinity(minRate)) throw new ArgumentOutOfRangeException(nameof(minRate), minRate, "The minimum rate must be a finite number ≥ 0.");
        if (!(minDelta >= 0) || double.IsInfinity(minDelta)) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "minDelta must be a finite number ≥ 0.");
        Monitor = monitor;
        Factor = factor;
        Patience = patience;
        MinRate = minRate;
        MinDelta = minDelta;
    }

    /// <summary>The value watched.</summary>
    public string Monitor { get; }

    /// <summary>Multiplier in (0, 1).</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement before a reduction.</summary>
    public int Patience { get; }

    /// <summary>Lowest rate.</summary>
    public double MinRate { get; }

    /// <summary>Smallest change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <inheritdoc />
    public double Next(IReadOnlyList<EpochSummary> history, double rate)
    {
        ArgumentNullException.ThrowIfNull(history);
        // Replayed from the history (a reduction shows as a lower rate in the next row), so no state of its own.
        var watch = new ImprovementWatch(Monitor, MinDelta);
        for (int i = 0; i < history.Count; i++)
        {
            watch.Offer(history[i]);
            if (i + 1 < history.Count && history[i + 1].LearningRate < history[i].LearningRate) watch.Restart();
        }
        return watch.EpochsWithout >= Patience ? Math.Max(rate * Factor, MinRate) : rate;
    }
}

/// <summary>
/// Early stopping (Keras's <c>EarlyStopping</c>): stop once <see cref="Monitor"/> has not improved
/// by more than <see cref="MinDelta"/> for <see cref="Patience"/> epochs in a row. Decided from the
/// history alone, so a resumed run stops where an uninterrupted one would.
/// </summary>
public sealed record EarlyStopping
{
    /// <param name="monitor">The value watched: <c>loss</c> (default), <c>exact</c>, <c>val_loss</c>, …; exact and bit accuracy improve upwards, losses downwards.</param>
    /// <param name="patience">Epochs without improvement before stopping (default 10).</param>
    /// <param name="minDelta">Smallest change that counts as an improvement (default 0).</param>
    public EarlyStopping(string monitor = MetricNames.Loss, int patience = 10, double minDelta = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(monitor);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patience);
        if (!(minDelta >= 0) || double.IsInfinity(minDelta)) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "minDelta must be a finite number ≥ 0.");
        Monitor = monitor;
        Patience = patience;
        MinDelta = minDelta;
    }

    /// <summary>The value watched.</summary>
    public string Monitor { get; }

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>Smallest change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>True when the last <see cref="Patience"/> epochs of <paramref name="history"/> brought no improvement.</summary>
    public bool ShouldStop(IReadOnlyList<EpochSummary> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var watch = new ImprovementWatch(Monitor, MinDelta);
        foreach (var epoch in history) watch.Offer(epoch);
        return watch.EpochsWithout >= Patience;
    }
}

/// <summary>The best value of a monitored quantity so far and the epochs since it last improved.</summary>
internal sealed class ImprovementWatch(string monitor, double minDelta)
{
    private readonly bool _higherIsBetter = MetricNames.HigherIsBetter(monitor);
    private double? _best;

    /// <summary>Epochs since the last improvement (or since <see cref="Restart"/>).</summary>
    public int EpochsWithout { get; private set; }

    public void Offer(EpochSummary epoch)
    {
        double value = epoch.Get(monitor);
        bool improved = _best is not { } best || (_higherIsBetter ? value > best + minDelta : value < best - minDelta);
        if (improved)
        {
            _best = value;
            EpochsWithout = 0;
        }
        else
        {
            EpochsWithout++;
        }
    }

    /// <summary>Starts counting again (after a reduction), keeping the best value.</summary>
    public void Restart() => EpochsWithout = 0;
}
