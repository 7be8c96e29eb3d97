using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Training;

/// <summary>Why <see cref="Trainer{T}.Run"/> returned.</summary>
public enum StopReason
{
    /// <summary>Every epoch of <see cref="FitOptions.Epochs"/> ran.</summary>
    EpochsDone,

    /// <summary>Every training sample was exact (<see cref="FitOptions.StopWhenPerfect"/>).</summary>
    Perfect,

    /// <summary>The monitored value stopped improving (<see cref="FitOptions.EarlyStopping"/>).</summary>
    EarlyStopping,

    /// <summary>A callback called <see cref="TrainingControl.Stop"/>.</summary>
    Callback,

    /// <summary>The cancellation token was cancelled (Ctrl-C); the run can be resumed from its checkpoint.</summary>
    Cancelled,
}

/// <summary>What a run of the fit loop did.</summary>
/// <param name="History">Every completed epoch of the run, those before a resume included.</param>
/// <param name="StopReason">Why it returned.</param>
/// <param name="CompletedEpochs">Epochs completed (the next epoch's index).</param>
/// <param name="Seconds">Wall seconds of training, continued across resumes.</param>
public sealed record TrainingResult(IReadOnlyList<EpochSummary> History, StopReason StopReason, int CompletedEpochs, double Seconds)
{
    /// <summary>True when cancellation stopped the run.</summary>
    public bool Cancelled => StopReason == StopReason.Cancelled;

    /// <summary>The best epoch (<see cref="FitOptions.KeepBest"/>), whose weights the model now holds; null when not kept or no epoch ended.</summary>
    public EpochSummary? Best { get; init; }

    /// <summary>Where a checkpoint written on cancellation continues; null when none was written.</summary>
    public TrainingPosition? CheckpointPosition { get; init; }
}

