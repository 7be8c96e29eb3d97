using System.Globalization;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Serialization;
using Carry.Training;
using Spectre.Console;

namespace Carry.Cli.Commands;

/// <summary>
/// One <c>carry train</c> run mapped onto the library: the settings (from the flags, or from
/// the checkpoint with <c>--resume</c>), the model, the addition task and the fit loop's options.
/// </summary>
internal sealed class TrainRun
{
    private TrainRun(TrainSettings settings, string preset, CheckpointRequest request, Sequential<float> model, AdditionTask<float> task,
        TrainingCheckpoint<float>? resume, ComputeContext? compute)
    {
        Settings = settings;
        Preset = preset;
        Request = request;
        Model = model;
        Task = task;
        Resume = resume;
        Compute = compute;
        OutputExisted = File.Exists(settings.Out);
    }

    /// <summary>The validated settings.</summary>
    public TrainSettings Settings { get; }

    /// <summary>The preset's name, or <c>general</c>.</summary>
    public string Preset { get; }

    /// <summary>The checkpoint flags (with <c>--resume</c>, the checkpoint's own interval unless overridden).</summary>
    public CheckpointRequest Request { get; }

    /// <summary>The compiled model.</summary>
    public Sequential<float> Model { get; }

    /// <summary>What it learns: all or random pairs in its encoding.</summary>
    public AdditionTask<float> Task { get; }

    /// <summary>The checkpoint to continue; null for a new run.</summary>
    public TrainingCheckpoint<float>? Resume { get; }

    /// <summary>A thread pool of <c>--threads</c> threads (disposed by the caller); null for the default.</summary>
    public ComputeContext? Compute { get; }

    /// <summary>Where checkpoints go; null for none.</summary>
    public string? CheckpointPath => Request.Path;

    /// <summary>Whether <c>--out</c> existed before the run (a diverged run then leaves it alone).</summary>
    public bool OutputExisted { get; }

    /// <summary>Reads the run from the flags or the checkpoint, checks where it will write, builds and compiles the model.</summary>
    /// <exception cref="UsageException">A bad setting or output path.</exception>
    public static TrainRun Start(TrainSettings settings, string preset, CheckpointRequest request)
    {
        TrainingCheckpoint<float>? resume = null;
        if (request.Resume is not null)
        {
            resume = Checkpoint.Load<float>(request.Resume);
            (preset, settings, int every) = TrainRunRecord.ReadSettings(resume.Settings, request.Resume);
            if (request.EverySteps == 0 && every > 0) request = request with { EverySteps = every };
        }
        var s = settings.Validate();
        OutputPath.Check("--out", s.Out);
        OutputPath.Check("--history", s.HistoryPath);
        string output = Path.GetFullPath(s.Out);
        if (request.Path is not null && Path.GetFullPath(request.Path) == output)
        {
            throw new UsageException($"--checkpoint and --out are the same file ({s.Out}); give the checkpoint its own name");
        }
        if (Path.GetFullPath(s.HistoryPath) == output) throw new UsageException($"--history and --out are the same file ({s.Out}); give the history its own name");
        var model = resume?.Model ?? AdderModels.Build(s);
        if (resume is null) model.Initialize(s.Init, s.Seed);
        var compute = s.Threads > 0 ? new ComputeContext(s.Threads) : null;
        if (compute is not null) model.Compute = compute;
        var optimizer = s.Optimizer == "adam"
            ? new Adam<float>(s.LearningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-7)
            : Optimizer<float>.Create(s.Optimizer, s.LearningRate);
        model.Compile(Loss<float>.Create(s.Loss), optimizer);
        var task = new AdditionTask<float>(s.Encoding, s.Bits, s.SamplesPerEpoch, dataSeed: s.Seed + 2);
        return new TrainRun(s, preset, request, model, task, resume, compute);
    }

    /// <summary>The settings line, the model, the diagram (<c>--plot</c>), where a resumed run continues, and the data.</summary>
    public void PrintHeader(TextWriter output)
    {
        var s = Settings;
        output.WriteLine($"carry train {Preset}: {s.Flags()} --seed {s.Seed}");
        output.WriteLine($"model: {ModelView.Chain(Model)}  ({Model.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters)");
        if (s.Plot is not null && Resume is null)
        {
            ModelDiagram.Write(s.Plot, ModelView.Rows(Model, AdderModels.InputShape(Task.Info)), "sequential");
            output.WriteLine($"drew the model to {s.Plot}");
        }
        if (Resume is not null) output.WriteLine($"resuming {Request.Resume} at epoch {Resume.Position.Epoch + 1}, step {Resume.Position.Step + 1}");
        output.WriteLine(Task.AllPairs
            ? $"data: all {Task.SampleCount.ToString("N0", CultureInfo.InvariantCulture)} pairs of {s.Bits}-bit numbers, {s.Encoding} encoding"
            : $"data: {s.SamplesPerEpoch.ToString("N0", CultureInfo.InvariantCulture)} random pairs of {s.Bits}-bit numbers per epoch, {s.Encoding} encoding");
    }

