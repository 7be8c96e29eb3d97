using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Carry.Layers;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Training;

namespace Carry.Serialization;

/// <summary>
/// Where a training run stands: the next batch to train is batch <see cref="Step"/> of epoch
/// <see cref="Epoch"/> (both from 0; step 0 means the epoch has not been shuffled yet).
/// </summary>
/// <param name="Epoch">The epoch the next batch belongs to.</param>
/// <param name="Step">The next batch within that epoch.</param>
/// <param name="Order">
/// The sample order: this epoch's when <paramref name="Step"/> &gt; 0, else the previous epoch's
/// (which the next shuffle starts from); null for 0, 1, …, N−1.
/// </param>
/// <param name="LossSum">Sum of per-sample losses over the epoch's batches before <paramref name="Step"/>.</param>
public sealed record TrainingPosition(int Epoch, int Step, int[]? Order, double LossSum)
{
    /// <summary>The start of a run.</summary>
    public static TrainingPosition Start { get; } = new(0, 0, null, 0);

    /// <summary>Fit options that continue from here: <paramref name="options"/> with the initial epoch, step, order and loss sum set.</summary>
    public FitOptions Continue(FitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { InitialEpoch = Epoch, InitialStep = Step, InitialOrder = Order is { } order ? new ReadOnlyMemory<int>(order) : (ReadOnlyMemory<int>?)null, InitialLossSum = LossSum };
    }
}

/// <summary>What a caller keeps in a checkpoint besides the model, optimizer, position and Dropout generators.</summary>
/// <param name="Random">Further generators by name (a data generator, ...).</param>
/// <param name="Tensors">Further arrays by name (the best epoch's weights, ...), stored as <c>extra.{name}</c>.</param>
/// <param name="State">Any string (the CLI's progress as JSON), stored as given.</param>
public sealed record CheckpointExtras<T>(IReadOnlyDictionary<string, RandomGenerator>? Random = null, IReadOnlyDictionary<string, T[]>? Tensors = null, string? State = null)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>A checkpoint read back: the model with its weights, and everything needed to continue the run exactly.</summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public sealed class TrainingCheckpoint<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal TrainingCheckpoint(LoadedModel<T> loaded, string optimizerName, long optimizerSteps, double learningRate, Dictionary<string, T[]> optimizerState,
        TrainingPosition position, Dictionary<string, ulong[]> randomStates, string settings, Dictionary<string, T[]> extraTensors, string? state, string path)
    {
        LearningRate = learningRate;
        ExtraTensors = extraTensors;
        State = state;
        Model = loaded.Model;
        Layers = loaded.Layers;
        Metadata = loaded.Metadata;
        OptimizerName = optimizerName;
        OptimizerSteps = optimizerSteps;
        OptimizerState = optimizerState;
        Position = position;
        RandomStates = randomStates;
        Settings = settings;
        Path = path;
    }

    /// <summary>The model, weights loaded, Dropout generators restored; compile it, then <see cref="RestoreOptimizer"/>.</summary>
    public Sequential<T> Model { get; }

    /// <summary>The architecture.</summary>
    public IReadOnlyList<LayerSpec> Layers { get; }

    /// <summary>Task and training metadata as a model file would carry them.</summary>
    public ModelMetadata Metadata { get; }

    /// <summary>The optimizer's <see cref="Optimizer{T}.Name"/> when saved.</summary>
    public string OptimizerName { get; }

    /// <summary>The optimizer's <see cref="Optimizer{T}.StepCount"/> when saved.</summary>
    public long OptimizerSteps { get; }

    /// <summary>The optimizer's learning rate when saved (after any decay).</summary>
    public double LearningRate { get; }

    /// <summary>The caller's extra arrays (<see cref="CheckpointExtras{T}.Tensors"/>).</summary>
    public IReadOnlyDictionary<string, T[]> ExtraTensors { get; }

    /// <summary>The caller's state string (<see cref="CheckpointExtras{T}.State"/>), or null.</summary>
    public string? State { get; }

    /// <summary>The optimizer's state arrays by <c>slot.index</c> (<see cref="Optimizer{T}.GetState"/>).</summary>
    public IReadOnlyDictionary<string, T[]> OptimizerState { get; }

    /// <summary>Where the run stood.</summary>
    public TrainingPosition Position { get; }

    /// <summary>Every generator's state: <c>shuffler</c>, <c>layers.{i}</c> for each Dropout, and any the caller added.</summary>
    public IReadOnlyDictionary<string, ulong[]> RandomStates { get; }

    /// <summary>The training settings the caller stored, as given (the CLI's flags as JSON).</summary>
    public string Settings { get; }

    /// <summary>The file it came from.</summary>
    public string Path { get; }

    /// <summary>A generator in the saved state of <paramref name="name"/> (default <c>shuffler</c>).</summary>
    /// <exception cref="KeyNotFoundException">No generator of that name was saved.</exception>
    public RandomGenerator Random(string name = Checkpoint.ShufflerName)
    {
        if (!RandomStates.TryGetValue(name, out var state)) throw new KeyNotFoundException($"{Path}: the checkpoint holds no generator '{name}'.");
        var random = new RandomGenerator(0);
        random.SetState(state);
        return random;
    }

    /// <summary>Puts the saved state and learning rate into <paramref name="optimizer"/>, which must be of the same kind and drive <see cref="Model"/>.</summary>
    /// <exception cref="ModelFormatException">The optimizer is of another kind, or the state does not fit the model.</exception>
    public void RestoreOptimizer(Optimizer<T> optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (optimizer.Name != OptimizerName) throw new ModelFormatException(Path, $"the checkpoint holds '{OptimizerName}' optimizer state, but the run uses '{optimizer.Name}'.");
        optimizer.LearningRate = LearningRate;
        if (OptimizerState.Count == 0 && OptimizerSteps == 0)
        {
            optimizer.StepCount = 0; // saved before the first step: nothing to restore
            return;
        }
        try
        {
            optimizer.SetState(Model.ParameterList, OptimizerState, OptimizerSteps);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(Path, $"the optimizer state does not fit the model: {e.Message}");
        }
    }
}