/// <summary>
/// THE fit loop: every task (<see cref="ITrainingTask{T}"/>) trains through it. Each epoch it has
/// the task run its steps (reporting each to the callbacks), scores the model with the task's
/// metrics, records the epoch in the history, keeps the best weights, calls the callbacks, sets
/// the next learning rate from the schedule, applies the stopping rules (stop when perfect, early
/// stopping, a callback's stop), writes the checkpoint and the history file, and stops between
/// steps when cancelled. A run resumed from its checkpoint (<see cref="Run"/> with the checkpoint)
/// ends with the same weights and the same history (but for wall time) as one that never stopped.
/// </summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public sealed class Trainer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const string BestPrefix = "best.", TaskPrefix = "task.";
    private readonly List<EpochSummary> _history = [];
    private readonly IReadOnlyList<ITrainingCallback> _userCallbacks;
    private readonly RandomGenerator _shuffler;
    private CheckpointCallback<T>? _checkpoints;
    private Stopwatch _clock = new();
    private double _previousSeconds;

    /// <param name="model">A compiled model (<see cref="Sequential{T}.Compile"/>); to resume, the checkpoint's <see cref="TrainingCheckpoint{T}.Model"/>.</param>
    /// <param name="task">What to train on and how to score it.</param>
    /// <param name="options">Epochs, batches, clipping and the loop's callbacks (default: one epoch, nothing else).</param>
    /// <param name="callbacks">Further callbacks (progress, printing), called in order.</param>
    /// <param name="shuffler">The shuffling generator; a new one from <see cref="FitOptions.Seed"/> when null.</param>
    public Trainer(Sequential<T> model, ITrainingTask<T> task, FitOptions? options = null, IReadOnlyList<ITrainingCallback>? callbacks = null, RandomGenerator? shuffler = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(task);
        Model = model;
        Task = task;
        Options = options ?? new FitOptions();
        Options.Validate();
        _userCallbacks = callbacks ?? [];
        _shuffler = shuffler ?? new RandomGenerator(Options.Seed);
        Best = new BestModel<T>(model);
    }

    /// <summary>The model being trained.</summary>
    public Sequential<T> Model { get; }

    /// <summary>The task.</summary>
    public ITrainingTask<T> Task { get; }

    /// <summary>The options.</summary>
    public FitOptions Options { get; }

    /// <summary>Every completed epoch so far, those before a resume included.</summary>
    public IReadOnlyList<EpochSummary> History => _history;

    /// <summary>The best epoch's weights (offered every epoch when <see cref="FitOptions.KeepBest"/> is on).</summary>
    public BestModel<T> Best { get; }

    /// <summary>Checkpoints written so far in this run.</summary>
    public int CheckpointsWritten => _checkpoints?.SaveCount ?? 0;

    /// <summary>Wall seconds of training so far, continued across resumes.</summary>
    public double Seconds => _previousSeconds + _clock.Elapsed.TotalSeconds;

    /// <summary>
    /// Trains from the start (or from <see cref="FitOptions.InitialEpoch"/>, <see cref="FitOptions.InitialStep"/>),
    /// or, given <paramref name="resume"/>, from where that checkpoint stopped: its position, shuffler,
    /// optimizer state and learning rate, task state, history and best epoch.
    /// </summary>
    /// <param name="resume">A checkpoint this loop wrote; <see cref="Model"/> must be its <see cref="TrainingCheckpoint{T}.Model"/>, compiled with the same kind of optimizer.</param>
    /// <exception cref="TrainingDivergedException">A step's loss was NaN or infinite; <see cref="History"/> and <see cref="Best"/> hold what came before.</exception>
    public TrainingResult Run(TrainingCheckpoint<T>? resume = null)
    {
        if (Model.Loss is null || Model.Optimizer is null) throw new InvalidOperationException("Compile the model with a loss and an optimizer first.");
        var start = resume is null ? StartPosition() : Restore(resume);
        _clock = Stopwatch.StartNew();
        _checkpoints = Options.CheckpointPath is null ? null : new CheckpointCallback<T>(Options.CheckpointPath, Model, _shuffler, Options.CheckpointSettings,
            Options.CheckpointEverySteps, start, Options.CheckpointMetadata, Extras, saveAtEpochEnd: false);
        IReadOnlyList<ITrainingCallback> callbacks = _checkpoints is null ? _userCallbacks : [.. _userCallbacks, _checkpoints];
        var control = new TrainingControl();
        var reason = StopReason.EpochsDone;
        for (int epoch = start.Epoch; epoch < Options.Epochs && reason == StopReason.EpochsDone; epoch++)
        {
            // Checked before the task draws or shuffles anything, so that a run stopped here resumes with the same draws.
            if (Options.CancellationToken.IsCancellationRequested)
            {
                reason = StopReason.Cancelled;
                break;
            }
            var summary = TrainOneEpoch(epoch, start, callbacks);
            if (summary is null)
            {
                reason = StopReason.Cancelled;
                break;
            }
            foreach (var callback in callbacks) callback.OnEpochEnd(summary, control);
            if (Options.Schedule is { } schedule) Model.Optimizer.LearningRate = schedule.Next(_history, summary.LearningRate);
            reason = StoppingRule(summary, control);
            _checkpoints?.Save();
            if (Options.HistoryPath is { } historyPath) HistoryCsv.Write(historyPath, _history);
        }
        return Finish(reason, start);
    }

    /// <summary>Runs the task's steps for one epoch, scores the model and records the epoch; null when cancelled.</summary>
    private EpochSummary? TrainOneEpoch(int epoch, TrainingPosition start, IReadOnlyList<ITrainingCallback> callbacks)
    {
        double rate = Model.Optimizer!.LearningRate;
        var epochClock = Stopwatch.StartNew();
        var outcome = Task.TrainEpoch(Model, new EpochContext(epoch, start, _shuffler, Options, callbacks));
        if (outcome.Cancelled) return null;
        var metrics = Task.Evaluate(Model);
        var summary = new EpochSummary(epoch, outcome.Loss, epochClock.Elapsed) { Metrics = metrics, LearningRate = rate, Seconds = Seconds };
        _history.Add(summary);
        if (Options.KeepBest) Best.Offer(summary);
        return summary;
    }

    /// <summary>Which stopping rule, if any, ends the run after <paramref name="summary"/>.</summary>
    private StopReason StoppingRule(EpochSummary summary, TrainingControl control)
    {
        if (control.StopRequested) return StopReason.Callback;
        if (Options.StopWhenPerfect && summary.Get(MetricNames.Exact) >= 1.0) return StopReason.Perfect;
        if (Options.EarlyStopping is { } stopping && stopping.ShouldStop(_history)) return StopReason.EarlyStopping;
        return StopReason.EpochsDone;
    }

    /// <summary>Writes the cancellation checkpoint, puts the best weights back, and says what happened.</summary>
    private TrainingResult Finish(StopReason reason, TrainingPosition start)
    {
        TrainingPosition? saved = null;
        if (reason == StopReason.Cancelled && _checkpoints is not null && _checkpoints.Save()) saved = _checkpoints.Position;
        if (Options.KeepBest) Best.Restore();
        int completed = _history.Count > 0 ? _history[^1].Epoch + 1 : start.Epoch;
        return new TrainingResult(_history.ToArray(), reason, completed, Seconds)
        {
            Best = Options.KeepBest ? Best.Epoch : null,
            CheckpointPosition = saved,
        };
    }

    private TrainingPosition StartPosition() => new(Options.InitialEpoch, Options.InitialStep, Options.InitialOrder?.ToArray(), Options.InitialLossSum);

    /// <summary>Puts a checkpoint's run back: shuffler, optimizer, task state, history, seconds and best epoch.</summary>
    private TrainingPosition Restore(TrainingCheckpoint<T> checkpoint)
    {
        if (!ReferenceEquals(checkpoint.Model, Model)) throw new ArgumentException("Resume with the checkpoint's own model: new Trainer<T>(checkpoint.Model, …).", nameof(checkpoint));
        _shuffler.SetState(checkpoint.RandomStates[Checkpoint.ShufflerName]);
        checkpoint.RestoreOptimizer(Model.Optimizer!);
        var taskState = new TaskState<T>(checkpoint.Position);
        foreach (var (name, generator) in checkpoint.RandomStates.Where(kv => kv.Key.StartsWith(TaskPrefix, StringComparison.Ordinal))) taskState.Generators[name[TaskPrefix.Length..]] = generator;
        foreach (var (name, values) in checkpoint.ExtraTensors.Where(kv => kv.Key.StartsWith(TaskPrefix, StringComparison.Ordinal))) taskState.Tensors[name[TaskPrefix.Length..]] = values;
        var state = LoopState.Read(checkpoint.State, checkpoint.Path);
        taskState.Text = state.Task;
        Task.LoadState(taskState);
        _history.Clear();
        _history.AddRange(state.History.Select(row => row.ToSummary()));
        _previousSeconds = state.Seconds;
        if (state.BestEpoch is { } bestEpoch)
        {
            var best = _history.FirstOrDefault(e => e.Epoch == bestEpoch) ?? throw new ModelFormatException(checkpoint.Path, $"the best epoch {bestEpoch + 1} is not in the checkpoint's history.");
            var values = new List<T[]>();
            for (int i = 0; i < Model.ParameterList.Count; i++)
            {
                values.Add(checkpoint.ExtraTensors.TryGetValue(BestPrefix + i, out var v) ? v : throw new ModelFormatException(checkpoint.Path, $"the checkpoint's best-epoch weights for parameter {i} are missing."));
            }
            try
            {
                Best.Load(best, values);
            }
            catch (ArgumentException e)
            {
                throw new ModelFormatException(checkpoint.Path, $"the checkpoint's best-epoch weights do not fit the model: {e.Message}");
            }
        }
        return checkpoint.Position;
    }

    /// <summary>What a checkpoint keeps besides the model, optimizer, position and shuffler: the task's state, the history and the best weights.</summary>
    private CheckpointExtras<T> Extras()
    {
        var taskState = new TaskState<T>(_checkpoints!.Position);
        Task.SaveState(taskState);
        var random = taskState.Generators.ToDictionary(kv => TaskPrefix + kv.Key, kv => Generator(kv.Value));
        var tensors = taskState.Tensors.ToDictionary(kv => TaskPrefix + kv.Key, kv => kv.Value);
        if (Best.Values is { } best)
        {
            for (int i = 0; i < best.Count; i++) tensors[BestPrefix + i] = best[i];
        }
        var state = new LoopState(Seconds, _history.Select(HistoryRow.From).ToArray(), Best.Epoch?.Epoch, taskState.Text);
        return new CheckpointExtras<T>(random, tensors, state.Write());
    }

    private static RandomGenerator Generator(ulong[] state)
    {
        var random = new RandomGenerator(0);
        random.SetState(state);
        return random;
    }
}