    /// <summary>The fit loop for this run: the settings as loop options, the epoch printer (and <paramref name="bar"/>) as callbacks.</summary>
    public Trainer<float> Trainer(EpochProgressBar? bar, CancellationToken cancellation)
    {
        var s = Settings;
        // Absolute paths, so that --resume from another folder writes the same files; the diagram was drawn at the start.
        string runSettings = TrainRunRecord.Settings(Preset, s with
        {
            Out = Path.GetFullPath(s.Out),
            History = s.History is null ? null : Path.GetFullPath(s.History),
            Plot = null,
        }, Request.EverySteps);
        var options = new FitOptions
        {
            Epochs = s.Epochs,
            BatchSize = s.Batch,
            Seed = s.Seed,
            ClipValue = s.Clip,
            CancellationToken = cancellation,
            Schedule = s.LearningRateSchedule(),
            EarlyStopping = s.EarlyStop(),
            StopWhenPerfect = s.UntilPerfect,
            KeepBest = true,
            HistoryPath = s.HistoryPath,
            CheckpointPath = Request.Path,
            CheckpointEverySteps = Request.EverySteps,
            CheckpointSettings = runSettings,
            CheckpointMetadata = new ModelMetadata { Task = Task.Info },
        };
        Action<string> writeLine = bar is null ? Console.Out.WriteLine : line => AnsiConsole.Console.WriteLine(line);
        var printer = new EpochPrinter(writeLine, s.Epochs, Task.SampleCount);
        ITrainingCallback[] callbacks = bar is null ? [printer] : [bar, printer];
        return new Trainer<float>(Model, Task, options, callbacks, new RandomGenerator(s.Seed));
    }

    /// <summary>Saves the best epoch's weights to <c>--out</c> with the task and a training summary.</summary>
    public void Save(Trainer<float> trainer, double seconds, bool interrupted)
    {
        var s = Settings;
        var best = trainer.Best.Epoch ?? throw new InvalidOperationException("No epoch has ended.");
        trainer.Best.Restore();
        var training = new Dictionary<string, string>
        {
            ["preset"] = Preset,
            ["flags"] = s.Flags(),
            ["epochs"] = (trainer.History[^1].Epoch + 1).ToString(CultureInfo.InvariantCulture),
            ["best_epoch"] = (best.Epoch + 1).ToString(CultureInfo.InvariantCulture),
            ["final_loss"] = best.Loss.ToString("G6", CultureInfo.InvariantCulture),
            ["exact"] = best.Get(MetricNames.Exact).ToString("G6", CultureInfo.InvariantCulture),
            ["seed"] = s.Seed.ToString(CultureInfo.InvariantCulture),
            ["wall_time_s"] = seconds.ToString("F1", CultureInfo.InvariantCulture),
            ["interrupted"] = interrupted ? "true" : "false",
        };
        ModelFile.Save(s.Out, Model, new ModelMetadata { Task = Task.Info, Training = training });
    }

    /// <summary>
    /// The exception to report a diverged run with: an output file from before the run is left
    /// as it was; otherwise the best epoch so far is saved, if there is one.
    /// </summary>
    public TrainingDivergedException Diverged(Trainer<float> trainer, TrainingDivergedException e)
    {
        // The diverged step never reached a checkpoint.
        string kept = trainer.CheckpointsWritten > 0 ? $" The last good checkpoint is {CheckpointPath}." : "";
        if (OutputExisted) return new TrainingDivergedException(e.Message + $" {Settings.Out} was left as it was." + kept, e);
        if (trainer.Best.Epoch is not { } best) return new TrainingDivergedException(e.Message + " Nothing was saved." + kept, e);
        Save(trainer, trainer.Seconds, interrupted: false);
        return new TrainingDivergedException(e.Message + $" Saved the best model so far (epoch {best.Epoch + 1}) to {Settings.Out}." + kept, e);
    }
}

/// <summary>Prints one line per epoch: loss, exact rate and time.</summary>
internal sealed class EpochPrinter(Action<string> writeLine, int epochs, int samples) : ITrainingCallback
{
    public void OnEpochEnd(EpochSummary summary, TrainingControl control) => writeLine(string.Create(CultureInfo.InvariantCulture,
        $"epoch {summary.Epoch + 1}/{epochs}  loss {summary.Loss:F4}  exact {TrainCommand.Percent(summary.Get(MetricNames.Exact), samples)}  {summary.Elapsed.TotalSeconds:F1} s"));
}

/// <summary>A live progress bar over the current epoch's batches (samples seen, running loss).</summary>
internal sealed class EpochProgressBar(int epochs) : ITrainingCallback
{
    private ProgressTask? _task;

    /// <summary>The live display to draw in; set once it has started.</summary>
    public ProgressContext? Context { get; set; }

    public void OnEpochBegin(int epoch, int batchCount)
    {
        if (Context is null) return;
        _task ??= Context.AddTask($"epoch {epoch + 1}/{epochs}");
        _task.Value = 0;
    }

    public void OnBatchEnd(BatchProgress progress)
    {
        if (_task is null) return;
        _task.MaxValue = progress.SampleCount;
        _task.Value = progress.SamplesSeen;
        _task.Description = string.Create(CultureInfo.InvariantCulture,
            $"epoch {progress.Epoch + 1}/{epochs}  {progress.SamplesSeen}/{progress.SampleCount}  loss {progress.Loss:F4}");
    }
}
