using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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
}

/// <summary>A model read from a file, with its metadata.</summary>
public sealed record LoadedModel<T>(Sequential<T> Model, ModelMetadata Metadata, IReadOnlyList<LayerSpec> Layers) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>A .carry file is not a valid model: names the file and the problem.</summary>
public sealed class ModelFormatException : IOException
{
    public ModelFormatException(string path, string problem) : base($"{path}: {problem}")
    {
        FilePath = path;
        Problem = problem;
    }

    public ModelFormatException() { }
    public ModelFormatException(string message) : base(message) { }
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
/// layouts; <c>__metadata__</c> holds <c>format</c>, <c>version</c>, <c>config</c>, <c>task</c>
/// and <c>training</c>. Written atomically: a temporary file in the same folder, flushed, then
/// renamed over the target.
/// </summary>
public static class ModelFile
{
    /// <summary>The <c>format</c> metadata value.</summary>
    public const string FormatName = "carry";

    /// <summary>The current format version.</summary>
    public const string Version = "1";

    /// <summary>Largest header accepted (a model header is a few KiB).</summary>
    public const long MaxHeaderBytes = 16 << 20;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    /// <summary>Serialises <paramref name="model"/> to bytes (no file I/O).</summary>
    public static byte[] ToBytes<T>(Sequential<T> model, ModelMetadata metadata) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metadata);
        bool f64 = typeof(T) == typeof(double);
        string dtype = f64 ? "F64" : "F32";
        int size = f64 ? 8 : 4;
        var header = new JsonObject();
        var meta = new JsonObject
        {
            ["format"] = FormatName,
            ["version"] = Version,
            ["config"] = JsonSerializer.Serialize(new { layers = model.Layers.Select(l => l.Spec).ToArray() }, Json),
        };
        if (metadata.Task is not null) meta["task"] = JsonSerializer.Serialize(metadata.Task, Json);
        meta["training"] = JsonSerializer.Serialize(metadata.Training, Json);
        header["__metadata__"] = meta;
        long offset = 0;
        foreach (var (name, p) in model.Parameters)
        {
            long bytes = (long)p.Length * size;
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(p.Value.Shape.ToArray().Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8; // safetensors pads the header with spaces to 8 bytes
        var result = new byte[8 + padded + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        headerBytes.CopyTo(result, 8);
        result.AsSpan(8 + headerBytes.Length, padded - headerBytes.Length).Fill((byte)' ');
        long pos = 8 + padded;
        foreach (var (_, p) in model.Parameters)
        {
            foreach (var v in p.Value.Span)
            {
                if (f64) BinaryPrimitives.WriteDoubleLittleEndian(result.AsSpan((int)pos), double.CreateChecked(v));
                else BinaryPrimitives.WriteSingleLittleEndian(result.AsSpan((int)pos), float.CreateChecked(v));
                pos += size;
            }
        }
        return result;
    }

    /// <summary>Saves atomically: temporary file beside <paramref name="path"/>, flushed to disk, then renamed over it.</summary>
    public static void Save<T>(string path, Sequential<T> model, ModelMetadata metadata) where T : unmanaged, IFloatingPointIeee754<T>
        => AtomicFile.Write(path, ToBytes(model, metadata));

    /// <summary>Loads a model, converting the stored precision to <typeparamref name="T"/>.</summary>
    /// <exception cref="ModelFormatException">The file is not a valid .carry model.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static LoadedModel<T> Load<T>(string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new FileNotFoundException($"{path}: no such model file.", path);
        }
        catch (DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{path}: no such model file.", path);
        }
        return FromBytes<T>(bytes, path);
    }

