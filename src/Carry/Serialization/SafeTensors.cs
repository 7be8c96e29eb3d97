using System.Buffers.Binary;
using System.Numerics;
using System.Text.Json;

namespace Carry.Serialization;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType"><c>F32</c> or <c>F64</c>.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Begin">First byte, relative to the data section.</param>
/// <param name="End">One past the last byte.</param>
public sealed record TensorInfo(string Name, string DType, int[] Shape, long Begin, long End);

/// <summary>
/// A validated safetensors file: header length within the file, header JSON well formed,
/// every tensor's dtype known, its shape non-negative, its byte range inside the data section,
/// of the size its shape needs, and not overlapping another's.
/// </summary>
public sealed class SafeTensors
{
    private readonly byte[] _data;

    private SafeTensors(byte[] data, Dictionary<string, TensorInfo> tensors, Dictionary<string, string> metadata)
    {
        _data = data;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The tensors by name.</summary>
    public IReadOnlyDictionary<string, TensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Parses and validates <paramref name="bytes"/>; <paramref name="path"/> names the file in errors.</summary>
    public static SafeTensors Read(ReadOnlySpan<byte> bytes, string path)
    {
        if (bytes.Length < 8) throw new ModelFormatException(path, $"the file is {bytes.Length} bytes, too short for a safetensors header.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8) || headerLength > (ulong)ModelFile.MaxHeaderBytes)
        {
            throw new ModelFormatException(path, $"the header length {headerLength} exceeds the file's {bytes.Length - 8} remaining bytes.");
        }
        if (headerLength < 2) throw new ModelFormatException(path, "the header is empty.");
        var headerBytes = bytes.Slice(8, (int)headerLength);
        var data = bytes[(8 + (int)headerLength)..].ToArray();
        var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(headerBytes.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "the header is not a JSON object.");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "__metadata__ is not an object of strings.");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw new ModelFormatException(path, $"__metadata__ '{m.Name}' is not a string.");
                        metadata[m.Name] = m.Value.GetString()!;
                    }
                    continue;
                }
                tensors[prop.Name] = ReadEntry(prop, path);
            }
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"the header is not valid JSON: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            throw new ModelFormatException(path, $"the header has a value of the wrong type: {e.Message}");
        }
        catch (FormatException e)
        {
            throw new ModelFormatException(path, $"the header has a number out of range: {e.Message}");
        }
        long covered = 0;
        foreach (var t in tensors.Values.OrderBy(t => t.Begin))
        {
            if (t.Begin < covered) throw new ModelFormatException(path, $"tensor '{t.Name}' overlaps another tensor's bytes.");
            if (t.End > data.Length) throw new ModelFormatException(path, $"tensor '{t.Name}' ends at byte {t.End}, past the data's {data.Length} bytes.");
            covered = t.End;
        }
        return new SafeTensors(data, tensors, metadata);
    }

    /// <summary>Copies tensor <paramref name="info"/> into <paramref name="destination"/>, converting F32/F64 to <typeparamref name="T"/>.</summary>
    public void CopyTo<T>(TensorInfo info, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = info.DType == "F64" ? 8 : 4;
        long count = (info.End - info.Begin) / size;
        if (count != destination.Length) throw new ArgumentException($"Tensor '{info.Name}' has {count} values, destination {destination.Length}.", nameof(destination));
        var src = _data.AsSpan((int)info.Begin, (int)(info.End - info.Begin));
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = size == 8
                ? T.CreateChecked(BinaryPrimitives.ReadDoubleLittleEndian(src.Slice(i * 8)))
                : T.CreateChecked(BinaryPrimitives.ReadSingleLittleEndian(src.Slice(i * 4)));
        }
    }

    private static TensorInfo ReadEntry(JsonProperty prop, string path)
    {
        var e = prop.Value;
        if (e.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, $"tensor '{prop.Name}' is not described by an object.");
        string dtype = e.TryGetProperty("dtype", out var d) ? d.GetString() ?? "" : throw new ModelFormatException(path, $"tensor '{prop.Name}' has no dtype.");
        int size = dtype switch
        {
            "F32" => 4,
            "F64" => 8,
            _ => throw new ModelFormatException(path, $"tensor '{prop.Name}' has dtype '{dtype}'; Carry reads F32 and F64."),
        };
        if (!e.TryGetProperty("shape", out var s) || s.ValueKind != JsonValueKind.Array) throw new ModelFormatException(path, $"tensor '{prop.Name}' has no shape.");
        if (s.GetArrayLength() > 8) throw new ModelFormatException(path, $"tensor '{prop.Name}' has {s.GetArrayLength()} dimensions.");
        var shape = new int[s.GetArrayLength()];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long dim = s[i].GetInt64();
            if (dim < 0 || dim > int.MaxValue) throw new ModelFormatException(path, $"tensor '{prop.Name}' has dimension {dim}.");
            shape[i] = (int)dim;
            count *= dim;
            if (count > int.MaxValue) throw new ModelFormatException(path, $"tensor '{prop.Name}' has a shape too large to hold.");
        }
        if (!e.TryGetProperty("data_offsets", out var o) || o.ValueKind != JsonValueKind.Array || o.GetArrayLength() != 2)
        {
            throw new ModelFormatException(path, $"tensor '{prop.Name}' has no [begin, end] data_offsets.");
        }
        long begin = o[0].GetInt64(), end = o[1].GetInt64();
        if (begin < 0 || end < begin) throw new ModelFormatException(path, $"tensor '{prop.Name}' has data_offsets [{begin}, {end}].");
        if (end - begin != count * size)
        {
            throw new ModelFormatException(path, $"tensor '{prop.Name}' spans {end - begin} bytes, but its shape {Numerics.Tensor<float>.ShapeText(shape)} of {dtype} needs {count * size}.");
        }
        return new TensorInfo(prop.Name, dtype, shape, begin, end);
    }
}
