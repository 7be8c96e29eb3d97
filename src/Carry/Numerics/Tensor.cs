using System.Numerics;

namespace Carry.Numerics;

/// <summary>
/// A dense, row-major, contiguous n-dimensional array of <typeparamref name="T"/>.
/// The public surface of Carry is batch-first: sequences are <c>[batch, time, features]</c>.
/// </summary>
/// <typeparam name="T"><see cref="float"/> for speed, <see cref="double"/> where exactness matters.</typeparam>
public sealed class Tensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _data;
    private readonly int[] _shape;

    /// <summary>Creates a zero-filled tensor of the given shape (every dimension ≥ 0).</summary>
    public Tensor(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        _shape = (int[])shape.Clone();
        _data = new T[CheckedLength(_shape, nameof(shape))];
    }

    /// <summary>Wraps <paramref name="data"/> (not copied) with the given shape.</summary>
    public Tensor(T[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        _shape = (int[])shape.Clone();
        long length = CheckedLength(_shape, nameof(shape));
        if (length != data.Length)
        {
            throw new ArgumentException(
                $"A tensor of shape {ShapeText(_shape)} holds {length} values, but {nameof(data)} has {data.Length}.",
                nameof(data));
        }
        _data = data;
    }

    /// <summary>The dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements.</summary>
    public int Length => _data.Length;

    /// <summary>The backing array (row-major).</summary>
    public T[] Data => _data;

    /// <summary>The elements as a span (row-major).</summary>
    public Span<T> Span => _data;

    /// <summary>Dimension <paramref name="axis"/>; negative counts from the end.</summary>
    public int Dim(int axis) => _shape[axis < 0 ? _shape.Length + axis : axis];

    /// <summary>Element at a 2-D index.</summary>
    public T this[int i, int j]
    {
        get => _data[Offset(i, j)];
        set => _data[Offset(i, j)] = value;
    }

    /// <summary>Element at a 3-D index.</summary>
    public T this[int i, int j, int k]
    {
        get => _data[Offset(i, j, k)];
        set => _data[Offset(i, j, k)] = value;
    }

    /// <summary>True when <paramref name="shape"/> equals this tensor's shape.</summary>
    public bool HasShape(ReadOnlySpan<int> shape) => shape.SequenceEqual(_shape);

    /// <summary>A copy with its own storage.</summary>
    public Tensor<T> Clone() => new((T[])_data.Clone(), _shape);

    /// <summary>A tensor sharing this one's storage under another shape of the same length.</summary>
    public Tensor<T> Reshape(params int[] shape) => new(_data, shape);

    /// <summary>The shape as text, e.g. <c>[128, 16, 1]</c>.</summary>
    public string ShapeString => ShapeText(_shape);

    /// <summary>Fills every element with <paramref name="value"/>.</summary>
    public void Fill(T value) => _data.AsSpan().Fill(value);

    /// <summary>Formats a shape as <c>[a, b, c]</c>.</summary>
    public static string ShapeText(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public override string ToString() => $"Tensor<{typeof(T).Name}>{ShapeString}";

    private int Offset(int i, int j)
    {
        if (_shape.Length != 2) throw new InvalidOperationException($"A 2-D index into a tensor of shape {ShapeString}.");
        if ((uint)i >= (uint)_shape[0] || (uint)j >= (uint)_shape[1]) throw new ArgumentOutOfRangeException(nameof(i), $"[{i}, {j}] is outside {ShapeString}.");
        return (i * _shape[1]) + j;
    }

    private int Offset(int i, int j, int k)
    {
        if (_shape.Length != 3) throw new InvalidOperationException($"A 3-D index into a tensor of shape {ShapeString}.");
        if ((uint)i >= (uint)_shape[0] || (uint)j >= (uint)_shape[1] || (uint)k >= (uint)_shape[2]) throw new ArgumentOutOfRangeException(nameof(i), $"[{i}, {j}, {k}] is outside {ShapeString}.");
        return (((i * _shape[1]) + j) * _shape[2]) + k;
    }

    private static long CheckedLength(int[] shape, string paramName)
    {
        long length = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(paramName, $"Shape {ShapeText(shape)} has a negative dimension.");
            length *= d;
            if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(paramName, $"Shape {ShapeText(shape)} is too large.");
        }
        return length;
    }
}

/// <summary>Shape checks shared by every public entry point.</summary>
internal static class Check
{
    /// <summary>An argument exception's message without .NET's <c> (Parameter 'x')</c> suffix and what follows it, on one line.</summary>
    public static string Plain(ArgumentException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        int end = e.Message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return (end >= 0 ? e.Message[..end] : e.Message).ReplaceLineEndings(" ").Trim();
    }

    public static void Rank<T>(Tensor<T> t, int rank, string paramName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(t, paramName);
        if (t.Rank != rank) throw new ArgumentException($"{paramName} must have rank {rank}, but has shape {t.ShapeString}.", paramName);
    }

    public static void Shape<T>(Tensor<T> t, ReadOnlySpan<int> shape, string paramName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(t, paramName);
        if (!t.HasShape(shape)) throw new ArgumentException($"{paramName} must have shape {Tensor<T>.ShapeText(shape)}, but has shape {t.ShapeString}.", paramName);
    }

    public static void NonEmptyBatch<T>(Tensor<T> t, string paramName) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (t.Rank == 0 || t.Dim(0) == 0) throw new ArgumentException($"{paramName} is an empty batch (shape {t.ShapeString}).", paramName);
    }
}