/// <summary>
/// Training checkpoints: a safetensors file like a .carry model (the same <c>layers.{i}.*</c>
/// tensors and <c>config</c>, <c>task</c>, <c>training</c> metadata) with <c>format</c>
/// <c>carry-checkpoint</c>, the optimizer's state as tensors <c>optimizer.{slot}.{index}</c>, and
/// metadata <c>optimizer</c> (name, step count, learning rate), <c>position</c> (epoch, step, sample order, loss
/// sum), <c>random</c> (every generator's four state words) and <c>settings</c> (the caller's
/// training settings, stored as given), plus whatever the caller adds (<see cref="CheckpointExtras{T}"/>:
/// generators, <c>extra.{name}</c> tensors, a <c>state</c> string). Written atomically. Loading validates all of it as
/// strictly as a model file.
/// </summary>
public static class Checkpoint
{
    /// <summary>The <c>format</c> metadata value.</summary>
    public const string FormatName = "carry-checkpoint";

    /// <summary>The name of the shuffling generator's state.</summary>
    public const string ShufflerName = "shuffler";

    private const string OptimizerPrefix = "optimizer.";
    private const string ExtraPrefix = "extra.";

    /// <summary>Serialises a checkpoint to bytes.</summary>
    /// <param name="model">The compiled model being trained.</param>
    /// <param name="position">Where the run stands (the next batch to train).</param>
    /// <param name="shuffler">The generator <see cref="Sequential{T}.Fit"/> shuffles with.</param>
    /// <param name="settings">The run's settings, any string (the CLI stores its flags as JSON); restored as given.</param>
    /// <param name="metadata">Task and training metadata; null for none.</param>
    /// <param name="extras">Further generators, arrays and state to keep (Dropout layers' generators are saved automatically).</param>
    public static byte[] ToBytes<T>(Sequential<T> model, TrainingPosition position, RandomGenerator shuffler, string settings,
        ModelMetadata? metadata = null, CheckpointExtras<T>? extras = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(position);
        ArgumentNullException.ThrowIfNull(shuffler);
        ArgumentNullException.ThrowIfNull(settings);
        var optimizer = model.Optimizer ?? throw new InvalidOperationException("Compile the model before checkpointing it: the checkpoint holds the optimizer's state.");
        var meta = ModelFile.MetadataOf(model, metadata ?? new ModelMetadata(), FormatName);
        meta["optimizer"] = JsonSerializer.Serialize(new OptimizerInfo(optimizer.Name, optimizer.StepCount, optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture)), ModelFile.Json.For<OptimizerInfo>());
        meta["position"] = JsonSerializer.Serialize(new PositionInfo(position.Epoch, position.Step, position.LossSum.ToString("R", CultureInfo.InvariantCulture), position.Order), ModelFile.Json.For<PositionInfo>());
        var random = new SortedDictionary<string, ulong[]>(StringComparer.Ordinal) { [ShufflerName] = shuffler.GetState() };
        for (int i = 0; i < model.Layers.Count; i++)
        {
            if (model.Layers[i] is Dropout<T> dropout) random[$"layers.{i}"] = dropout.Random.GetState();
        }
        if (extras?.Random is { } others)
        {
            foreach (var (name, generator) in others)
            {
                if (!random.TryAdd(name, generator.GetState())) throw new ArgumentException($"Generator name '{name}' is taken.", nameof(extras));
            }
        }
        meta["random"] = JsonSerializer.Serialize(random, ModelFile.Json.For<SortedDictionary<string, ulong[]>>());
        meta["settings"] = settings;
        if (extras?.State is { } state) meta["state"] = state;
        var tensors = ModelFile.TensorsOf(model);
        foreach (var (name, values) in optimizer.GetState().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            tensors.Add((OptimizerPrefix + name, [values.Length], values));
        }
        if (extras?.Tensors is { } extra)
        {
            foreach (var (name, values) in extra.OrderBy(kv => kv.Key, StringComparer.Ordinal)) tensors.Add((ExtraPrefix + name, [values.Length], values));
        }
        return SafeTensors.Write(meta, tensors);
    }

    /// <summary>Writes a checkpoint atomically (see <see cref="ToBytes"/>).</summary>
    public static void Save<T>(string path, Sequential<T> model, TrainingPosition position, RandomGenerator shuffler, string settings,
        ModelMetadata? metadata = null, CheckpointExtras<T>? extras = null) where T : unmanaged, IFloatingPointIeee754<T>
        => AtomicFile.Write(path, ToBytes(model, position, shuffler, settings, metadata, extras));

    /// <summary>Reads and validates a checkpoint.</summary>
    /// <exception cref="ModelFormatException">The file is not a valid checkpoint.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static TrainingCheckpoint<T> Load<T>(string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var handle = ModelFile.OpenRead(path, "checkpoint");
        return Read<T>(SafeTensors.Read(ByteSource.Of(handle), path), path);
    }

    /// <summary>Reads and validates a checkpoint from bytes; <paramref name="path"/> names it in errors.</summary>
    /// <exception cref="ModelFormatException">The bytes are not a valid checkpoint.</exception>
    public static TrainingCheckpoint<T> FromBytes<T>(ReadOnlyMemory<byte> bytes, string path = "<checkpoint>") where T : unmanaged, IFloatingPointIeee754<T>
        => Read<T>(SafeTensors.Read(bytes, path), path);

    private static TrainingCheckpoint<T> Read<T>(SafeTensors file, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var loaded = ModelFile.Read<T>(file, path, FormatName, name => name.StartsWith(OptimizerPrefix, StringComparison.Ordinal) || name.StartsWith(ExtraPrefix, StringComparison.Ordinal));
        var model = loaded.Model;
        var meta = file.Metadata;
        string Need(string key) => meta.TryGetValue(key, out var v) ? v : throw new ModelFormatException(path, $"the checkpoint's __metadata__ has no '{key}'.");

        OptimizerInfo optimizer = Parse<OptimizerInfo>(Need("optimizer"), "optimizer", path);
        if (string.IsNullOrEmpty(optimizer.Name) || optimizer.Steps < 0) throw new ModelFormatException(path, "the optimizer metadata names no optimizer or a negative step count.");
        if (!double.TryParse(optimizer.LearningRate, NumberStyles.Float, CultureInfo.InvariantCulture, out double learningRate) || !(learningRate > 0) || double.IsInfinity(learningRate))
        {
            throw new ModelFormatException(path, $"the optimizer's learning rate '{SafeTensors.Clip(optimizer.LearningRate ?? "")}' is not a positive number.");
        }

        PositionInfo p = Parse<PositionInfo>(Need("position"), "position", path);
        if (p.Epoch < 0 || p.Step < 0) throw new ModelFormatException(path, $"the position (epoch {p.Epoch}, step {p.Step}) is negative.");
        if (!double.TryParse(p.LossSum, NumberStyles.Float, CultureInfo.InvariantCulture, out double lossSum) || !double.IsFinite(lossSum))
        {
            throw new ModelFormatException(path, $"the position's loss sum '{SafeTensors.Clip(p.LossSum ?? "")}' is not a finite number.");
        }
        if (p.Order is { } order)
        {
            var seen = new bool[order.Length];
            foreach (int i in order)
            {
                if ((uint)i >= (uint)order.Length || seen[i]) throw new ModelFormatException(path, "the position's sample order is not a permutation.");
                seen[i] = true;
            }
        }
        else if (p.Step > 0)
        {
            throw new ModelFormatException(path, "the position is mid-epoch but holds no sample order.");
        }

        var random = Parse<Dictionary<string, ulong[]>>(Need("random"), "random", path);
        foreach (var (name, state) in random)
        {
            if (state is null || state.Length != 4 || state.All(w => w == 0)) throw new ModelFormatException(path, $"generator '{SafeTensors.Clip(name)}' has no valid 4-word state.");
        }
        if (!random.ContainsKey(ShufflerName)) throw new ModelFormatException(path, "the checkpoint holds no shuffler state.");
        for (int i = 0; i < model.Layers.Count; i++)
        {
            if (model.Layers[i] is not Dropout<T> dropout) continue;
            if (!random.TryGetValue($"layers.{i}", out var state)) throw new ModelFormatException(path, $"the checkpoint holds no state for the Dropout generator of layer {i}.");
            dropout.Random.SetState(state);
        }

        var parameters = model.ParameterList;
        var optimizerState = new Dictionary<string, T[]>(StringComparer.Ordinal);
        var extraTensors = new Dictionary<string, T[]>(StringComparer.Ordinal);
        foreach (var (name, info) in file.Tensors)
        {
            if (name.StartsWith(ExtraPrefix, StringComparison.Ordinal))
            {
                if (info.Shape.Length != 1) throw new ModelFormatException(path, $"tensor '{SafeTensors.Clip(name)}' is not one-dimensional.");
                var extra = new T[info.Shape[0]]; // its bytes lie inside the file, so the size is bounded by it
                file.CopyTo(info, extra.AsSpan());
                extraTensors[name[ExtraPrefix.Length..]] = extra;
                continue;
            }
            if (!name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)) continue;
            string key = name[OptimizerPrefix.Length..];
            int dot = key.LastIndexOf('.');
            if (dot <= 0 || !int.TryParse(key.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= parameters.Count)
            {
                throw new ModelFormatException(path, $"tensor '{SafeTensors.Clip(name)}' names no optimizer slot of a parameter of the model.");
            }
            if (info.Shape.Length != 1 || info.Shape[0] != parameters[index].Length)
            {
                throw new ModelFormatException(path, $"tensor '{name}' has shape {Tensor<T>.ShapeText(info.Shape)}, but parameter {index} has {parameters[index].Length} values.");
            }
            var values = new T[parameters[index].Length];
            file.CopyTo(info, values.AsSpan());
            optimizerState[key] = values;
        }
        var position = new TrainingPosition(p.Epoch, p.Step, p.Order, lossSum);
        return new TrainingCheckpoint<T>(loaded, optimizer.Name, optimizer.Steps, learningRate, optimizerState, position, random, Need("settings"),
            extraTensors, meta.GetValueOrDefault("state"), path);
    }

    private static TValue Parse<TValue>(string json, string what, string path)
    {
        try
        {
            return JsonSerializer.Deserialize(json, ModelFile.ReadJson.For<TValue>()) ?? throw new JsonException("null");
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException)
        {
            throw new ModelFormatException(path, $"the {what} metadata is not valid: {SafeTensors.FirstSentence(e.Message)}");
        }
    }

}

/// <summary>A checkpoint's <c>optimizer</c> metadata.</summary>
internal sealed record OptimizerInfo(string Name, long Steps, string LearningRate);

/// <summary>A checkpoint's <c>position</c> metadata.</summary>
internal sealed record PositionInfo(int Epoch, int Step, string LossSum, int[]? Order);
