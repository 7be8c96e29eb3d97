using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;

namespace Carry.Serialization;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType"><c>F32</c> or <c>F64</c>.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Begin">First byte, relative to the data section.</param>
/// <param name="End">One past the last byte.</param>
public sealed record TensorInfo(string Name, string DType, int[] Shape, long Begin, long End)
{
    /// <summary>Bytes per element (4 for F32, 8 for F64).</summary>
    public int ElementSize => DType == "F64" ? 8 : 4;

    /// <summary>Number of elements.</summary>
    public long Count => (End - Begin) / ElementSize;
}

/// <summary>The bytes of a safetensors file: in memory, or read on demand from an open file.</summary>
internal abstract class ByteSource
{
    public abstract long Length { get; }

    /// <summary>Fills <paramref name="destination"/> from byte <paramref name="offset"/>; the caller has checked the range.</summary>
    public abstract void Read(long offset, Span<byte> destination);

    public static ByteSource Of(ReadOnlyMemory<byte> bytes) => new MemorySource(bytes);

    public static ByteSource Of(SafeFileHandle handle) => new FileSource(handle);

    private sealed class MemorySource(ReadOnlyMemory<byte> bytes) : ByteSource
    {
        public override long Length => bytes.Length;

        public override void Read(long offset, Span<byte> destination) => bytes.Span.Slice(checked((int)offset), destination.Length).CopyTo(destination);
    }

    private sealed class FileSource(SafeFileHandle handle) : ByteSource
    {
        private readonly long _length = RandomAccess.GetLength(handle);

        public override long Length => _length;

        public override void Read(long offset, Span<byte> destination)
        {
            while (destination.Length > 0)
            {
                int read = RandomAccess.Read(handle, destination, offset);
                if (read <= 0) throw new EndOfStreamException($"the file ended at byte {offset} while reading (it changed while being read?).");
                destination = destination[read..];
                offset += read;
            }
        }
    }
}

/// <summary>
/// A validated safetensors header: the header length within the file and below
/// <see cref="MaxHeaderBytes"/>, the header well-formed JSON (an object of tensor entries and an
/// optional <c>__metadata__</c> object of strings), every tensor's dtype known (<c>F32</c>,
/// <c>F64</c>), its shape non-negative with at most 8 dimensions, its byte range of exactly the
/// size its shape needs, and the tensors tiling the data section with no overlap, no gap and
/// nothing after the last one (as the safetensors reference reader requires). Reading a header
/// allocates in proportion to the header only; tensor data is copied straight into the caller's
/// buffers by <see cref="CopyTo{T}"/>.
/// </summary>
public sealed class SafeTensors
{
    /// <summary>Largest header accepted (a model header is a few KiB; a checkpoint's holds the sample order).</summary>
    public const long MaxHeaderBytes = 16 << 20;

    /// <summary>Most dimensions a tensor may have.</summary>
    public const int MaxRank = 8;

    /// <summary>
    /// The <c>__metadata__</c> key holding the SHA-256 of the data section (every tensor's bytes,
    /// in file order) as 64 lower-case hex digits. Carry writes it; files without it (written by
    /// other tools) are read unchecked.
    /// </summary>
    public const string ChecksumKey = "sha256";

    private readonly ByteSource _source;
    private readonly string _path;

