using System.Numerics;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Training;

/// <summary>
/// Writes a checkpoint at the end of every epoch and, when <c>everySteps</c> &gt; 0, after every
/// that many optimizer steps; <see cref="Save"/> writes one on demand (on Ctrl-C, after
/// <see cref="Sequential{T}.Fit"/> returns cancelled). Each write is atomic, so the file on disk
/// is always the last complete checkpoint.
/// </summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public sealed class CheckpointCallback<T> : ITrainingCallback where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Sequential<T> _model;
    private readonly RandomGenerator _shuffler;
    private readonly string _settings;
    private readonly ModelMetadata? _metadata;
    private readonly Func<CheckpointExtras<T>>? _extras;
    private readonly bool _saveAtEpochEnd;
    private ReadOnlyMemory<int>? _order;
    private int _epoch, _step;
    private double _lossSum;

    /// <param name="path">The checkpoint file (overwritten atomically each time).</param>
    /// <param name="model">The compiled model being trained.</param>
    /// <param name="shuffler">The generator passed to <see cref="Sequential{T}.Fit"/>.</param>
    /// <param name="settings">The run's settings, stored as given.</param>
    /// <param name="everySteps">Also write after every this many optimizer steps (0: epoch ends only).</param>
    /// <param name="start">Where the run starts (a loaded checkpoint's position); null for the beginning.</param>
    /// <param name="metadata">Task and training metadata to store.</param>
    /// <param name="extras">Called at each save for further generators, arrays and state to keep; null for none.</param>
    /// <param name="saveAtEpochEnd">Save after every epoch (default true); false when the caller saves after its own end-of-epoch work.</param>
    public CheckpointCallback(string path, Sequential<T> model, RandomGenerator shuffler, string settings, int everySteps = 0,
        TrainingPosition? start = null, ModelMetadata? metadata = null, Func<CheckpointExtras<T>>? extras = null, bool saveAtEpochEnd = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(shuffler);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegative(everySteps);
        Path = path;
        _model = model;
        _shuffler = shuffler;
        _settings = settings;
        EverySteps = everySteps;
        _metadata = metadata;
        _extras = extras;
        _saveAtEpochEnd = saveAtEpochEnd;
        start ??= TrainingPosition.Start;
        (_epoch, _step, _lossSum) = (start.Epoch, start.Step, start.LossSum);
        _order = start.Order is { } order ? new ReadOnlyMemory<int>(order) : (ReadOnlyMemory<int>?)null; // spelt out: a bare null would convert to empty memory
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>Optimizer steps between mid-epoch checkpoints (0: none).</summary>
    public int EverySteps { get; }

    /// <summary>Checkpoints written so far.</summary>
    public int SaveCount { get; private set; }

    /// <summary>Where the run stands now: the next batch to train.</summary>
    public TrainingPosition Position => new(_epoch, _step, _order?.ToArray(), _lossSum);

    /// <inheritdoc />
    public void OnBatchEnd(BatchProgress progress)
    {
        _order = progress.Order;
        bool last = progress.Batch + 1 == progress.BatchCount;
        (_epoch, _step, _lossSum) = last ? (progress.Epoch + 1, 0, 0.0) : (progress.Epoch, progress.Batch + 1, progress.LossSum);
        // Counted in optimizer steps, so the schedule is the same in a resumed run; the epoch's end saves anyway.
        if (EverySteps > 0 && !last && _model.Optimizer!.StepCount % EverySteps == 0) Save();
    }

    /// <inheritdoc />
    public void OnEpochEnd(EpochSummary summary, TrainingControl control)
    {
        if (_saveAtEpochEnd) Save();
    }

    /// <summary>
    /// Writes the checkpoint for <see cref="Position"/> now — unless a weight or an optimizer
    /// moment is NaN or infinite (a step that blew up without a non-finite loss yet), in which
    /// case the last good checkpoint is kept and false is returned.
    /// </summary>
    public bool Save()
    {
        foreach (var p in _model.ParameterList)
        {
            if (!AllFinite(p.Value.Span)) return false;
        }
        foreach (var state in _model.Optimizer!.GetState().Values)
        {
            if (!AllFinite(state)) return false;
        }
        Checkpoint.Save(Path, _model, Position, _shuffler, _settings, _metadata, _extras?.Invoke());
        SaveCount++;
        return true;
    }

    private static bool AllFinite(ReadOnlySpan<T> values)
    {
        foreach (var v in values)
        {
            if (!T.IsFinite(v)) return false;
        }
        return true;
    }
}
