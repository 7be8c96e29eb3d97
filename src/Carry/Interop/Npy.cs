using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Carry.Interop;

/// <summary>The element types Carry reads and writes in .npy files (all little-endian).</summary>
public enum NpyType
{
    /// <summary><c>&lt;f4</c>, numpy's float32.</summary>
    Float32,
    /// <summary><c>&lt;f8</c>, numpy's float64.</summary>
    Float64,
    /// <summary><c>&lt;i4</c>, numpy's int32.</summary>
    Int32,
    /// <summary><c>&lt;i8</c>, numpy's int64.</summary>
    Int64,
}

/// <summary>
/// A C-order array read from or written to a .npy file. <see cref="Data"/> holds the elements
/// as the matching .NET array: <c>float[]</c>, <c>double[]</c>, <c>int[]</c> or <c>long[]</c>.
/// </summary>
public sealed class NpyArray
{
    private NpyArray(NpyType type, int[] shape, Array data)
    {
        long count = 1;
        foreach (int d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            count *= d;
        }
        if (count != data.Length) throw new ArgumentException($"shape ({string.Join(", ", shape)}) holds {count} elements but the data has {data.Length}.", nameof(shape));
        Type = type;
        Shape = shape;
        Data = data;
    }

    /// <summary>The element type.</summary>
    public NpyType Type { get; }

    /// <summary>The dimensions, outermost first (e.g. <c>[batch, time, features]</c>).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The elements in C order: a <c>float[]</c>, <c>double[]</c>, <c>int[]</c> or <c>long[]</c> as <see cref="Type"/> says.</summary>
    public Array Data { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>A float32 array of <paramref name="shape"/> over <paramref name="data"/> (not copied).</summary>
    public static NpyArray Of(float[] data, params int[] shape) => new(NpyType.Float32, shape, data);

    /// <summary>A float64 array of <paramref name="shape"/> over <paramref name="data"/> (not copied).</summary>
    public static NpyArray Of(double[] data, params int[] shape) => new(NpyType.Float64, shape, data);

    /// <summary>An int32 array of <paramref name="shape"/> over <paramref name="data"/> (not copied).</summary>
    public static NpyArray Of(int[] data, params int[] shape) => new(NpyType.Int32, shape, data);

    /// <summary>An int64 array of <paramref name="shape"/> over <paramref name="data"/> (not copied).</summary>
    public static NpyArray Of(long[] data, params int[] shape) => new(NpyType.Int64, shape, data);

    /// <summary>True for the integer types.</summary>
    public bool IsInteger => Type is NpyType.Int32 or NpyType.Int64;

    /// <summary>Element <paramref name="index"/> (C order) as a double; int64 beyond 2⁵³ rounds.</summary>
    public double this[int index] => Data switch
    {
        float[] f => f[index],
        double[] d => d[index],
        int[] i => i[index],
        long[] l => l[index],
        _ => throw new InvalidOperationException("unreachable: unknown element array"),
    };
}

/// <summary>
/// NumPy's .npy format (format versions 1.0, 2.0 and 3.0): the magic <c>\x93NUMPY</c>, a version,
/// the header length (2 bytes in 1.0, 4 after), a Python dict literal
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c> padded with spaces to a
/// multiple of 64 bytes and ended by a newline, then the raw elements. Reads and writes float32,
/// float64, int32 and int64, little-endian, C order; anything else is refused with one
/// <see cref="InvalidDataException"/> line naming what was found.
/// See https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html.
/// </summary>
public static partial class Npy
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']; // \x93NUMPY

    /// <summary>Reads the .npy file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Not a .npy file, or a type or layout Carry does not read.</exception>
    public static NpyArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such .npy file.", path);
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads one array from <paramref name="stream"/>; <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">Not a .npy array, or a type or layout Carry does not read.</exception>
    public static NpyArray Read(Stream stream, string name = "<npy>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (type, shape) = ReadHeader(stream, name);
        long count = 1;
        foreach (int d in shape) count *= d;
        int size = type is NpyType.Float32 or NpyType.Int32 ? 4 : 8;
        if (count * size > Array.MaxLength) throw new InvalidDataException($"{name}: {count} elements are more than Carry reads into one array.");
        var bytes = new byte[count * size];
        try
        {
            stream.ReadExactly(bytes);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{name}: the header promises {count} elements of {size} bytes, but the file ends before them.");
        }
        return type switch
        {
            NpyType.Float32 => NpyArray.Of(Decode(bytes, BinaryPrimitives.ReadSingleLittleEndian), shape),
            NpyType.Float64 => NpyArray.Of(Decode(bytes, BinaryPrimitives.ReadDoubleLittleEndian), shape),
            NpyType.Int32 => NpyArray.Of(Decode(bytes, BinaryPrimitives.ReadInt32LittleEndian), shape),
            _ => NpyArray.Of(Decode(bytes, BinaryPrimitives.ReadInt64LittleEndian), shape),
        };
    }

