using System.Numerics;
using System.Text.Json;
using Carry.Layers;

namespace Carry.Serialization;

/// <summary>What a model was trained for, stored in the file's <c>task</c> metadata.</summary>
/// <param name="Encoding"><c>aligned</c> (bit t of each operand at step t, least significant first) or <c>concat</c> (operands one after the other, most significant first).</param>
/// <param name="Bits">Operand width the model was trained at (8 in both experiments).</param>
/// <param name="Operation">The arithmetic operation (<c>add</c>).</param>
public sealed record TaskInfo(string Encoding, int Bits, string Operation = "add");

/// <summary>Everything in a .carry file besides the tensors.</summary>
public sealed record ModelMetadata
{
    /// <summary>The task the model was trained for, or null for a general model.</summary>
    public TaskInfo? Task { get; init; }

    /// <summary>Precision of the stored tensors: <c>F32</c> or <c>F64</c>.</summary>
    public string DType { get; init; } = "F32";

    /// <summary>Free-form training summary (preset, epochs, loss, seed, ...).</summary>
    public IReadOnlyDictionary<string, string> Training { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// A text model's symbols, written one after the other in index order (the header's
    /// <c>vocabulary</c>; see <see cref="Text.Vocabulary"/>), or null for a model of numbers.
    /// </summary>
    public string? Vocabulary { get; init; }
}

/// <summary>A model read from a file, with its metadata.</summary>
public sealed record LoadedModel<T>(Sequential<T> Model, ModelMetadata Metadata, IReadOnlyList<LayerSpec> Layers) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>A .carry file is not a valid model: names the file and the problem.</summary>
public sealed class ModelFormatException : IOException
{
    /// <summary>A problem with the file at <paramref name="path"/>; the message is <c>path: problem</c>.</summary>
    public ModelFormatException(string path, string problem) : base($"{path}: {problem}")
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>An unspecified format error.</summary>
    public ModelFormatException() { }

    /// <summary>A format error with <paramref name="message"/>.</summary>
    public ModelFormatException(string message) : base(message) { }

    /// <summary>A format error with <paramref name="message"/>, caused by <paramref name="inner"/>.</summary>
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The file.</summary>
    public string? FilePath { get; }

    /// <summary>What is wrong with it.</summary>
    public string? Problem { get; }
}

/// <summary>
/// The .carry format (DESIGN.md): a safetensors file — an 8-byte little-endian header length,
/// a JSON header mapping each tensor name to dtype, shape and byte offsets, then the raw
/// little-endian data. Tensors are named <c>layers.{index}.{parameter}</c> with PyTorch's
/// layouts; <c>__metadata__</c> holds <c>format</c>, <c>version</c>, <c>config</c>, <c>task</c>,
/// <c>training</c> and <c>sha256</c> (the data section's digest, checked on load). The same model
/// and metadata give the same bytes. Written atomically: a temporary file in the same folder, flushed, then
/// renamed over the target.
/// </summary>
public static class ModelFile
{
    /// <summary>The <c>format</c> metadata value.</summary>
    public const string FormatName = "carry";

    /// <summary>The current format version.</summary>
    public const string Version = "1";

    /// <summary>Largest header accepted (a model header is a few KiB).</summary>
    public const long MaxHeaderBytes = SafeTensors.MaxHeaderBytes;

    internal static readonly JsonSerializerOptions Json = CarryJson.Resolving(new(JsonSerializerDefaults.Web) { WriteIndented = false, MaxDepth = 16 });

    /// <summary>Reading is strict: exact property names, no unknown properties (a misspelt <c>returnSequences</c> must not silently read as false).</summary>
    internal static readonly JsonSerializerOptions ReadJson = CarryJson.Resolving(new(JsonSerializerDefaults.Web)
    {
        PropertyNameCaseInsensitive = false,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        MaxDepth = 16,
    });