    /// <summary>Parses and validates a model from bytes; <paramref name="path"/> names it in errors.</summary>
    public static LoadedModel<T> FromBytes<T>(ReadOnlySpan<byte> bytes, string path = "<model>") where T : unmanaged, IFloatingPointIeee754<T>
    {
        var file = SafeTensors.Read(bytes, path);
        var meta = file.Metadata;
        string Need(string key) => meta.TryGetValue(key, out var v) ? v : throw new ModelFormatException(path, $"the header's __metadata__ has no '{key}'.");
        if (Need("format") != FormatName) throw new ModelFormatException(path, $"format is '{meta["format"]}', not '{FormatName}'.");
        if (Need("version") != Version) throw new ModelFormatException(path, $"format version '{meta["version"]}' is not supported (this Carry reads version {Version}).");

        LayerSpec[] specs;
        try
        {
            using var config = JsonDocument.Parse(Need("config"));
            specs = config.RootElement.GetProperty("layers").Deserialize<LayerSpec[]>(Json) ?? throw new JsonException("null layers");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or NotSupportedException)
        {
            throw new ModelFormatException(path, $"the architecture (config) is not valid JSON of layers: {e.Message}");
        }
        if (specs.Length == 0) throw new ModelFormatException(path, "the architecture has no layers.");
        if (specs.Length > 1000) throw new ModelFormatException(path, $"the architecture has {specs.Length} layers.");

        TaskInfo? task = null;
        if (meta.TryGetValue("task", out var taskJson))
        {
            try
            {
                task = JsonSerializer.Deserialize<TaskInfo>(taskJson, Json);
            }
            catch (JsonException e)
            {
                throw new ModelFormatException(path, $"the task metadata is not valid: {e.Message}");
            }
            if (task is null || task.Encoding is not ("aligned" or "concat") || task.Bits <= 0 || task.Bits > 1 << 20)
            {
                throw new ModelFormatException(path, "the task metadata names no valid encoding and bit width.");
            }
        }
        var training = new Dictionary<string, string>();
        if (meta.TryGetValue("training", out var trainingJson))
        {
            try
            {
                training = JsonSerializer.Deserialize<Dictionary<string, string>>(trainingJson, Json) ?? [];
            }
            catch (JsonException e)
            {
                throw new ModelFormatException(path, $"the training metadata is not valid: {e.Message}");
            }
        }

        var model = new Sequential<T>();
        for (int i = 0; i < specs.Length; i++)
        {
            try
            {
                CheckSpecSize(specs[i]);
                model.Add(specs[i].Create<T>());
            }
            catch (ArgumentException e)
            {
                throw new ModelFormatException(path, $"layer {i} of the architecture is not valid: {e.Message}");
            }
        }
        var expected = model.Parameters.ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var name in file.Tensors.Keys)
        {
            if (!expected.ContainsKey(name)) throw new ModelFormatException(path, $"tensor '{name}' is not a parameter of the architecture.");
        }
        string? dtype = null;
        foreach (var (name, p) in expected)
        {
            if (!file.Tensors.TryGetValue(name, out var info)) throw new ModelFormatException(path, $"tensor '{name}' is missing.");
            if (!info.Shape.AsSpan().SequenceEqual(p.Value.Shape))
            {
                throw new ModelFormatException(path, $"tensor '{name}' has shape {Numerics.Tensor<T>.ShapeText(info.Shape)}, but the architecture needs {p.Value.ShapeString}.");
            }
            dtype ??= info.DType;
            file.CopyTo(info, p.Value.Span);
            foreach (var v in p.Value.Span)
            {
                if (!T.IsFinite(v)) throw new ModelFormatException(path, $"tensor '{name}' holds a non-finite value ({v}).");
            }
        }
        var metadata = new ModelMetadata { Task = task, DType = dtype ?? "F32", Training = training };
        return new LoadedModel<T>(model, metadata, specs);
    }

    private static void CheckSpecSize(LayerSpec spec)
    {
        const int Max = 1 << 16;
        if (spec.InputSize > Max || spec.Units > Max || spec.OutputSize > Max)
        {
            throw new ArgumentException($"sizes up to {Max} are supported (input {spec.InputSize}, units {spec.Units}).");
        }
        if (spec.Inner is not null) CheckSpecSize(spec.Inner);
    }
}