    /// <summary>
    /// Writes <paramref name="array"/> to <paramref name="path"/> (format 1.0, or 2.0 for a header
    /// over 64 KiB) atomically: a file already there is replaced whole or not at all.
    /// </summary>
    public static void Write(string path, NpyArray array)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(array);
        Serialization.AtomicFile.Write(path, stream => Write(stream, array));
    }

    /// <summary>Writes <paramref name="array"/> to <paramref name="stream"/> as numpy's <c>np.save</c> does.</summary>
    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        string shape = array.Shape.Count == 1 ? $"({array.Shape[0]},)" : "(" + string.Join(", ", array.Shape) + ")";
        string dict = $"{{'descr': '{Descr(array.Type)}', 'fortran_order': False, 'shape': {shape}, }}";
        // Pad with spaces so that magic + version + length + header is a multiple of 64, newline last.
        int prefix = Magic.Length + 2 + 2;
        bool wide = prefix + dict.Length + 1 > ushort.MaxValue;
        if (wide) prefix += 2;
        int total = (prefix + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(total - prefix - 1) + "\n";
        stream.Write(Magic);
        stream.WriteByte(wide ? (byte)2 : (byte)1);
        stream.WriteByte(0);
        Span<byte> length = stackalloc byte[4];
        if (wide) BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        else BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length[..(wide ? 4 : 2)]);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(Encode(array));
    }

    private static (NpyType Type, int[] Shape) ReadHeader(Stream stream, string name)
    {
        Span<byte> start = stackalloc byte[8];
        if (stream.ReadAtLeast(start, 8, throwOnEndOfStream: false) < 8 || !start[..6].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{name}: not a .npy file (it does not start with \\x93NUMPY).");
        }
        byte major = start[6];
        if (major is < 1 or > 3) throw new InvalidDataException($"{name}: .npy format version {major}.{start[7]}; Carry reads 1.0, 2.0 and 3.0.");
        Span<byte> lengthBytes = stackalloc byte[4];
        int lengthSize = major == 1 ? 2 : 4;
        if (stream.ReadAtLeast(lengthBytes[..lengthSize], lengthSize, throwOnEndOfStream: false) < lengthSize) throw new InvalidDataException($"{name}: the .npy header is cut short.");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > 1 << 20) throw new InvalidDataException($"{name}: a .npy header of {headerLength} bytes is not plausible.");
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false) < headerBytes.Length) throw new InvalidDataException($"{name}: the .npy header is cut short.");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        string descr = Field(DescrPattern(), header, name, "descr");
        if (Field(FortranPattern(), header, name, "fortran_order") != "False")
        {
            throw new InvalidDataException($"{name}: the array is stored in Fortran (column-major) order; save it in C order (np.ascontiguousarray).");
        }
        var type = descr switch
        {
            "<f4" => NpyType.Float32,
            "<f8" => NpyType.Float64,
            "<i4" => NpyType.Int32,
            "<i8" => NpyType.Int64,
            _ => throw new InvalidDataException($"{name}: element type '{descr}' is not one Carry reads (little-endian float32 '<f4', float64 '<f8', int32 '<i4' or int64 '<i8')."),
        };
        string dims = Field(ShapePattern(), header, name, "shape");
        var shape = dims.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(d => int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                ? n : throw new InvalidDataException($"{name}: shape entry '{d}' is not a dimension Carry reads."))
            .ToArray();
        return (type, shape);
    }

    private static string Field(Regex pattern, string header, string name, string key)
    {
        var match = pattern.Match(header);
        return match.Success ? match.Groups[1].Value : throw new InvalidDataException($"{name}: the .npy header has no readable '{key}' entry.");
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    private static string Descr(NpyType type) => type switch
    {
        NpyType.Float32 => "<f4",
        NpyType.Float64 => "<f8",
        NpyType.Int32 => "<i4",
        _ => "<i8",
    };

    private delegate TValue ReadOne<TValue>(ReadOnlySpan<byte> bytes);

    private static TValue[] Decode<TValue>(byte[] bytes, ReadOne<TValue> read) where TValue : unmanaged
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<TValue>();
        var values = new TValue[bytes.Length / size];
        for (int i = 0; i < values.Length; i++) values[i] = read(bytes.AsSpan(i * size, size));
        return values;
    }

    private static byte[] Encode(NpyArray array)
    {
        int size = array.Type is NpyType.Float32 or NpyType.Int32 ? 4 : 8;
        var bytes = new byte[(long)array.Length * size];
        var span = bytes.AsSpan();
        switch (array.Data)
        {
            case float[] f:
                for (int i = 0; i < f.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], f[i]);
                break;
            case double[] d:
                for (int i = 0; i < d.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(span[(i * 8)..], d[i]);
                break;
            case int[] n:
                for (int i = 0; i < n.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], n[i]);
                break;
            case long[] l:
                for (int i = 0; i < l.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(span[(i * 8)..], l[i]);
                break;
        }
        return bytes;
    }
}