/// <summary>The loop's part of a checkpoint's <c>state</c> string (JSON).</summary>
internal sealed record LoopState(double Seconds, HistoryRow[] History, int? BestEpoch, string? Task)
{
    private static readonly JsonSerializerOptions Json = CarryJson.Resolving(new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    });

    public string Write() => JsonSerializer.Serialize(this, Json.For<LoopState>());

    /// <summary>Reads the state; a checkpoint written without one (a bare <see cref="CheckpointCallback{T}"/>) starts an empty history.</summary>
    public static LoopState Read(string? json, string path)
    {
        if (json is null) return new LoopState(0, [], null, null);
        try
        {
            return JsonSerializer.Deserialize(json, Json.For<LoopState>()) ?? throw new JsonException("null");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException)
        {
            throw new ModelFormatException(path, $"the checkpoint's training state is not valid: {e.Message}");
        }
    }
}

/// <summary>One epoch of the history as a checkpoint stores it (the values exactly, as JSON numbers round-trip).</summary>
internal sealed record HistoryRow(int Epoch, double Loss, double ElapsedSeconds, double LearningRate, double Seconds, Dictionary<string, double> Metrics)
{
    public static HistoryRow From(EpochSummary e) =>
        new(e.Epoch, e.Loss, e.Elapsed.TotalSeconds, e.LearningRate, e.Seconds, new Dictionary<string, double>(e.Metrics, StringComparer.Ordinal));

    public EpochSummary ToSummary() =>
        new(Epoch, Loss, TimeSpan.FromSeconds(ElapsedSeconds)) { LearningRate = LearningRate, Seconds = Seconds, Metrics = Metrics };
}
