using Carry.Arithmetic;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Serialization;
using Carry.Training;
using Spectre.Console;

namespace Carry.Cli.Commands;

/// <summary><c>carry train</c>: the presets (<c>iamtrask</c>, <c>keras</c>, ...) as subcommands, and the general form.</summary>
public static class TrainCommand
{
    /// <summary>The <c>train</c> verb with one subcommand per preset; alone it is the general form.</summary>
    public static Command Create()
    {
        var train = new Command("train", "Train a model: a preset that reproduces an experiment, or the general form (flags below).");
        var general = new TrainOptions(new TrainSettings(), general: true);
        general.AddTo(train);
        var generalCheckpoints = new CheckpointFlags();
        generalCheckpoints.AddTo(train);
        train.SetAction(parse => Run(general.Read(parse), "general", generalCheckpoints.Read(parse)));
        train.Subcommands.Add(IamtraskCommand.Create());
        train.Subcommands.Add(TextTrainCommand.Create());
        foreach (var preset in TrainPreset.All)
        {
            var command = new Command(preset.Name, $"{preset.Description} Flags: {preset.Settings.Flags()}.");
            var options = new TrainOptions(preset.Settings, general: false);
            options.AddTo(command);
            var checkpoints = new CheckpointFlags();
            checkpoints.AddTo(command);
            command.SetAction(parse => Run(options.Read(parse), preset.Name, checkpoints.Read(parse)));
            train.Subcommands.Add(command);
        }
        return train;
    }

    /// <summary>Builds, trains and saves an adder; returns the exit code.</summary>
    internal static int Run(TrainSettings settings, string presetName) => Run(settings, presetName, CheckpointRequest.None);

