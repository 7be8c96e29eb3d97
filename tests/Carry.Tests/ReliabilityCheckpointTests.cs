using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Serialization;
using Carry.Training;

namespace Carry.Tests;

/// <summary>
/// No lost work: a run stopped at an epoch boundary or mid-epoch and resumed from its checkpoint
/// in a fresh model ends byte-identical to the run that never stopped; saves are atomic; a NaN
/// stops <see cref="Sequential{T}.Fit"/> with the epoch and step.
/// </summary>
public sealed class ReliabilityCheckpointTests : IDisposable
{
    private const int Epochs = 4;
    private const string Settings = """{"cell":"lstm","hidden":6,"optimizer":"adam","lr":0.01,"epochs":4,"batch":8,"seed":3}""";
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>37 random 5-step sequences of 2 features; the target at each step says whether the running sum is positive.</summary>
    private static (Tensor<float> X, Tensor<float> Y) Data()
    {
        var random = new RandomGenerator(11);
        var x = new Tensor<float>(37, 5, 2);
        var y = new Tensor<float>(37, 5, 1);
        for (int n = 0; n < 37; n++)
        {
            float sum = 0;
            for (int t = 0; t < 5; t++)
            {
                float a = (float)random.NextNormal(), b = (float)random.NextNormal();
                x[n, t, 0] = a;
                x[n, t, 1] = b;
                sum += a - b;
                y[n, t, 0] = sum > 0 ? 1 : 0;
            }
        }
        return (x, y);
    }

    /// <summary>LSTM → Dropout → Dense(sigmoid), Adam, BCE: every kind of state a checkpoint must carry.</summary>
    private static Sequential<float> NewModel()
    {
        var model = new Sequential<float>(
            new Lstm<float>(2, 6, returnSequences: true),
            new Dropout<float>(0.25, seed: 9),
            new Dense<float>(6, 1, Activation.Sigmoid));
        model.Initialize(Initialization.PyTorch, 3);
        model.Compile(new BinaryCrossEntropy<float>(fromLogits: false), new Adam<float>(0.01));
        return model;
    }

    private static FitOptions Options(CancellationToken token = default) => new() { Epochs = Epochs, BatchSize = 8, Seed = 3, CancellationToken = token };

    private static (byte[] Bytes, IReadOnlyList<EpochSummary> History) Straight()
    {
        var (x, y) = Data();
        var model = NewModel();
        var result = model.Fit(x, y, Options());
        return (ModelFile.ToBytes(model, new ModelMetadata()), result.History);
    }

    /// <summary>Loads <paramref name="path"/> into a fresh model and optimizer and trains to the end.</summary>
    private static (byte[] Bytes, IReadOnlyList<EpochSummary> History, TrainingCheckpoint<float> Checkpoint) Resume(string path)
    {
        var (x, y) = Data();
        var checkpoint = Checkpoint.Load<float>(path);
        Assert.Equal(Settings, checkpoint.Settings);
        var model = checkpoint.Model;
        var optimizer = new Adam<float>(0.01);
        model.Compile(new BinaryCrossEntropy<float>(fromLogits: false), optimizer);
        checkpoint.RestoreOptimizer(optimizer);
        var result = model.Fit(x, y, checkpoint.Position.Continue(Options()), shuffler: checkpoint.Random());
        return (ModelFile.ToBytes(model, new ModelMetadata()), result.History, checkpoint);
    }

    [Fact]
    public void GivenARunStoppedAfterTwoEpochs_WhenResumedFromItsCheckpointInAFreshModel_ThenTheFinalModelIsByteIdentical()
    {
        var (expected, expectedHistory) = Straight();
        var (x, y) = Data();
        var model = NewModel();
        var shuffler = new RandomGenerator(3);
        string path = Path.Combine(_dir, "run.ckpt");
        var checkpoints = new CheckpointCallback<float>(path, model, shuffler, Settings);
        model.Fit(x, y, Options() with { Epochs = 2 }, [checkpoints], shuffler);
        Assert.Equal(2, checkpoints.SaveCount);

        var (actual, history, checkpoint) = Resume(path);
        Assert.Equal(new TrainingPosition(2, 0, null, 0) with { Order = checkpoint.Position.Order }, checkpoint.Position);
        Assert.Equal(expected, actual);
        Assert.Equal(expectedHistory.Skip(2).Select(h => h.Loss), history.Select(h => h.Loss));
    }

