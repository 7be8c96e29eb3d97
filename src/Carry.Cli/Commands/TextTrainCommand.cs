using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;
using Carry.Text;
using Carry.Training;

namespace Carry.Cli.Commands;

/// <summary>What <c>carry train text</c> was asked to do; stored in checkpoints so that <c>--resume</c> continues the same run.</summary>
internal sealed record TextTrainSettings
{
    public string Preset { get; init; } = "text";
    public string Corpus { get; init; } = "";
    public string Out { get; init; } = "text.carry";
    public int Epochs { get; init; } = 50;
    public ulong Seed { get; init; }
    public CharRnnOptions Model { get; init; } = new();

    /// <summary>The history files beside the model: per epoch, and every <c>--eval-every</c> steps.</summary>
    public string HistoryPath => HistoryCsv.PathBeside(Out);

    public string StepsPath => Out + ".steps.csv";

    public string Flags() => string.Create(CultureInfo.InvariantCulture,
        $"--corpus {Corpus} --cell {Model.Cell} --layers {Model.Layers} --hidden {Model.HiddenSize} --embedding {Model.Embedding} --dropout {Model.Dropout} --seq {Model.Seq} --batch {Model.Batch} --lr {Model.LearningRate} --rms-decay {Model.RmsDecay} --clip {Model.ClipValue} --clip-norm {Model.ClipNorm} --decay {Model.Decay} --decay-after {Model.DecayAfter} --epochs {Epochs} --seed {Seed} --out {Out}");
}

/// <summary>
/// <c>carry train text --corpus FILE</c> (or <c>--preset shakespeare|tang</c>): a char-rnn with
/// karpathy's defaults, trained by the library's fit loop (<see cref="Trainer{T}"/> over a
/// <see cref="TextTask{T}"/>). Prints the training and validation loss in nats and bits per
/// character every <c>--eval-every</c> steps and at every epoch's end; stops after
/// <c>--epochs</c> or <c>--minutes</c>; saves the model with its vocabulary.
/// </summary>
public static class TextTrainCommand
{
    private static readonly JsonSerializerOptions Json = CarryJson.Resolving(new(JsonSerializerDefaults.Web), CliJson.Default);

    /// <summary>The presets: corpus, output file and input encoding.</summary>
    internal static TextTrainSettings Preset(string? name) => name switch
    {
        null => new TextTrainSettings(),
        "shakespeare" => new TextTrainSettings { Preset = "shakespeare", Corpus = "data/tinyshakespeare.txt", Out = "shakespeare.carry" },
        "tang" => new TextTrainSettings { Preset = "tang", Corpus = "data/tang5.txt", Out = "tang.carry", Model = new CharRnnOptions { Embedding = 128 } },
        _ => throw new UsageException($"--preset must be shakespeare or tang, not '{name}'"),
    };