    /// <summary>
    /// Builds (or, with <c>--resume</c>, reloads), trains and saves an adder, writing checkpoints
    /// if asked; returns the exit code. Everything that decides the final weights — weights,
    /// optimizer state and learning rate, the shuffling, dropout and data generators, the sample
    /// order and position within the epoch, the best epoch so far — is in the checkpoint, so a
    /// resumed run ends with the same model as one that never stopped.
    /// </summary>
    internal static int Run(TrainSettings settings, string presetName, CheckpointRequest request)
    {
        TrainingCheckpoint<float>? resume = null;
        RunProgress? progress = null;
        if (request.Resume is not null)
        {
            resume = Checkpoint.Load<float>(request.Resume);
            (presetName, settings, int every) = TrainRunRecord.ReadSettings(resume.Settings, request.Resume);
            progress = TrainRunRecord.ReadState(resume.State, request.Resume);
            if (request.EverySteps == 0 && every > 0) request = request with { EverySteps = every };
        }
        var s = settings.Validate();
        CheckWritable(s.Out);
        if (request.Path is not null && Path.GetFullPath(request.Path) == Path.GetFullPath(s.Out))
        {
            throw new UsageException($"--checkpoint and --out are the same file ({s.Out}); give the checkpoint its own name");
        }
        var output = Console.Out;
        var model = resume?.Model ?? AdderModels.Build(s);
        if (resume is null) model.Initialize(s.Init, s.Seed);
        using var compute = s.Threads > 0 ? new ComputeContext(s.Threads) : null;
        if (compute is not null) model.Compute = compute;
        var optimizer = s.Optimizer == "adam"
            ? new Adam<float>(s.LearningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-7)
            : Optimizer<float>.Create(s.Optimizer, s.LearningRate);
        model.Compile(Loss<float>.Create(s.Loss), optimizer);
        resume?.RestoreOptimizer(optimizer);
        var task = AdderModels.Task(s);
        output.WriteLine($"carry train {presetName}: {s.Flags()} --seed {s.Seed}");
        output.WriteLine($"model: {ModelView.Chain(model)}  ({model.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters)");
        if (s.Plot is not null && resume is null)
        {
            ModelDiagram.Write(s.Plot, ModelView.Rows(model, AdderModels.InputShape(task)), "sequential");
            output.WriteLine($"drew the model to {s.Plot}");
        }

        var dataRandom = new RandomGenerator(s.Seed + 2);
        var shuffler = new RandomGenerator(s.Seed);
        var position = resume?.Position ?? TrainingPosition.Start;
        if (resume is not null)
        {
            shuffler = resume.Random();
            dataRandom = resume.Random(DataGenerator);
            output.WriteLine($"resuming {request.Resume} at epoch {position.Epoch + 1}, step {position.Step + 1}");
        }
        // The data of an epoch is drawn at its start (every epoch for random pairs, once for all pairs);
        // a checkpoint keeps the generator's state from before the draw, so a resumed run draws the same data.
        ulong[] dataStateBefore = dataRandom.GetState();
        int dataEpoch = -1;
        Tensor<float>? inputs = null, targets = null;
        void DrawData(int epoch)
        {
            if (inputs is not null && s.AllPairs) return;
            dataStateBefore = dataRandom.GetState();
            (inputs, targets) = AdderModels.Data(s.Encoding, s.Bits, s.SamplesPerEpoch, dataRandom);
            dataEpoch = epoch;
        }
        DrawData(position.Epoch);
        output.WriteLine(s.AllPairs
            ? $"data: all {inputs!.Dim(0).ToString("N0", CultureInfo.InvariantCulture)} pairs of {s.Bits}-bit numbers, {s.Encoding} encoding"
            : $"data: {s.SamplesPerEpoch.ToString("N0", CultureInfo.InvariantCulture)} random pairs of {s.Bits}-bit numbers per epoch, {s.Encoding} encoding");

        using var interrupt = new InterruptSignal();
        bool live = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var best = new BestModel(model);
        int completed = progress?.Completed ?? 0;
        double previousSeconds = progress?.ElapsedSeconds ?? 0;
        if (resume is not null && progress!.BestEpoch >= 0)
        {
            best.Load(progress, resume.ExtraTensors, request.Resume!);
        }
        var clock = Stopwatch.StartNew();
        double lastLoss = double.NaN;
        bool cancelled = false;
        bool outputExisted = File.Exists(s.Out);
        // Absolute output path, so that --resume from another folder writes the same file; the diagram was drawn at the start.
        string runSettings = TrainRunRecord.Settings(presetName, s with { Out = Path.GetFullPath(s.Out), Plot = null }, request.EverySteps);
        CheckpointCallback<float>? checkpoints = null;
        if (request.Path is not null)
        {
            checkpoints = new CheckpointCallback<float>(request.Path, model, shuffler, runSettings, request.EverySteps, position,
                new ModelMetadata { Task = task }, () => new CheckpointExtras<float>(
                    new Dictionary<string, RandomGenerator>
                    {
                        // Mid-epoch, or at an epoch boundary whose data is already drawn: the state before that draw.
                        [DataGenerator] = Generator(checkpoints!.Position.Epoch == dataEpoch || s.AllPairs ? dataStateBefore : dataRandom.GetState()),
                    },
                    best.Export(),
                    TrainRunRecord.State(best.Progress(completed, previousSeconds + clock.Elapsed.TotalSeconds))),
                saveAtEpochEnd: false);
        }
        ITrainingCallback[] callbacks = checkpoints is null ? [] : [checkpoints];
        try
        {
            for (int epoch = position.Epoch; epoch < s.Epochs; epoch++)
            {
                if (dataEpoch != epoch) DrawData(epoch);
                var epochClock = Stopwatch.StartNew();
                var options = new FitOptions
                {
                    Epochs = epoch + 1,
                    InitialEpoch = epoch,
                    BatchSize = s.Batch,
                    Seed = s.Seed,
                    ClipValue = s.Clip,
                    CancellationToken = interrupt.Token,
                };
                // Each epoch's Fit starts from the order 0..N-1; only a mid-epoch resume brings its own.
                if (epoch == position.Epoch && position.Step > 0) options = position.Continue(options);
                var fit = live
                    ? FitWithProgressBar(model, inputs!, targets!, options, shuffler, epoch, s.Epochs, callbacks)
                    : model.Fit(inputs!, targets!, options, callbacks, shuffler);
                if (fit.Cancelled || fit.History.Count == 0)
                {
                    cancelled = true;
                    break;
                }
                lastLoss = fit.History[0].Loss;
                // All pairs of a concat model: score them through the prefix trie (same outputs, ~8x less work).
                var evaluation = s.AllPairs && s.Encoding == ConcatEncoding.Name && AllPairsInference.Supports(model, s.Bits)
                    ? AllPairsInference.Evaluate(model, s.Bits, targets!)
                    : model.Evaluate(inputs!, targets!);
                completed = epoch + 1;
                best.Offer(epoch, evaluation.ExactMatch, evaluation.Loss, lastLoss);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {epoch + 1}/{s.Epochs}  loss {lastLoss:F4}  exact {Percent(evaluation.ExactMatch, inputs!.Dim(0))}  {epochClock.Elapsed.TotalSeconds:F1} s"));
                optimizer.LearningRate *= s.Decay;
                checkpoints?.Save();
                if (s.UntilPerfect && evaluation.ExactMatch >= 1.0)
                {
                    output.WriteLine($"every training pair is exact after {completed} epochs: stopping (--until-perfect)");
                    break;
                }
                if (interrupt.Token.IsCancellationRequested)
                {
                    cancelled = true;
                    break;
                }
            }
        }
        catch (TrainingDivergedException e)
        {
            // The diverged step never reached a checkpoint; an output file from before this run is left as it was.
            string kept = checkpoints is { SaveCount: > 0 } ? $" The last good checkpoint is {checkpoints.Path}." : "";
            if (outputExisted)
            {
                throw new TrainingDivergedException(e.Message + $" {s.Out} was left as it was." + kept, e);
            }
            string saved = best.HasModel ? $" Saved the best model so far (epoch {best.Epoch + 1}) to {s.Out}." : " Nothing was saved.";
            if (best.HasModel) Save(model, best, s, task, presetName, completed, clock.Elapsed, interrupted: false);
            throw new TrainingDivergedException(e.Message + saved + kept, e);
        }

        string resumeHint = "";
        if (cancelled && checkpoints is not null && checkpoints.Save())
        {
            var at = checkpoints.Position;
            resumeHint = $" Checkpoint written; it continues at epoch {at.Epoch + 1}, step {at.Step + 1}: resume with 'carry train --resume {checkpoints.Path}'.";
        }
        else if (cancelled)
        {
            resumeHint = " (No --checkpoint was given, so this run cannot be resumed.)";
        }
        if (!best.HasModel)
        {
            Console.Error.WriteLine($"carry: interrupted before the first epoch ended; no model was saved.{resumeHint}");
            return ExitCodes.Interrupted;
        }
        Save(model, best, s, task, presetName, completed, clock.Elapsed + TimeSpan.FromSeconds(previousSeconds), cancelled);
        string what = string.Create(CultureInfo.InvariantCulture,
            $"the best model (epoch {best.Epoch + 1}, exact {Percent(best.Exact, inputs!.Dim(0))}, loss {best.TrainingLoss:F4}) to {s.Out}");
        if (cancelled)
        {
            Console.Error.WriteLine($"carry: interrupted after {completed} epochs; saved {what}.{resumeHint}");
            return ExitCodes.Interrupted;
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained {completed} epochs in {clock.Elapsed.TotalSeconds:F1} s; saved {what}"));
        return ExitCodes.Success;
    }

    /// <summary>Fails before any training when the model could not be saved to <paramref name="path"/> afterwards.</summary>
    internal static void CheckWritable(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UsageException($"--out {path}: is a folder, not a file");
        string? folder = Path.GetDirectoryName(full);
        if (folder is not null && !Directory.Exists(folder)) throw new UsageException($"--out {path}: the folder '{folder}' does not exist");
    }

    /// <summary>The checkpoint name of the data generator's state.</summary>
    private const string DataGenerator = "data";

    private static RandomGenerator Generator(ulong[] state)
    {
        var random = new RandomGenerator(0);
        random.SetState(state);
        return random;
    }

    /// <summary>
    /// <c>45.2%</c>, rounded down so that 100.0% means every pair; near the top, also how many
    /// of the <paramref name="count"/> pairs are still wrong (<c>99.9% (3 wrong)</c>).
    /// </summary>
    internal static string Percent(double exact, int count)
    {
        int wrong = (int)Math.Round((1 - exact) * count);
        string text = (Math.Floor(exact * 1000) / 10).ToString("F1", CultureInfo.InvariantCulture) + "%";
        return wrong > 0 && wrong <= 1000 ? $"{text} ({wrong} wrong)" : text;
    }

    private static FitResult FitWithProgressBar(Sequential<float> model, Tensor<float> inputs, Tensor<float> targets, FitOptions options,
        RandomGenerator shuffler, int epoch, int epochs, IReadOnlyList<ITrainingCallback> callbacks)
    {
        FitResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask($"epoch {epoch + 1}/{epochs}", maxValue: inputs.Dim(0));
                result = model.Fit(inputs, targets, options, [new ProgressCallback(task, epoch, epochs), .. callbacks], shuffler);
                task.StopTask();
            });
        return result!;
    }

    private static void Save(Sequential<float> model, BestModel best, TrainSettings s, TaskInfo task, string preset, int completed, TimeSpan wall, bool interrupted)
    {
        best.Restore();
        var training = new Dictionary<string, string>
        {
            ["preset"] = preset,
            ["flags"] = s.Flags(),
            ["epochs"] = completed.ToString(CultureInfo.InvariantCulture),
            ["best_epoch"] = (best.Epoch + 1).ToString(CultureInfo.InvariantCulture),
            ["final_loss"] = best.TrainingLoss.ToString("G6", CultureInfo.InvariantCulture),
            ["exact"] = best.Exact.ToString("G6", CultureInfo.InvariantCulture),
            ["seed"] = s.Seed.ToString(CultureInfo.InvariantCulture),
            ["wall_time_s"] = wall.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
            ["interrupted"] = interrupted ? "true" : "false",
        };
        ModelFile.Save(s.Out, model, new ModelMetadata { Task = task, Training = training });
    }

    /// <summary>Updates a Spectre progress task after every batch: samples, running loss.</summary>
    private sealed class ProgressCallback(ProgressTask task, int epoch, int epochs) : ITrainingCallback
    {
        public void OnBatchEnd(BatchProgress progress)
        {
            task.Value = progress.SamplesSeen;
            task.Description = string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch + 1}/{epochs}  {progress.SamplesSeen}/{progress.SampleCount}  loss {progress.Loss:F4}");
        }
    }

    /// <summary>Copies of the parameters of the best epoch so far: most exact, then lowest loss.</summary>
    private sealed class BestModel(Sequential<float> model)
    {
        private float[][]? _values;

        public bool HasModel => _values is not null;
        public int Epoch { get; private set; } = -1;
        public double Exact { get; private set; } = -1;
        public double EvalLoss { get; private set; } = double.PositiveInfinity;
        public double TrainingLoss { get; private set; } = double.NaN;

        public void Offer(int epoch, double exact, double evalLoss, double trainingLoss)
        {
            if (_values is not null && (exact < Exact || (exact == Exact && !(evalLoss < EvalLoss)))) return;
            _values = model.ParameterList.Select(p => p.Value.Span.ToArray()).ToArray();
            Epoch = epoch;
            Exact = exact;
            EvalLoss = evalLoss;
            TrainingLoss = trainingLoss;
        }

        /// <summary>The best epoch's weights for a checkpoint (<c>best.{i}</c>), or none before the first epoch ends.</summary>
        public Dictionary<string, float[]>? Export()
            => _values?.Select((v, i) => (v, i)).ToDictionary(x => $"best.{x.i}", x => x.v);

        /// <summary>The run's progress for a checkpoint.</summary>
        public RunProgress Progress(int completed, double seconds)
            => new(completed, Epoch, Exact, double.IsFinite(EvalLoss) ? EvalLoss : null, double.IsFinite(TrainingLoss) ? TrainingLoss : null, seconds);

        /// <summary>Restores the best epoch from a checkpoint.</summary>
        public void Load(RunProgress progress, IReadOnlyDictionary<string, float[]> tensors, string path)
        {
            var parameters = model.ParameterList;
            var values = new float[parameters.Count][];
            for (int i = 0; i < values.Length; i++)
            {
                if (!tensors.TryGetValue($"best.{i}", out var v) || v.Length != parameters[i].Length)
                {
                    throw new ModelFormatException(path, $"the checkpoint's best-epoch weights for parameter {i} are missing or the wrong size.");
                }
                values[i] = v;
            }
            _values = values;
            Epoch = progress.BestEpoch;
            Exact = progress.BestExact;
            EvalLoss = progress.BestEvalLoss ?? double.PositiveInfinity;
            TrainingLoss = progress.BestTrainingLoss ?? double.NaN;
        }

        public void Restore()
        {
            if (_values is null) return;
            var parameters = model.ParameterList;
            for (int i = 0; i < parameters.Count; i++) _values[i].CopyTo(parameters[i].Value.Span);
        }
    }
}

/// <summary>Turns Ctrl-C (SIGINT) and SIGTERM into a cancellation request instead of killing the process.</summary>
internal sealed class InterruptSignal : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly List<System.Runtime.InteropServices.PosixSignalRegistration> _registrations = [];

    public InterruptSignal()
    {
        Console.CancelKeyPress += OnCancelKeyPress;
        foreach (var signal in new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM })
        {
            try
            {
                _registrations.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    _source.Cancel();
                }));
            }
            catch (PlatformNotSupportedException)
            {
                // Console.CancelKeyPress still covers Ctrl-C.
            }
        }
    }

    /// <summary>Cancelled once a signal arrives.</summary>
    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        foreach (var r in _registrations) r.Dispose();
        _source.Dispose();
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        _source.Cancel();
    }
}