    [Fact]
    public void GivenARunCancelledMidEpoch_WhenItsFinalCheckpointIsResumed_ThenTheFinalModelIsByteIdentical()
    {
        var (expected, expectedHistory) = Straight();
        var (x, y) = Data();
        var model = NewModel();
        var shuffler = new RandomGenerator(3);
        string path = Path.Combine(_dir, "run.ckpt");
        using var cancel = new CancellationTokenSource();
        var checkpoints = new CheckpointCallback<float>(path, model, shuffler, Settings);
        var stopper = new StopAfter(model, 7, cancel); // Ctrl-C during step 7 (epoch 1, batch 2 of 5)
        var result = model.Fit(x, y, Options(cancel.Token), [checkpoints, stopper], shuffler);
        Assert.True(result.Cancelled);
        checkpoints.Save(); // what the CLI does on SIGINT
        Assert.Equal((1, 2), (checkpoints.Position.Epoch, checkpoints.Position.Step));

        var (actual, history, _) = Resume(path);
        Assert.Equal(expected, actual);
        // The interrupted epoch's loss is whole again: the checkpoint carried the running sum.
        Assert.Equal(expectedHistory.Skip(1).Select(h => h.Loss), history.Select(h => h.Loss));
    }

    [Fact]
    public void GivenARunThatCrashesAfterAStepCheckpoint_WhenTheLastCheckpointIsResumed_ThenTheFinalModelIsByteIdentical()
    {
        var (expected, _) = Straight();
        var (x, y) = Data();
        var model = NewModel();
        var shuffler = new RandomGenerator(3);
        string path = Path.Combine(_dir, "run.ckpt");
        var checkpoints = new CheckpointCallback<float>(path, model, shuffler, Settings, everySteps: 3);
        // The process "dies" (an exception nobody catches) after step 13; the file holds step 12's checkpoint.
        Assert.Throws<InvalidOperationException>(() => model.Fit(x, y, Options(), [checkpoints, new CrashAfter(model, 13)], shuffler));
        var saved = Checkpoint.Load<float>(path);
        Assert.Equal(12, saved.OptimizerSteps);
        Assert.Equal((2, 2), (saved.Position.Epoch, saved.Position.Step));

        var (actual, _, _) = Resume(path);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void GivenARunCancelledBeforeItsFirstStep_WhenResumedFromTheStartCheckpoint_ThenTheFinalModelIsByteIdentical()
    {
        var (expected, _) = Straight();
        var (x, y) = Data();
        var model = NewModel();
        var shuffler = new RandomGenerator(3);
        string path = Path.Combine(_dir, "run.ckpt");
        using var cancel = new CancellationTokenSource();
        cancel.Cancel(); // Ctrl-C before anything ran
        var checkpoints = new CheckpointCallback<float>(path, model, shuffler, Settings);
        Assert.Null(checkpoints.Position.Order);
        Assert.True(model.Fit(x, y, Options(cancel.Token), [checkpoints], shuffler).Cancelled);
        Assert.Null(checkpoints.Position.Order);
        Assert.True(checkpoints.Save());
        Assert.Null(Checkpoint.Load<float>(path).Position.Order);

        var (actual, _, _) = Resume(path);
        Assert.Equal(expected, actual);
        Assert.Equal(expected, ModelFile.ToBytes(RunFrom(TrainingPosition.Start), new ModelMetadata()));
    }

    /// <summary>Trains a fresh model from <paramref name="position"/> via <see cref="TrainingPosition.Continue"/>.</summary>
    private static Sequential<float> RunFrom(TrainingPosition position)
    {
        var (x, y) = Data();
        var model = NewModel();
        model.Fit(x, y, position.Continue(Options()), shuffler: new RandomGenerator(3));
        return model;
    }

    [Fact]
    public void GivenACheckpoint_WhenTruncatedAtEveryOffset_ThenEveryLoadThrowsModelFormatException()
    {
        var (x, y) = Data();
        var model = NewModel();
        var shuffler = new RandomGenerator(3);
        model.Fit(x, y, Options() with { Epochs = 1 }, shuffler: shuffler);
        byte[] bytes = Checkpoint.ToBytes(model, new TrainingPosition(1, 0, Enumerable.Range(0, 37).Reverse().ToArray(), 0), shuffler, Settings);
        var loaded = Checkpoint.FromBytes<float>(bytes);
        var optimizer = new Adam<float>(0.01);
        loaded.Model.Compile(model.Loss!, optimizer);
        loaded.RestoreOptimizer(optimizer);
        Assert.Equal(bytes, Checkpoint.ToBytes(loaded.Model, loaded.Position, loaded.Random(), loaded.Settings)); // everything read back
        for (int length = 0; length < bytes.Length; length++)
        {
            var e = Record.Exception(() => Checkpoint.FromBytes<float>(bytes.AsMemory(0, length), "cut.ckpt"));
            Assert.True(e is ModelFormatException, $"truncated at {length}: {e?.GetType().Name ?? "loaded"}");
        }
        // A model file is not a checkpoint, and a checkpoint is not a model file.
        Assert.Throws<ModelFormatException>(() => Checkpoint.FromBytes<float>(ModelFile.ToBytes(model, new ModelMetadata())));
        Assert.Contains("not 'carry'", Assert.Throws<ModelFormatException>(() => ModelFile.FromBytes<float>(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenCallerExtras_WhenACheckpointIsSavedAndLoaded_ThenGeneratorsTensorsStateAndLearningRateComeBack()
    {
        var (x, y) = Data();
        var model = NewModel();
        var shuffler = new RandomGenerator(3);
        model.Fit(x, y, Options() with { Epochs = 1 }, shuffler: shuffler);
        model.Optimizer!.LearningRate = 0.0042;
        var data = new RandomGenerator(99);
        data.NextUInt64();
        float[] best = [1.5f, -2.25f, 3f];
        string path = Path.Combine(_dir, "extras.ckpt");
        Checkpoint.Save(path, model, new TrainingPosition(1, 0, null, 0), shuffler, Settings,
            new ModelMetadata { Task = new TaskInfo("concat", 8) },
            new CheckpointExtras<float>(new Dictionary<string, RandomGenerator> { ["data"] = data }, new Dictionary<string, float[]> { ["best.0"] = best }, """{"completed":1}"""));

        var loaded = Checkpoint.Load<float>(path);
        Assert.Equal(data.GetState(), loaded.RandomStates["data"]);
        Assert.Equal(data.NextUInt64(), loaded.Random("data").NextUInt64());
        Assert.Equal(best, loaded.ExtraTensors["best.0"]);
        Assert.Equal("""{"completed":1}""", loaded.State);
        Assert.Equal(0.0042, loaded.LearningRate);
        Assert.Equal(new TaskInfo("concat", 8), loaded.Metadata.Task);
        Assert.Equal(((Dropout<float>)model.Layers[1]).Random.GetState(), ((Dropout<float>)loaded.Model.Layers[1]).Random.GetState());
        var optimizer = new Adam<float>(0.01);
        loaded.Model.Compile(model.Loss!, optimizer);
        loaded.RestoreOptimizer(optimizer);
        Assert.Equal(0.0042, optimizer.LearningRate);
        Assert.Equal(model.Optimizer.StepCount, optimizer.StepCount);
        Assert.Throws<KeyNotFoundException>(() => loaded.Random("nothing"));
    }

    [Theory]
    [InlineData("position", """{"epoch":1,"step":2,"lossSum":"0","order":[0,0,1]}""", "not a permutation")]
    [InlineData("position", """{"epoch":1,"step":2,"lossSum":"NaN","order":null}""", "not a finite number")]
    [InlineData("position", """{"epoch":-1,"step":0,"lossSum":"0","order":null}""", "negative")]
    [InlineData("position", """{"epoch":1,"step":2,"lossSum":"0"}""", "mid-epoch but holds no sample order")]
    [InlineData("random", """{"shuffler":[0,0,0,0]}""", "no valid 4-word state")]
    [InlineData("random", """{"shuffler":[1,2,3]}""", "no valid 4-word state")]
    [InlineData("random", """{"data":[1,2,3,4]}""", "no shuffler state")]
    [InlineData("optimizer", """{"name":"adam","steps":-5,"learningRate":"0.01"}""", "negative step count")]
    [InlineData("optimizer", """{"name":"adam","steps":5,"learningRate":"-1"}""", "not a positive number")]
    [InlineData("optimizer", """{"name":"adam","steps":5,"lr":1}""", "optimizer metadata is not valid")]
    [InlineData("settings", null, "no 'settings'")]
    public void GivenACheckpointWithBadMetadata_WhenLoaded_ThenModelFormatExceptionNamesTheProblem(string key, string? value, string expected)
    {
        var (x, y) = Data();
        var model = NewModel();
        var shuffler = new RandomGenerator(3);
        model.Fit(x, y, Options() with { Epochs = 1 }, shuffler: shuffler);
        byte[] bytes = Checkpoint.ToBytes(model, TrainingPosition.Start, shuffler, Settings);
        byte[] edited = ReliabilityFormatTests.EditHeader(bytes, header =>
        {
            var meta = header["__metadata__"]!.AsObject();
            if (value is null) meta.Remove(key);
            else meta[key] = value;
        });
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.FromBytes<float>(edited, "bad.ckpt"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenACheckpointWithAWrongSizedOptimizerTensor_WhenLoaded_ThenModelFormatException()
    {
        var (x, y) = Data();
        var model = NewModel();
        var shuffler = new RandomGenerator(3);
        model.Fit(x, y, Options() with { Epochs = 1 }, shuffler: shuffler);
        byte[] bytes = Checkpoint.ToBytes(model, TrainingPosition.Start, shuffler, Settings);
        byte[] renamed = ReliabilityFormatTests.EditHeader(bytes, header =>
        {
            var m0 = header["optimizer.m.0"]!;
            header.Remove("optimizer.m.0");
            header["optimizer.m.1"] = m0; // parameter 1 has another size
        });
        Assert.Throws<ModelFormatException>(() => Checkpoint.FromBytes<float>(renamed));
        var checkpoint = Checkpoint.FromBytes<float>(bytes);
        var e = Assert.Throws<ModelFormatException>(() => checkpoint.RestoreOptimizer(new Sgd<float>(0.1)));
        Assert.Contains("'adam' optimizer state", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenAWriteThatFailsHalfway_WhenSavingOverAnExistingModel_ThenTheOldFileIsIntactAndNoTempFileRemains()
    {
        string path = Path.Combine(_dir, "model.carry");
        var first = ReliabilityFormatTests.SmallModel(1);
        ModelFile.Save(path, first, new ModelMetadata());
        byte[] before = File.ReadAllBytes(path);
        byte[] next = ModelFile.ToBytes(ReliabilityFormatTests.SmallModel(2), new ModelMetadata());

        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, s => s.Write(next), wrap: s => new FailingStream(s, next.Length / 2)));
        Assert.Contains("disk full", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.carry"], Directory.GetFiles(_dir).Select(Path.GetFileName));

        // The same through an exception thrown by the writer itself, partway through.
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(next.AsSpan(0, 100));
            throw new InvalidOperationException("crash while serialising");
        }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.carry"], Directory.GetFiles(_dir).Select(Path.GetFileName));

        AtomicFile.Write(path, s => s.Write(next));
        Assert.Equal(next, File.ReadAllBytes(path));
        Assert.Equal(["model.carry"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void GivenATargetThatCannotBeWritten_WhenSaving_ThenAnIOExceptionAndNothingIsLeftBehind()
    {
        var model = ReliabilityFormatTests.SmallModel();
        Assert.Throws<DirectoryNotFoundException>(() => ModelFile.Save(Path.Combine(_dir, "no-such-folder", "m.carry"), model, new ModelMetadata()));
        Directory.CreateDirectory(Path.Combine(_dir, "taken.carry"));
        Assert.Throws<IOException>(() => ModelFile.Save(Path.Combine(_dir, "taken.carry"), model, new ModelMetadata()));
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void GivenANaNTarget_WhenFitting_ThenTrainingDivergedExceptionNamesTheEpochAndStep()
    {
        var model = new Sequential<float>(new Dense<float>(3, 2));
        model.Initialize(Initialization.PyTorch, 1);
        model.Compile(new MeanSquaredError<float>(), new Sgd<float>(0.1));
        var random = new RandomGenerator(2);
        var x = new Tensor<float>(40, 3);
        var y = new Tensor<float>(40, 2);
        foreach (ref var v in x.Span) v = (float)random.NextNormal();
        y[21, 1] = float.NaN; // sample 21 is in batch 2 (batches of 10, not shuffled)
        var e = Assert.Throws<TrainingDivergedException>(() => model.Fit(x, y, new FitOptions { Epochs = 3, BatchSize = 10, Shuffle = false }));
        Assert.Equal((0, 2), (e.Epoch, e.Step));
        Assert.True(double.IsNaN(e.Loss));
        Assert.Equal("Training diverged at epoch 1, step 3: the loss is NaN.", e.Message);
    }

    [Fact]
    public void GivenAWeightSetToNaNAfterTheFirstEpoch_WhenFitting_ThenTrainingDivergedAtTheNextEpochsFirstStep()
    {
        var model = new Sequential<float>(new SimpleRnn<float>(1, 4, Activation.Relu), new Dense<float>(4, 1));
        model.Initialize(Initialization.PyTorch, 1);
        model.Compile(new MeanSquaredError<float>(), new Sgd<float>(0.01));
        var x = new Tensor<float>(16, 3, 1);
        var y = new Tensor<float>(16, 1);
        x.Fill(0.5f);
        var poison = new PoisonAfterEpoch(model.Parameters[^2].Parameter, epoch: 0); // the Dense weight
        var e = Assert.Throws<TrainingDivergedException>(() => model.Fit(x, y, new FitOptions { Epochs = 5, BatchSize = 4 }, [poison]));
        Assert.Equal((1, 0), (e.Epoch, e.Step));
    }

    private sealed class StopAfter(Sequential<float> model, long step, CancellationTokenSource cancel) : ITrainingCallback
    {
        public void OnBatchEnd(BatchProgress progress)
        {
            if (model.Optimizer!.StepCount == step) cancel.Cancel();
        }
    }

    private sealed class CrashAfter(Sequential<float> model, long step) : ITrainingCallback
    {
        public void OnBatchEnd(BatchProgress progress)
        {
            if (model.Optimizer!.StepCount == step) throw new InvalidOperationException("simulated crash");
        }
    }

    private sealed class PoisonAfterEpoch(Parameter<float> parameter, int epoch) : ITrainingCallback
    {
        public void OnEpochEnd(EpochSummary summary, TrainingControl control)
        {
            if (summary.Epoch == epoch) parameter.Value.Span[0] = float.NaN;
        }
    }

    /// <summary>A stream that fails with "disk full" once <c>limit</c> bytes have been written.</summary>
    private sealed class FailingStream(Stream inner, long limit) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int allowed = (int)Math.Min(buffer.Length, limit - _written);
            inner.Write(buffer[..allowed]);
            _written += allowed;
            if (allowed < buffer.Length) throw new IOException("No space left on device (simulated disk full).");
        }
    }
}