    /// <summary>The <c>text</c> subcommand of <c>train</c>.</summary>
    public static Command Create()
    {
        var command = new Command("text", "Train a character-level language model (char-rnn) on a UTF-8 text; defaults are karpathy's char-rnn (LSTM 2x128, seq 50, batch 50, RMSprop 2e-3, clip 5).");
        var d = new TextTrainSettings();
        var preset = new Option<string?>("--preset") { Description = "shakespeare (data/tinyshakespeare.txt, one-hot input) or tang (data/tang5.txt, embedding 128)." };
        var corpus = new Option<string?>("--corpus") { Description = "The UTF-8 text to learn (95% training, the last 5% validation)." };
        var output = new Option<string?>("--out", "-o") { Description = "The model file (default text.carry, or the preset's name)." };
        var cell = new Option<string?>("--cell") { Description = "lstm, gru or elman (default lstm)." };
        var layers = new Option<int?>("--layers") { Description = "Stacked recurrent layers (default 2)." };
        var hidden = new Option<int?>("--hidden") { Description = "Units per layer (default 128)." };
        var embedding = new Option<int?>("--embedding") { Description = "Embedding width; 0 feeds one-hot characters (default 0; tang 128)." };
        var dropout = new Option<double?>("--dropout") { Description = "Dropout after each recurrent layer (default 0)." };
        var seq = new Option<int?>("--seq") { Description = "Steps of truncated backpropagation through time (default 50)." };
        var batch = new Option<int?>("--batch") { Description = "Parallel streams through the text (default 50)." };
        var lr = new Option<double?>("--lr") { Description = "RMSprop learning rate (default 0.002)." };
        var rmsDecay = new Option<double?>("--rms-decay") { Description = "RMSprop's squared-gradient decay (default 0.95)." };
        var clip = new Option<double?>("--clip") { Description = "Clip every gradient element to ±this (default 5; 0: off)." };
        var clipNorm = new Option<double?>("--clip-norm") { Description = "Clip the global gradient norm to this (default 0: off)." };
        var decay = new Option<double?>("--decay") { Description = "Multiply the learning rate by this after every epoch past --decay-after (default 0.97)." };
        var decayAfter = new Option<int?>("--decay-after") { Description = "Epochs at the initial learning rate (default 10)." };
        var epochs = new Option<int?>("--epochs") { Description = "Most epochs (default 50)." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of the weights and dropout (default 0)." };
        var minutes = new Option<double>("--minutes") { Description = "Stop after this many minutes of training (fractions allowed; 0: no limit), then score and save.", DefaultValueFactory = _ => 0 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Also score the validation text every N steps (0: at epoch ends only).", DefaultValueFactory = _ => 100 };
        var threads = new Option<int>("--threads") { Description = "Threads for the matrix products (0: every core).", DefaultValueFactory = _ => 0 };
        Option[] all = [preset, corpus, output, cell, layers, hidden, embedding, dropout, seq, batch, lr, rmsDecay, clip, clipNorm, decay, decayAfter, epochs, seed, minutes, evalEvery, threads];
        foreach (var o in all) command.Options.Add(o);
        var checkpoints = new CheckpointFlags();
        checkpoints.AddTo(command);
        command.SetAction(parse =>
        {
            var request = checkpoints.Read(parse, minutes, evalEvery, threads);
            var budget = new RunBudget(parse.GetValue(minutes), parse.GetValue(evalEvery), parse.GetValue(threads));
            if (request.Resume is not null) return Run(null, request, budget);
            var s = Preset(parse.GetValue(preset));
            var m = s.Model;
            s = s with
            {
                Corpus = parse.GetValue(corpus) ?? s.Corpus,
                Out = parse.GetValue(output) ?? s.Out,
                Epochs = parse.GetValue(epochs) ?? s.Epochs,
                Seed = parse.GetValue(seed) ?? s.Seed,
                Model = m with
                {
                    Cell = parse.GetValue(cell) ?? m.Cell, Layers = parse.GetValue(layers) ?? m.Layers, HiddenSize = parse.GetValue(hidden) ?? m.HiddenSize,
                    Embedding = parse.GetValue(embedding) ?? m.Embedding, Dropout = parse.GetValue(dropout) ?? m.Dropout, Seq = parse.GetValue(seq) ?? m.Seq,
                    Batch = parse.GetValue(batch) ?? m.Batch, LearningRate = parse.GetValue(lr) ?? m.LearningRate, RmsDecay = parse.GetValue(rmsDecay) ?? m.RmsDecay,
                    ClipValue = parse.GetValue(clip) ?? m.ClipValue, ClipNorm = parse.GetValue(clipNorm) ?? m.ClipNorm, Decay = parse.GetValue(decay) ?? m.Decay,
                    DecayAfter = parse.GetValue(decayAfter) ?? m.DecayAfter,
                },
            };
            return Run(s, request, budget);
        });
        return command;
    }

    /// <summary>Flags that may change on <c>--resume</c>: this session's time budget, evaluation interval and threads.</summary>
    internal sealed record RunBudget(double Minutes, int EvalEvery, int Threads);

    internal static int Run(TextTrainSettings? settings, CheckpointRequest request, RunBudget budget)
    {
        if (!(budget.Minutes >= 0) || double.IsInfinity(budget.Minutes)) throw new UsageException($"--minutes must be a number ≥ 0, not {budget.Minutes.ToString(CultureInfo.InvariantCulture)}");
        if (budget.EvalEvery < 0) throw new UsageException($"--eval-every must be 0 or more steps, not {budget.EvalEvery}");
        if (budget.Threads is < 0 or > 256) throw new UsageException($"--threads must be between 0 (every core) and 256, not {budget.Threads}");
        TrainingCheckpoint<float>? resume = null;
        if (request.Resume is not null)
        {
            resume = Checkpoint.Load<float>(request.Resume);
            settings = ReadSettings(resume.Settings, request.Resume);
            request = request with { Path = request.Path ?? request.Resume };
        }
        var s = Validate(settings!);
        OutputPath.Check("--out", s.Out);
        if (request.Path is not null && Path.GetFullPath(request.Path) == Path.GetFullPath(s.Out)) throw new UsageException($"--checkpoint and --out are the same file ({s.Out}); give the checkpoint its own name");
        if (!File.Exists(s.Corpus)) throw new UsageException($"--corpus {s.Corpus}: no such file");
        var corpus = TextCorpus.Load(s.Corpus, s.Model.Batch, s.Model.Seq);
        var model = resume?.Model ?? CharRnn.Create<float>(corpus.Vocabulary, s.Model, s.Seed);
        if (resume is not null && resume.Metadata.Vocabulary != corpus.Vocabulary.ToText()) throw new UsageException($"{request.Resume}: the checkpoint's vocabulary is not that of {s.Corpus} (has the corpus changed?)");
        CharRnn.Compile(model, corpus.Vocabulary, s.Model);
        using var compute = budget.Threads > 0 ? new ComputeContext(budget.Threads) : null;
        if (compute is not null) model.Compute = compute;
        var task = new TextTask<float>(corpus, s.Model, CharRnn.InputWidth(model, corpus.Vocabulary));
        var output = Console.Out;
        PrintHeader(output, s, corpus, task, model);

        using var interrupt = new InterruptSignal();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token);
        if (budget.Minutes > 0) stop.CancelAfter(TimeSpan.FromMinutes(budget.Minutes));
        var metadata = new ModelMetadata { Vocabulary = corpus.Vocabulary.ToText() };
        var options = new FitOptions
        {
            Epochs = s.Epochs,
            Seed = s.Seed,
            Shuffle = false,
            Schedule = s.Model.Decay < 1 ? new StepDecay(s.Model.Decay, after: s.Model.DecayAfter) : null,
            HistoryPath = s.HistoryPath,
            CheckpointPath = request.Path,
            CheckpointEverySteps = request.EverySteps,
            CheckpointSettings = JsonSerializer.Serialize(s with { Out = Path.GetFullPath(s.Out), Corpus = Path.GetFullPath(s.Corpus) }, Json.For<TextTrainSettings>()),
            CheckpointMetadata = metadata,
            CancellationToken = stop.Token,
        };
        Trainer<float>? trainer = null;
        var progress = new TextProgress(output, task, model, budget.EvalEvery, s.StepsPath, resume is not null, () => trainer!.Seconds);
        trainer = new Trainer<float>(model, task, options, [progress]);
        TrainingResult result;
        try
        {
            result = trainer.Run(resume);
        }
        catch (TrainingDivergedException e)
        {
            throw new TrainingDivergedException(e.Message + (request.Path is not null ? $" The last good checkpoint is {request.Path}." : "") + $" {s.Out} was not written.", e);
        }
        bool interrupted = result.Cancelled && interrupt.Token.IsCancellationRequested;
        double val = task.ValidationStreams > 0 ? task.ValidationLoss(model) : double.NaN;
        string why = interrupted ? "interrupted" : result.Cancelled ? $"time budget of {budget.Minutes.ToString(CultureInfo.InvariantCulture)} min reached" : $"{result.CompletedEpochs} epochs done";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{why} after {trainer.Seconds:F1} s, {model.Optimizer!.StepCount:N0} steps ({(double)model.Optimizer.StepCount / task.StepsPerEpoch:F2} epochs): {TextProgress.Val(val)}"));
        var training = new Dictionary<string, string>
        {
            ["preset"] = s.Preset,
            ["corpus"] = Path.GetFileName(s.Corpus),
            ["steps"] = model.Optimizer.StepCount.ToString(CultureInfo.InvariantCulture),
            ["epochs"] = ((double)model.Optimizer.StepCount / task.StepsPerEpoch).ToString("F2", CultureInfo.InvariantCulture),
            ["val_loss"] = val.ToString("F4", CultureInfo.InvariantCulture),
            ["seconds"] = trainer.Seconds.ToString("F1", CultureInfo.InvariantCulture),
            ["flags"] = s.Flags() + $" --seed {s.Seed}",
        };
        ModelFile.Save(s.Out, model, metadata with { Training = training });
        output.WriteLine($"saved {s.Out}; history {s.HistoryPath}, {s.StepsPath}" + (request.Path is not null ? $"; checkpoint {request.Path}" : ""));
        return interrupted ? ExitCodes.Interrupted : ExitCodes.Success;
    }

    private static TextTrainSettings Validate(TextTrainSettings s)
    {
        if (string.IsNullOrWhiteSpace(s.Corpus)) throw new UsageException("give --corpus FILE (a UTF-8 text) or --preset shakespeare|tang");
        if (s.Epochs < 1) throw new UsageException($"--epochs must be at least 1, not {s.Epochs}");
        try
        {
            s.Model.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new UsageException($"--{Flag(e.ParamName)}: {Check.Plain(e)}");
        }
        return s;
    }

    private static string Flag(string? option) => option switch
    {
        nameof(CharRnnOptions.HiddenSize) => "hidden",
        nameof(CharRnnOptions.LearningRate) => "lr",
        nameof(CharRnnOptions.RmsDecay) => "rms-decay",
        nameof(CharRnnOptions.ClipValue) => "clip",
        nameof(CharRnnOptions.ClipNorm) => "clip-norm",
        nameof(CharRnnOptions.DecayAfter) => "decay-after",
        _ => (option ?? "?").ToLowerInvariant(),
    };

    private static TextTrainSettings ReadSettings(string json, string path)
    {
        try
        {
            return JsonSerializer.Deserialize(json, Json.For<TextTrainSettings>()) ?? throw new JsonException("null");
        }
        catch (JsonException)
        {
            throw new UsageException($"{path}: not a checkpoint of 'carry train text' (its settings are not a text run's)");
        }
    }

    private static void PrintHeader(TextWriter output, TextTrainSettings s, TextCorpus corpus, TextTask<float> task, Sequential<float> model)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"carry train text ({s.Preset}): {s.Flags()}");
        output.WriteLine(string.Create(c, $"corpus: {s.Corpus}, {corpus.Symbols.Length:N0} characters, {corpus.Vocabulary.Count:N0} symbols; training {corpus.ValidationStart:N0} in {s.Model.Batch} streams ({task.StepsPerEpoch:N0} steps an epoch), validation {corpus.Validation.Length:N0} in {task.ValidationStreams} streams"));
        output.WriteLine(string.Create(c, $"model: {ModelView.Chain(model)}  ({model.ParameterCount:N0} parameters); RMSprop lr {s.Model.LearningRate} decay {s.Model.RmsDecay}, clip ±{s.Model.ClipValue}"));
    }
}