    /// <summary>Serialises <paramref name="model"/> to bytes (no file I/O).</summary>
    public static byte[] ToBytes<T>(Sequential<T> model, ModelMetadata metadata) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metadata);
        return SafeTensors.Write(MetadataOf(model, metadata, FormatName), TensorsOf(model));
    }

    /// <summary>Saves atomically: temporary file beside <paramref name="path"/>, flushed to disk, then renamed over it.</summary>
    public static void Save<T>(string path, Sequential<T> model, ModelMetadata metadata) where T : unmanaged, IFloatingPointIeee754<T>
        => AtomicFile.Write(path, ToBytes(model, metadata));

    /// <summary>
    /// Loads a model, converting the stored precision to <typeparamref name="T"/>. The file is
    /// read through its header first and each tensor straight into the model's weights, so a
    /// load allocates the model (weights and gradients) and the header, never a copy of the file.
    /// </summary>
    /// <exception cref="ModelFormatException">The file is not a valid .carry model.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static LoadedModel<T> Load<T>(string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var handle = OpenRead(path, "model");
        return Read<T>(SafeTensors.Read(ByteSource.Of(handle), path), path, FormatName, static _ => false);
    }

    /// <summary>Parses and validates a model from bytes; <paramref name="path"/> names it in errors.</summary>
    /// <exception cref="ModelFormatException">The bytes are not a valid .carry model.</exception>
    public static LoadedModel<T> FromBytes<T>(ReadOnlyMemory<byte> bytes, string path = "<model>") where T : unmanaged, IFloatingPointIeee754<T>
        => Read<T>(SafeTensors.Read(bytes, path), path, FormatName, static _ => false);

    /// <summary>Opens <paramref name="path"/> for reading, turning "not there" into one clear <see cref="FileNotFoundException"/>.</summary>
    internal static Microsoft.Win32.SafeHandles.SafeFileHandle OpenRead(string path, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            if (Directory.Exists(path)) throw new ModelFormatException(path, $"is a folder, not a {what} file.");
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{path}: no such {what} file.", path);
        }
    }

    /// <summary>The <c>__metadata__</c> of a model or checkpoint file.</summary>
    internal static Dictionary<string, string> MetadataOf<T>(Sequential<T> model, ModelMetadata metadata, string format) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var meta = new Dictionary<string, string>
        {
            ["format"] = format,
            ["version"] = Version,
            ["config"] = JsonSerializer.Serialize(new ModelConfig(model.Layers.Select(l => l.Spec).ToArray()), Json.For<ModelConfig>()),
        };
        if (metadata.Task is not null) meta["task"] = JsonSerializer.Serialize(metadata.Task, Json.For<TaskInfo>());
        meta["training"] = JsonSerializer.Serialize(metadata.Training, Json.For<Dictionary<string, string>>());
        if (metadata.Vocabulary is not null) meta["vocabulary"] = metadata.Vocabulary;
        return meta;
    }

    /// <summary>The model's parameters as (name, shape, values), in <see cref="Sequential{T}.Parameters"/> order.</summary>
    internal static List<(string Name, int[] Shape, ReadOnlyMemory<T> Values)> TensorsOf<T>(Sequential<T> model) where T : unmanaged, IFloatingPointIeee754<T>
        => model.Parameters.Select(p => (p.Name, p.Parameter.Value.Shape.ToArray(), (ReadOnlyMemory<T>)p.Parameter.Value.Data.AsMemory(0, p.Parameter.Length))).ToList();

    /// <summary>
    /// Validates a parsed file as a model: format and version, the architecture (parsed, every
    /// layer valid, each layer's input matching the previous one's output), the task and training
    /// metadata, and every tensor's name and shape against what the architecture needs — all
    /// before a single weight is allocated, so a header that lies about sizes cannot make the
    /// reader allocate more than the file holds. Then builds the model and reads the weights,
    /// rejecting NaN and ±∞, and checks the data section against the file's <c>sha256</c>
    /// metadata when it has one (<see cref="SafeTensors.VerifyChecksum"/>). Tensors for which <paramref name="isExtra"/> is true (a
    /// checkpoint's optimizer state) are left to the caller.
    /// </summary>
    internal static LoadedModel<T> Read<T>(SafeTensors file, string path, string format, Func<string, bool> isExtra) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var meta = file.Metadata;
        string Need(string key) => meta.TryGetValue(key, out var v) ? v : throw new ModelFormatException(path, $"the header's __metadata__ has no '{key}' (not a Carry {(format == FormatName ? "model" : "checkpoint")} file?).");
        string found = Need("format");
        if (found != format) throw new ModelFormatException(path, $"format is '{SafeTensors.Clip(found)}', not '{format}'.");
        string version = Need("version");
        if (version != Version) throw new ModelFormatException(path, $"format version '{SafeTensors.Clip(version)}' is not supported (this Carry reads version {Version}).");

        LayerSpec[] specs;
        try
        {
            using var config = JsonDocument.Parse(Need("config"), new JsonDocumentOptions { MaxDepth = 16 });
            if (config.RootElement.ValueKind != JsonValueKind.Object || !config.RootElement.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
            {
                throw new JsonException("there is no 'layers' array.");
            }
            if (layers.GetArrayLength() > MaxLayers) throw new ModelFormatException(path, $"the architecture has {layers.GetArrayLength()} layers (at most {MaxLayers}).");
            specs = layers.Deserialize(ReadJson.For<LayerSpec[]>()) ?? throw new JsonException("null layers");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or ArgumentException or FormatException)
        {
            throw new ModelFormatException(path, $"the architecture (config) is not valid JSON of layers: {SafeTensors.FirstSentence(e.Message)}");
        }
        if (specs.Length == 0) throw new ModelFormatException(path, "the architecture has no layers.");

        TaskInfo? task = null;
        if (meta.TryGetValue("task", out var taskJson))
        {
            try
            {
                task = JsonSerializer.Deserialize(taskJson, ReadJson.For<TaskInfo>());
            }
            catch (Exception e) when (e is JsonException or ArgumentException)
            {
                throw new ModelFormatException(path, $"the task metadata is not valid: {SafeTensors.FirstSentence(e.Message)}");
            }
            if (task is null || task.Encoding is not ("aligned" or "concat") || task.Bits <= 0 || task.Bits > 1 << 20 || task.Operation is null)
            {
                throw new ModelFormatException(path, "the task metadata names no valid encoding, bit width and operation.");
            }
        }
        var training = new Dictionary<string, string>();
        if (meta.TryGetValue("training", out var trainingJson))
        {
            try
            {
                training = JsonSerializer.Deserialize(trainingJson, ReadJson.For<Dictionary<string, string>>()) ?? [];
            }
            catch (Exception e) when (e is JsonException or ArgumentException)
            {
                throw new ModelFormatException(path, $"the training metadata is not valid: {SafeTensors.FirstSentence(e.Message)}");
            }
        }

        // Every tensor the architecture needs, with its shape, computed without allocating a layer.
        var expected = new Dictionary<string, ParameterShape>(StringComparer.Ordinal);
        for (int i = 0; i < specs.Length; i++)
        {
            try
            {
                foreach (var shape in ParameterShapes.Of(specs[i])) expected.Add($"layers.{i}.{shape.Name}", shape);
            }
            catch (ArgumentException e)
            {
                throw new ModelFormatException(path, $"layer {i} of the architecture is not valid: {Plain(e)}");
            }
        }
        foreach (var name in file.Tensors.Keys)
        {
            if (!expected.ContainsKey(name) && !isExtra(name)) throw new ModelFormatException(path, $"tensor '{SafeTensors.Clip(name)}' is not a parameter of the architecture.");
        }
        string? dtype = null;
        foreach (var (name, shape) in expected)
        {
            if (!file.Tensors.TryGetValue(name, out var info)) throw new ModelFormatException(path, $"tensor '{name}' is missing.");
            if (!shape.Matches(info.Shape))
            {
                throw new ModelFormatException(path, $"tensor '{name}' has shape {Numerics.Tensor<T>.ShapeText(info.Shape)}, but the architecture needs {shape.ShapeText}.");
            }
            if (dtype is not null && info.DType != dtype) throw new ModelFormatException(path, $"tensor '{name}' is {info.DType}, the others {dtype}.");
            dtype ??= info.DType;
        }

        // The shapes match tensors that lie inside the file, so building the layers allocates at most what the file holds.
        var model = new Sequential<T>();
        for (int i = 0; i < specs.Length; i++)
        {
            try
            {
                model.Add(specs[i].Create<T>());
            }
            catch (ArgumentException e)
            {
                throw new ModelFormatException(path, $"layer {i} of the architecture is not valid: {Plain(e)}");
            }
        }
        try
        {
            var first = specs.FirstOrDefault(s => s.InputFeatures > 0) ?? specs[0];
            model.OutputShape([1, Math.Max(1, first.InputFeatures)]);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(path, $"the architecture's layers do not fit together: {Plain(e)}");
        }
        foreach (var (name, p) in model.Parameters)
        {
            if (!expected.ContainsKey(name)) throw new ModelFormatException(path, $"the architecture builds parameter '{name}' that the file does not describe.");
            file.CopyTo(file.Tensors[name], p.Value.Span);
        }
        string? vocabulary = meta.GetValueOrDefault("vocabulary");
        if (vocabulary is not null)
        {
            try
            {
                Text.Vocabulary.Parse(vocabulary);
            }
            catch (FormatException e)
            {
                throw new ModelFormatException(path, $"the vocabulary metadata is not valid: {e.Message}");
            }
        }
        file.VerifyChecksum();
        var metadata = new ModelMetadata { Task = task, DType = dtype ?? "F32", Training = training, Vocabulary = vocabulary };
        return new LoadedModel<T>(model, metadata, specs);
    }

    /// <summary>An argument exception's message without .NET's "(Parameter 'x')" suffix.</summary>
    private static string Plain(ArgumentException e) => Numerics.Check.Plain(e);

    /// <summary>Most layers an architecture may have.</summary>
    public const int MaxLayers = 1000;
}