    private SafeTensors(ByteSource source, string path, long dataOffset, Dictionary<string, TensorInfo> tensors, Dictionary<string, string> metadata)
    {
        _source = source;
        _path = path;
        DataOffset = dataOffset;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The tensors by name.</summary>
    public IReadOnlyDictionary<string, TensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Where the data section starts in the file (8 + header length).</summary>
    public long DataOffset { get; }

    /// <summary>Bytes in the data section.</summary>
    public long DataLength => _source.Length - DataOffset;

    /// <summary>Parses and validates the header of <paramref name="bytes"/>; <paramref name="path"/> names the file in errors.</summary>
    /// <exception cref="ModelFormatException">Anything about the layout is wrong.</exception>
    public static SafeTensors Read(ReadOnlyMemory<byte> bytes, string path) => Read(ByteSource.Of(bytes), path);

    internal static SafeTensors Read(ByteSource source, string path)
    {
        long length = source.Length;
        if (length < 8) throw new ModelFormatException(path, $"the file is {length} bytes, too short for a safetensors header.");
        Span<byte> prefix = stackalloc byte[8];
        source.Read(0, prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(length - 8))
        {
            throw new ModelFormatException(path, $"the header length {headerLength} exceeds the file's {length - 8} remaining bytes (truncated or not a safetensors file).");
        }
        if (headerLength > (ulong)MaxHeaderBytes) throw new ModelFormatException(path, $"the header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit.");
        if (headerLength < 2) throw new ModelFormatException(path, "the header is empty.");
        var header = new byte[headerLength];
        source.Read(8, header);
        long dataOffset = 8 + (long)headerLength;
        long dataLength = length - dataOffset;
        var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        try
        {
            using var doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "the header is not a JSON object.");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (tensors.ContainsKey(prop.Name) || (prop.Name == "__metadata__" && sawMetadata))
                {
                    throw new ModelFormatException(path, $"the header names '{Clip(prop.Name)}' twice.");
                }
                if (prop.Name == "__metadata__")
                {
                    sawMetadata = true;
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "__metadata__ is not an object of strings.");
                    foreach (var m in prop.Value.EnumerateObject())
                    {
                        if (m.Value.ValueKind != JsonValueKind.String) throw new ModelFormatException(path, $"__metadata__ '{Clip(m.Name)}' is not a string.");
                        if (!metadata.TryAdd(m.Name, m.Value.GetString()!)) throw new ModelFormatException(path, $"__metadata__ names '{Clip(m.Name)}' twice.");
                    }
                    continue;
                }
                tensors[prop.Name] = ReadEntry(prop, path);
            }
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"the header is not valid JSON: {FirstSentence(e.Message)}");
        }
        catch (InvalidOperationException e)
        {
            throw new ModelFormatException(path, $"the header has a value of the wrong type: {FirstSentence(e.Message)}");
        }
        catch (FormatException e)
        {
            throw new ModelFormatException(path, $"the header has a number out of range: {FirstSentence(e.Message)}");
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(path, $"the header is not valid UTF-8 JSON: {FirstSentence(e.Message)}");
        }
        // The tensors must tile [0, dataLength): sorted by start, each begins where the previous ended.
        foreach (var t in tensors.Values)
        {
            if (t.End > dataLength) throw new ModelFormatException(path, $"tensor '{Clip(t.Name)}' ends at byte {t.End}, past the data section's {dataLength} bytes (truncated?).");
        }
        long covered = 0;
        foreach (var t in tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin < covered) throw new ModelFormatException(path, $"tensor '{Clip(t.Name)}' overlaps another tensor's bytes (it starts at {t.Begin}, before byte {covered}).");
            if (t.Begin > covered) throw new ModelFormatException(path, $"the data section has {t.Begin - covered} unused bytes before tensor '{Clip(t.Name)}'.");
            if (t.End > dataLength) throw new ModelFormatException(path, $"tensor '{Clip(t.Name)}' ends at byte {t.End}, past the data section's {dataLength} bytes (truncated?).");
            covered = t.End;
        }
        if (covered != dataLength) throw new ModelFormatException(path, $"the data section is {dataLength} bytes, but the tensors cover {covered} (trailing bytes).");
        return new SafeTensors(source, path, dataOffset, tensors, metadata);
    }

    /// <summary>
    /// Copies tensor <paramref name="info"/> into <paramref name="destination"/>, converting F32/F64
    /// to <typeparamref name="T"/>, and checks every value is finite.
    /// </summary>
    /// <exception cref="ModelFormatException">The tensor holds NaN or ±∞, or the file ended early.</exception>
    public void CopyTo<T>(TensorInfo info, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(info);
        if (info.Count != destination.Length) throw new ArgumentException($"Tensor '{info.Name}' has {info.Count} values, destination {destination.Length}.", nameof(destination));
        int size = info.ElementSize;
        long offset = DataOffset + info.Begin;
        try
        {
            if (size == System.Runtime.CompilerServices.Unsafe.SizeOf<T>() && BitConverter.IsLittleEndian)
            {
                _source.Read(offset, MemoryMarshal.AsBytes(destination)); // same precision: straight copy
            }
            else
            {
                Span<byte> chunk = stackalloc byte[4096];
                int perChunk = chunk.Length / size;
                for (int start = 0; start < destination.Length; start += perChunk)
                {
                    int count = Math.Min(perChunk, destination.Length - start);
                    var bytes = chunk[..(count * size)];
                    _source.Read(offset + ((long)start * size), bytes);
                    for (int i = 0; i < count; i++)
                    {
                        destination[start + i] = size == 8
                            ? T.CreateTruncating(BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * 8)..]))
                            : T.CreateTruncating(BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]));
                    }
                }
            }
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFormatException(_path, $"tensor '{info.Name}': {e.Message}");
        }
        for (int i = 0; i < destination.Length; i++)
        {
            if (!T.IsFinite(destination[i]))
            {
                throw new ModelFormatException(_path, $"tensor '{info.Name}' holds a non-finite value ({destination[i]}) at index {i}.");
            }
        }
    }

    /// <summary>
    /// Checks the data section against the <see cref="ChecksumKey"/> metadata, when the file has
    /// it, reading the data in chunks (nothing in proportion to the file is allocated).
    /// </summary>
    /// <exception cref="ModelFormatException">The key is not 64 lower-case hex digits, or the data's SHA-256 differs from it.</exception>
    public void VerifyChecksum()
    {
        if (!Metadata.TryGetValue(ChecksumKey, out var expected)) return;
        if (expected.Length != 64 || !expected.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            throw new ModelFormatException(_path, $"the {ChecksumKey} metadata '{Clip(expected)}' is not a SHA-256 (64 lower-case hex digits).");
        }
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        Span<byte> chunk = stackalloc byte[16384];
        for (long at = DataOffset; at < _source.Length; at += chunk.Length)
        {
            var part = chunk[..(int)Math.Min(chunk.Length, _source.Length - at)];
            _source.Read(at, part);
            hash.AppendData(part);
        }
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        string actual = Convert.ToHexStringLower(digest);
        if (actual != expected)
        {
            throw new ModelFormatException(_path, $"the tensor data's SHA-256 is {actual}, not the {expected} recorded in its {ChecksumKey} metadata: the weights changed after the file was saved (a damaged or edited file).");
        }
    }

    /// <summary>
    /// Writes a safetensors file: the header (metadata with <see cref="ChecksumKey"/> added, then
    /// each tensor in order with contiguous offsets, padded with spaces to 8 bytes) and the
    /// tensors' little-endian data in the precision of <typeparamref name="T"/>. The same
    /// arguments give the same bytes.
    /// </summary>
    public static byte[] Write<T>(IReadOnlyDictionary<string, string> metadata, IReadOnlyList<(string Name, int[] Shape, ReadOnlyMemory<T> Values)> tensors)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(tensors);
        bool f64 = typeof(T) == typeof(double);
        if (!f64 && typeof(T) != typeof(float)) throw new NotSupportedException($"Carry writes F32 and F64 tensors, not {typeof(T).Name}.");
        string dtype = f64 ? "F64" : "F32";
        int size = f64 ? 8 : 4;
        byte[] data = Data(tensors, f64);
        var header = new JsonObject();
        var meta = new JsonObject();
        foreach (var (key, value) in metadata) meta[key] = value;
        meta[ChecksumKey] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
        header["__metadata__"] = meta;
        long offset = 0;
        foreach (var (name, shape, values) in tensors)
        {
            long bytes = (long)values.Length * size;
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()),
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
        data.CopyTo(result, 8 + padded);
        return result;
    }

    /// <summary>The data section: every tensor's values, little-endian, one after another.</summary>
    private static byte[] Data<T>(IReadOnlyList<(string Name, int[] Shape, ReadOnlyMemory<T> Values)> tensors, bool f64) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = f64 ? 8 : 4;
        var data = new byte[tensors.Sum(t => (long)t.Values.Length * size)];
        int pos = 0;
        foreach (var (_, _, values) in tensors)
        {
            foreach (var v in values.Span)
            {
                if (f64) BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(pos), double.CreateTruncating(v));
                else BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(pos), float.CreateTruncating(v));
                pos += size;
            }
        }
        return data;
    }

    private static TensorInfo ReadEntry(JsonProperty prop, string path)
    {
        var e = prop.Value;
        string name = Clip(prop.Name); // for messages: a hostile header may hold megabyte-long names
        if (e.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, $"tensor '{name}' is not described by an object.");
        if (!e.TryGetProperty("dtype", out var d) || d.ValueKind != JsonValueKind.String) throw new ModelFormatException(path, $"tensor '{name}' has no dtype.");
        string dtype = d.GetString()!;
        int size = dtype switch
        {
            "F32" => 4,
            "F64" => 8,
            _ => throw new ModelFormatException(path, $"tensor '{name}' has dtype '{Clip(dtype)}'; Carry reads F32 and F64."),
        };
        if (!e.TryGetProperty("shape", out var s) || s.ValueKind != JsonValueKind.Array) throw new ModelFormatException(path, $"tensor '{name}' has no shape.");
        if (s.GetArrayLength() > MaxRank) throw new ModelFormatException(path, $"tensor '{name}' has {s.GetArrayLength()} dimensions (at most {MaxRank}).");
        var shape = new int[s.GetArrayLength()];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (s[i].ValueKind != JsonValueKind.Number || !s[i].TryGetInt64(out long dim)) throw new ModelFormatException(path, $"tensor '{name}' has a dimension that is not an integer.");
            if (dim < 0 || dim > int.MaxValue) throw new ModelFormatException(path, $"tensor '{name}' has dimension {dim}.");
            shape[i] = (int)dim;
            count *= dim; // both ≤ int.MaxValue after the check below, so no overflow
            if (count > int.MaxValue) throw new ModelFormatException(path, $"tensor '{name}' has a shape too large to hold.");
        }
        if (!e.TryGetProperty("data_offsets", out var o) || o.ValueKind != JsonValueKind.Array || o.GetArrayLength() != 2
            || o[0].ValueKind != JsonValueKind.Number || o[1].ValueKind != JsonValueKind.Number
            || !o[0].TryGetInt64(out long begin) || !o[1].TryGetInt64(out long end))
        {
            throw new ModelFormatException(path, $"tensor '{name}' has no integer [begin, end] data_offsets.");
        }
        if (begin < 0 || end < begin) throw new ModelFormatException(path, $"tensor '{name}' has data_offsets [{begin}, {end}].");
        if (end - begin != count * size)
        {
            throw new ModelFormatException(path, $"tensor '{name}' spans {end - begin} bytes, but its shape {Numerics.Tensor<float>.ShapeText(shape)} of {dtype} needs {count * size}.");
        }
        return new TensorInfo(prop.Name, dtype, shape, begin, end);
    }

    internal static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";

    internal static string FirstSentence(string message)
    {
        int cut = message.IndexOf(". ", StringComparison.Ordinal);
        return (cut > 0 ? message[..(cut + 1)] : message).ReplaceLineEndings(" ");
    }
}