/// <summary>
/// The lines <c>carry train text</c> prints: every N steps the running training loss and the
/// validation loss, at every epoch's end the epoch's; and the every-N-steps rows of
/// <c>MODEL.steps.csv</c> (<c>iteration</c>, <c>loss</c>, <c>val_loss</c>, <c>seconds</c>).
/// </summary>
internal sealed class TextProgress(TextWriter output, TextTask<float> task, Sequential<float> model, int evalEvery, string stepsPath, bool resumed, Func<double> runSeconds) : ITrainingCallback
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<double[]> _rows = resumed ? ReadRows(stepsPath) : [];
    private double _intervalLoss;
    private int _intervalSteps;
    private long _charsSince;
    private double _secondsAtMark;

    /// <summary><c>val 1.6012 nats/char (2.3100 bits/char)</c>.</summary>
    public static string Val(double nats) => double.IsNaN(nats) ? "no validation text" : string.Create(CultureInfo.InvariantCulture, $"val {nats:F4} nats/char ({nats / Math.Log(2):F4} bits/char)");

    private static string Train(double nats) => string.Create(CultureInfo.InvariantCulture, $"train {nats:F4} nats/char ({nats / Math.Log(2):F4} bits/char)");

    public void OnBatchEnd(BatchProgress progress)
    {
        _intervalLoss += task.LastStepLoss;
        _intervalSteps++;
        _charsSince += task.CharactersPerStep;
        long step = model.Optimizer!.StepCount;
        if (evalEvery <= 0 || step % evalEvery != 0) return;
        double val = task.ValidationStreams > 0 ? task.ValidationLoss(model) : double.NaN;
        double seconds = _clock.Elapsed.TotalSeconds, rate = _charsSince / Math.Max(1e-9, seconds - _secondsAtMark);
        double train = _intervalLoss / _intervalSteps;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"step {step:N0} (epoch {progress.Epoch + 1}, {progress.Batch + 1}/{progress.BatchCount})  {Train(train)}  {Val(val)}  {rate:N0} chars/s  {runSeconds():F1} s"));
        _rows.Add([step, train, val, runSeconds()]);
        HistoryCsv.WriteText(stepsPath, HistoryCsv.Format(["iteration", MetricNames.Loss, MetricNames.ValidationLoss, MetricNames.Seconds], _rows));
        (_intervalLoss, _intervalSteps, _charsSince, _secondsAtMark) = (0, 0, 0, _clock.Elapsed.TotalSeconds);
    }

    public void OnEpochEnd(EpochSummary summary, TrainingControl control)
    {
        double val = summary.Metrics.TryGetValue(MetricNames.ValidationLoss, out double v) ? v : double.NaN;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {summary.Epoch + 1}  {Train(summary.Loss)}  {Val(val)}  lr {summary.LearningRate:G4}  {summary.Elapsed.TotalSeconds:F1} s ({task.StepsPerEpoch * (double)task.CharactersPerStep / summary.Elapsed.TotalSeconds:N0} chars/s)"));
    }

    private static List<double[]> ReadRows(string path)
    {
        if (!File.Exists(path)) return [];
        return File.ReadLines(path).Skip(1).Select(line => line.Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray()).ToList();
    }
}
