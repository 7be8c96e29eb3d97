using System.Globalization;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Serialization;
using Carry.Training;

namespace Carry.Tests;

/// <summary>The fit loop (Trainer): schedules, stopping rules, history, best model, resume — on scripted and real tasks.</summary>
public sealed class TrainingLoopTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-loop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    // ---- schedules: the rate of every epoch ----

    /// <summary>The rate each epoch trains with when <paramref name="schedule"/> runs from 1.0 over epochs whose losses are <paramref name="losses"/>.</summary>
    private static double[] Rates(ILearningRateSchedule schedule, params double[] losses)
    {
        var history = new List<EpochSummary>();
        var rates = new double[losses.Length];
        double rate = 1.0;
        for (int e = 0; e < losses.Length; e++)
        {
            rates[e] = rate;
            history.Add(new EpochSummary(e, losses[e], TimeSpan.Zero) { LearningRate = rate });
            rate = schedule.Next(history, rate);
        }
        return rates;
    }

    [Fact]
    public void GivenStepDecay_WhenEpochsEnd_ThenTheRateIsMultipliedEveryNthEpoch()
    {
        Assert.Equal([1, 0.5, 0.25, 0.125], Rates(new StepDecay(0.5), 1, 1, 1, 1));
        Assert.Equal([1, 1, 0.5, 0.5, 0.25], Rates(new StepDecay(0.5, every: 2), 1, 1, 1, 1, 1));
    }

    [Fact]
    public void GivenCosineDecay_WhenEpochsEnd_ThenTheRateFollowsHalfACosineToTheMinimumAndStaysThere()
    {
        var cosine = new CosineDecay(1.0, epochs: 4, minRate: 0.1);
        // min + (1 − min)(1 + cos(πe/4))/2 for e = 0..4, then min.
        double[] expected = [1.0, 0.1 + (0.9 * (1 + Math.Sqrt(0.5)) / 2), 0.55, 0.1 + (0.9 * (1 - Math.Sqrt(0.5)) / 2), 0.1, 0.1];
        var rates = Rates(cosine, 1, 1, 1, 1, 1, 1);
        for (int e = 0; e < expected.Length; e++) Assert.Equal(expected[e], rates[e], 12);
    }

    [Fact]
    public void GivenReduceOnPlateau_WhenTheLossStallsForPatienceEpochs_ThenTheRateHalvesAndTheCountRestarts()
    {
        var plateau = new ReduceOnPlateau(MetricNames.Loss, factor: 0.5, patience: 2);
        // Epochs are counted from 0. Epochs 2 and 3 bring no improvement over epoch 1's 0.9: epoch 4
        // trains at half the rate and the count restarts. Epochs 4 and 5 stall again (0.9 is not
        // below 0.9): epoch 6 halves again; 6 and 7 stall (0.92, 0.91): epoch 8 halves once more.
        double[] losses = [1.0, 0.9, 0.9, 0.95, 0.9, 0.9, 0.92, 0.91, 0.5];
        Assert.Equal([1, 1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.125], Rates(plateau, losses));
    }

    [Fact]
    public void GivenReduceOnPlateauWatchingExact_WhenExactStopsRising_ThenItReducesAndNeverGoesBelowTheMinimum()
    {
        var plateau = new ReduceOnPlateau(MetricNames.Exact, factor: 0.1, patience: 1, minRate: 0.05);
        var history = new List<EpochSummary>();
        double rate = 1.0;
        var rates = new List<double>();
        foreach (double exact in new[] { 0.2, 0.5, 0.5, 0.4, 0.4 })
        {
            rates.Add(rate);
            history.Add(new EpochSummary(history.Count, 1.0, TimeSpan.Zero) { LearningRate = rate, Metrics = new Dictionary<string, double> { [MetricNames.Exact] = exact } });
            rate = plateau.Next(history, rate);
        }
        Assert.Equal([1, 1, 1, 0.1, 0.05], rates);
    }

    // ---- stopping rules, through the loop itself ----

    /// <summary>A task that trains nothing and reports scripted losses and exact rates, one per epoch.</summary>
    private sealed class ScriptedTask(double[] losses, double[]? exact = null) : ITrainingTask<double>
    {
        private int _epoch;

        public EpochOutcome TrainEpoch(Sequential<double> model, EpochContext context)
        {
            _epoch = context.Epoch;
            context.BeginEpoch(1);
            context.ReportBatch(new BatchProgress(context.Epoch, 0, 1, 1, 1, losses[context.Epoch]));
            return new EpochOutcome(losses[context.Epoch], false);
        }

        public IReadOnlyDictionary<string, double> Evaluate(Sequential<double> model) => exact is null
            ? new Dictionary<string, double>()
            : new Dictionary<string, double> { [MetricNames.Exact] = exact[_epoch], [MetricNames.BitAccuracy] = 0.5 };
    }

    private static Sequential<double> TinyModel()
    {
        var model = new Sequential<double>(new Dense<double>(1, 1));
        model.Compile(new MeanSquaredError<double>(), new Sgd<double>(1.0));
        return model;
    }

    [Fact]
    public void GivenEarlyStoppingOnTheLoss_WhenItStallsForPatienceEpochs_ThenTheLoopStopsAfterThatEpoch()
    {
        // Best at epoch 3 (0.4); epochs 4, 5, 6 bring nothing better: patience 3 stops after epoch 6 of 10.
        double[] losses = [1.0, 0.5, 0.4, 0.4, 0.45, 0.41, 0.3, 0.2, 0.1, 0.05];
        var options = new FitOptions { Epochs = 10, EarlyStopping = new EarlyStopping(MetricNames.Loss, patience: 3) };
        var result = new Trainer<double>(TinyModel(), new ScriptedTask(losses), options).Run();
        Assert.Equal(StopReason.EarlyStopping, result.StopReason);
        Assert.Equal(6, result.CompletedEpochs);
        Assert.Equal(losses[..6], result.History.Select(e => e.Loss));
    }

    [Fact]
    public void GivenEarlyStoppingOnExact_WhenExactKeepsRisingSlowly_ThenTheLoopRunsEveryEpoch()
    {
        double[] losses = [1, 1, 1, 1, 1, 1];
        double[] exact = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        var options = new FitOptions { Epochs = 6, EarlyStopping = new EarlyStopping(MetricNames.Exact, patience: 1) };
        var result = new Trainer<double>(TinyModel(), new ScriptedTask(losses, exact), options).Run();
        Assert.Equal(StopReason.EpochsDone, result.StopReason);
        Assert.Equal(6, result.CompletedEpochs);
    }

    [Fact]
    public void GivenStopWhenPerfect_WhenAnEpochIsAllExact_ThenTheLoopStopsThere()
    {
        double[] losses = [1, 0.5, 0.2, 0.1, 0.05];
        double[] exact = [0.5, 0.9, 1.0, 1.0, 1.0];
        var options = new FitOptions { Epochs = 5, StopWhenPerfect = true };
        var result = new Trainer<double>(TinyModel(), new ScriptedTask(losses, exact), options).Run();
        Assert.Equal(StopReason.Perfect, result.StopReason);
        Assert.Equal(3, result.CompletedEpochs);
    }

    [Fact]
    public void GivenATaskWithoutExact_WhenStopWhenPerfectIsAsked_ThenTheLoopSaysWhatIsMissing()
    {
        var options = new FitOptions { Epochs = 2, StopWhenPerfect = true };
        var e = Assert.Throws<InvalidOperationException>(() => new Trainer<double>(TinyModel(), new ScriptedTask([1, 1]), options).Run());
        Assert.Contains("'exact'", e.Message, StringComparison.Ordinal);
    }

    // ---- history ----

    [Fact]
    public void GivenAHistoryPath_WhenTrained_ThenTheCsvHasOneRowPerEpochWithLossExactBitsRateAndSeconds()
    {
        string path = PathOf("run.history.csv");
        double[] losses = [1.0, 0.5, 0.25];
        double[] exact = [0.0, 0.5, 0.75];
        var model = TinyModel();
        var options = new FitOptions { Epochs = 3, HistoryPath = path, Schedule = new StepDecay(0.5) };
        new Trainer<double>(model, new ScriptedTask(losses, exact), options).Run();

        var lines = File.ReadAllLines(path);
        Assert.Equal("epoch,loss,exact,bit_accuracy,lr,seconds", lines[0]);
        Assert.Equal(4, lines.Length);
        double previousSeconds = 0;
        for (int e = 0; e < 3; e++)
        {
            var cells = lines[e + 1].Split(',');
            Assert.Equal((e + 1).ToString(CultureInfo.InvariantCulture), cells[0]);
            Assert.Equal(losses[e], double.Parse(cells[1], CultureInfo.InvariantCulture));
            Assert.Equal(exact[e], double.Parse(cells[2], CultureInfo.InvariantCulture));
            Assert.Equal(0.5, double.Parse(cells[3], CultureInfo.InvariantCulture));
            Assert.Equal(Math.Pow(0.5, e), double.Parse(cells[4], CultureInfo.InvariantCulture));
            double seconds = double.Parse(cells[5], CultureInfo.InvariantCulture);
            Assert.True(seconds >= previousSeconds, "seconds are cumulative");
            previousSeconds = seconds;
        }
        Assert.Equal(0.125, model.Optimizer!.LearningRate); // the rate after the last epoch's decay
    }

    // ---- a real task: best model, checkpoints, resume ----

    private const int Bits = 12, Pairs = 64; // wider than 10 bits: fresh random pairs every epoch

    private static Sequential<float> Adder(ulong seed)
    {
        var model = new Sequential<float>(
            new SimpleRnn<float>(2, 8, Activation.Tanh, returnSequences: true),
            new Dropout<float>(0.1, seed + 1),
            new Dense<float>(8, 1, Activation.Sigmoid));
        model.Initialize(Initialization.Keras, seed);
        return model;
    }

    private static void Compile(Sequential<float> model) => model.Compile(new BinaryCrossEntropy<float>(), new Adam<float>(0.02));

    private FitOptions LoopOptions(string name, CancellationToken token = default) => new()
    {
        Epochs = 5,
        BatchSize = 8,
        Seed = 3,
        Schedule = new StepDecay(0.8),
        KeepBest = true,
        HistoryPath = PathOf(name + ".history.csv"),
        CheckpointPath = PathOf(name + ".ckpt"),
        CheckpointEverySteps = 3,
        CancellationToken = token,
    };

    private static AdditionTask<float> Task() => new(AlignedEncoding.Name, Bits, samplesPerEpoch: Pairs, dataSeed: 5);

    /// <summary>Cancels the run once the optimizer has taken <paramref name="steps"/> steps.</summary>
    private sealed class CancelAfter(Sequential<float> model, long steps, CancellationTokenSource source) : ITrainingCallback
    {
        public void OnBatchEnd(BatchProgress progress)
        {
            if (model.Optimizer!.StepCount == steps) source.Cancel();
        }
    }

    private static string[] WithoutSeconds(string csv)
    {
        var lines = File.ReadAllLines(csv);
        int seconds = Array.IndexOf(lines[0].Split(','), MetricNames.Seconds);
        Assert.True(seconds > 0);
        return lines.Select(l => string.Join(',', l.Split(',').Where((_, i) => i != seconds))).ToArray();
    }

    private static float[] Weights(Sequential<float> model) => model.ParameterList.SelectMany(p => p.Value.Span.ToArray()).ToArray();

    [Fact]
    public void GivenARunCancelledMidEpoch_WhenResumedFromItsCheckpoint_ThenWeightsBestEpochAndHistoryMatchAnUninterruptedRun()
    {
        var straightModel = Adder(1);
        Compile(straightModel);
        var straight = new Trainer<float>(straightModel, Task(), LoopOptions("straight")).Run();
        Assert.Equal(StopReason.EpochsDone, straight.StopReason);

        using var cancel = new CancellationTokenSource();
        var model = Adder(1);
        Compile(model);
        var stopped = new Trainer<float>(model, Task(), LoopOptions("resumed", cancel.Token), [new CancelAfter(model, 13, cancel)]).Run();
        Assert.True(stopped.Cancelled);
        // 8 steps an epoch: after step 13 the next batch is epoch 2's sixth (both from 0: epoch 1, step 5).
        Assert.Equal((1, 5), (stopped.CheckpointPosition!.Epoch, stopped.CheckpointPosition.Step));

        var checkpoint = Checkpoint.Load<float>(PathOf("resumed.ckpt"));
        Compile(checkpoint.Model);
        var resumed = new Trainer<float>(checkpoint.Model, Task(), LoopOptions("resumed")).Run(checkpoint);

        Assert.Equal(StopReason.EpochsDone, resumed.StopReason);
        Assert.Equal(Weights(straightModel), Weights(checkpoint.Model));
        Assert.Equal(straight.Best!.Epoch, resumed.Best!.Epoch);
        Assert.Equal(straight.History.Select(e => (e.Loss, e.LearningRate)), resumed.History.Select(e => (e.Loss, e.LearningRate)));
        Assert.True(resumed.Seconds >= stopped.Seconds, "seconds continue across the resume");
        Assert.Equal(WithoutSeconds(PathOf("straight.history.csv")), WithoutSeconds(PathOf("resumed.history.csv")));
    }

    [Theory]
    [InlineData(12, true)]  // wider than 10 bits: fresh random pairs every epoch
    [InlineData(3, false)]  // every pair, the same table every epoch
    public void GivenAnAdditionTask_WhenEpochsRun_ThenRandomPairsAreDrawnAfreshAndAllPairsAreKept(int bits, bool fresh)
    {
        var model = new Sequential<float>(new SimpleRnn<float>(2, 4, Activation.Tanh, returnSequences: true), new Dense<float>(4, 1, Activation.Sigmoid));
        model.Initialize(Initialization.Keras, 0);
        Compile(model);
        var task = new AdditionTask<float>(AlignedEncoding.Name, bits, samplesPerEpoch: Pairs, dataSeed: 5);
        var seen = new List<float[]>();
        var trainer = new Trainer<float>(model, task, new FitOptions { Epochs = 3, BatchSize = 32 }, [new EpochEndProbe(() => seen.Add(task.CurrentInputs!.Span.ToArray()))]);
        trainer.Run();
        Assert.Equal(3, seen.Count);
        Assert.Equal(fresh, !seen[0].SequenceEqual(seen[1]));
        Assert.Equal(fresh, !seen[1].SequenceEqual(seen[2]));
    }

    private sealed class EpochEndProbe(Action probe) : ITrainingCallback
    {
        public void OnEpochEnd(EpochSummary summary, TrainingControl control) => probe();
    }

    [Fact]
    public void GivenKeepBest_WhenTheLastEpochIsWorse_ThenTheModelEndsWithTheBestEpochsWeights()
    {
        var model = Adder(2);
        Compile(model);
        var trainer = new Trainer<float>(model, Task(), LoopOptions("best") with { CheckpointPath = null, CheckpointEverySteps = 0, HistoryPath = null });
        var result = trainer.Run();
        var best = result.Best!;
        Assert.All(result.History, e => Assert.False(BestModel<float>.IsBetter(e, best)));
        Assert.Equal(trainer.Best.Values!.SelectMany(v => v), Weights(model));
    }

    [Fact]
    public void GivenAnotherModelThanTheCheckpoints_WhenResuming_ThenTheLoopRefuses()
    {
        var model = Adder(1);
        Compile(model);
        new Trainer<float>(model, Task(), LoopOptions("other") with { Epochs = 1 }).Run();
        var checkpoint = Checkpoint.Load<float>(PathOf("other.ckpt"));
        var stranger = Adder(1);
        Compile(stranger);
        Assert.Throws<ArgumentException>(() => new Trainer<float>(stranger, Task(), LoopOptions("other")).Run(checkpoint));
    }

    // ---- README's library example, the same code ----

    /// <summary>README.md's library example between the markers, word for word (a test below holds README to it).</summary>
    private static TrainingResult ReadmeExample(string run)
    {
        // README:begin
        var model = new Sequential<float>(
            new Lstm<float>(inputSize: 1, hiddenSize: 32),               // [B, 8, 1] → [B, 32]
            new Dense<float>(32, 5, Activation.Sigmoid));                  // → [B, 5]: the sum's bits
        model.Initialize(Initialization.Keras, seed: 0);
        model.Compile(new BinaryCrossEntropy<float>(), new Adam<float>(0.01));
        var task = new AdditionTask<float>("concat", bits: 4);            // all 256 pairs, scored every epoch
        var options = new FitOptions
        {
            Epochs = 300, BatchSize = 16, Seed = 0,
            Schedule = new CosineDecay(0.01, epochs: 300),
            EarlyStopping = new EarlyStopping("exact", patience: 50),
            StopWhenPerfect = true, KeepBest = true,
            HistoryPath = $"{run}.history.csv", CheckpointPath = $"{run}.ckpt",
        };
        var result = new Trainer<float>(model, task, options).Run();
        ModelFile.Save($"{run}.carry", model, new() { Task = task.Info });
        // README:end
        return result;
    }

    [Fact]
    public void GivenReadmesLibraryExample_WhenRun_ThenItLearnsEveryPairAndWritesModelHistoryAndCheckpoint()
    {
        string run = PathOf("adder4");
        var result = ReadmeExample(run);
        Assert.Equal(StopReason.Perfect, result.StopReason);
        Assert.Equal(1.0, result.Best!.Get(MetricNames.Exact));
        Assert.Equal(result.CompletedEpochs + 1, File.ReadAllLines(run + ".history.csv").Length);
        var loaded = ModelFile.Load<float>(run + ".carry");
        Assert.Equal(1.0, Addition.Evaluate(loaded.Model, loaded.Metadata.Task!, [4], 1, 0)[0].Exact);
        Assert.Equal(result.CompletedEpochs, Checkpoint.Load<float>(run + ".ckpt").Position.Epoch);
    }

    [Fact]
    public void GivenReadme_WhenItsLibraryExampleIsRead_ThenItIsTheCodeThatTheTestRuns()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Carry.slnx"))) root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("no Carry.slnx above the tests");
        string source = File.ReadAllText(Path.Combine(root, "tests", "Carry.Tests", "TrainingLoopTests.cs"));
        int begin = source.IndexOf("// README:begin", StringComparison.Ordinal), end = source.IndexOf("// README:end", StringComparison.Ordinal);
        var example = source[begin..end].Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        var readme = File.ReadAllLines(Path.Combine(root, "README.md")).Select(l => l.Trim()).ToArray();
        int at = Array.IndexOf(readme, example[0]);
        Assert.True(at >= 0, $"README.md lacks the example's first line: {example[0]}");
        Assert.Equal(example, readme[at..(at + example.Length)]);
    }
}
