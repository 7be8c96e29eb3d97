using System.Numerics;
using Carry.Numerics;

namespace Carry.Arithmetic;

/// <summary>
/// The <b>aligned</b> encoding (Experiment A): step t carries bit t of each operand, least
/// significant first, as input <c>[a_t, b_t]</c>; the target at step t is bit t of the sum. One
/// step more than the operands' width carries the final carry, so a model trained this way adds
/// numbers of any width. Inputs <c>[N, steps, 2]</c>, targets <c>[N, steps, 1]</c>.
/// </summary>
public static class AlignedEncoding
{
    /// <summary>Name in files and on the command line.</summary>
    public const string Name = "aligned";

    /// <summary>Steps needed to add two numbers of <paramref name="operandBits"/> bits: one more, for the carry.</summary>
    public static int Steps(int operandBits) => operandBits + 1;

    /// <summary>Writes one sample: <paramref name="input"/> <c>[steps, 2]</c>, <paramref name="target"/> <c>[steps]</c>.</summary>
    public static void Encode<T>(BigInteger a, BigInteger b, int steps, Span<T> input, Span<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Sign < 0 || b.Sign < 0) throw new ArgumentOutOfRangeException(nameof(a), "Operands must be non-negative.");
        if (input.Length != 2 * steps || target.Length != steps) throw new ArgumentException($"Need input [{steps}, 2] and target [{steps}].", nameof(input));
        // Bits read from little-endian bytes: linear in the width, however wide the operands.
        byte[] aBytes = a.ToByteArray(isUnsigned: true, isBigEndian: false);
        byte[] bBytes = b.ToByteArray(isUnsigned: true, isBigEndian: false);
        byte[] sumBytes = (a + b).ToByteArray(isUnsigned: true, isBigEndian: false);
        for (int t = 0; t < steps; t++)
        {
            input[2 * t] = Bit<T>(aBytes, t);
            input[(2 * t) + 1] = Bit<T>(bBytes, t);
            target[t] = Bit<T>(sumBytes, t);
        }
    }

    /// <summary>A batch from pairs: inputs <c>[N, steps, 2]</c>, targets <c>[N, steps, 1]</c>.</summary>
    public static (Tensor<T> Inputs, Tensor<T> Targets) Batch<T>(IReadOnlyList<(BigInteger A, BigInteger B)> pairs, int steps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        var inputs = new Tensor<T>(pairs.Count, steps, 2);
        var targets = new Tensor<T>(pairs.Count, steps, 1);
        for (int i = 0; i < pairs.Count; i++)
        {
            Encode(pairs[i].A, pairs[i].B, steps, inputs.Span.Slice(i * steps * 2, steps * 2), targets.Span.Slice(i * steps, steps));
        }
        return (inputs, targets);
    }

    /// <summary>Reads a sum from per-step outputs <c>[steps]</c>, each rounded at 0.5 (bit t = step t).</summary>
    public static BigInteger Decode<T>(ReadOnlySpan<T> outputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var bytes = new byte[(outputs.Length / 8) + 2];
        T half = T.CreateChecked(0.5);
        for (int t = 0; t < outputs.Length; t++)
        {
            if (outputs[t] >= half) bytes[t / 8] |= (byte)(1 << (t % 8));
        }
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
    }

    private static T Bit<T>(byte[] littleEndian, int t) where T : IFloatingPointIeee754<T> => BitText.BitAt(littleEndian, t) ? T.One : T.Zero;
}

/// <summary>
/// The <b>concat</b> encoding (Experiment B): the operands' bits one after the other, most
/// significant first, one bit per step — inputs <c>[N, 2·bits, 1]</c>; the target is the whole
/// <c>bits+1</c>-bit sum, most significant first, read from the last step — targets <c>[N, bits+1]</c>.
/// Fixed width.
/// </summary>
public static class ConcatEncoding
{
    /// <summary>Name in files and on the command line.</summary>
    public const string Name = "concat";

    /// <summary>Largest width for which <see cref="AllPairs{T}"/> builds every pair (2^20 samples).</summary>
    public const int MaxAllPairsBits = 10;

    /// <summary>Writes one sample: <paramref name="input"/> <c>[2·bits]</c>, <paramref name="target"/> <c>[bits+1]</c>.</summary>
    public static void Encode<T>(BigInteger a, BigInteger b, int bits, Span<T> input, Span<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.Sign < 0 || b.Sign < 0) throw new ArgumentOutOfRangeException(nameof(a), "Operands must be non-negative.");
        if (a.GetBitLength() > bits || b.GetBitLength() > bits) throw new ArgumentOutOfRangeException(nameof(a), $"Operands must fit in {bits} bits.");
        if (input.Length != 2 * bits || target.Length != bits + 1) throw new ArgumentException($"Need input [{2 * bits}] and target [{bits + 1}].", nameof(input));
        BigInteger sum = a + b;
        for (int k = 0; k < bits; k++)
        {
            input[k] = Bit<T>(a, bits - 1 - k);
            input[bits + k] = Bit<T>(b, bits - 1 - k);
        }
        for (int k = 0; k <= bits; k++) target[k] = Bit<T>(sum, bits - k);
    }

    /// <summary>Every pair (i, j) with i, j in [0, 2^bits), i the outer loop: <c>2^(2·bits)</c> samples (bits ≤ 10).</summary>
    public static (Tensor<T> Inputs, Tensor<T> Targets) AllPairs<T>(int bits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, MaxAllPairsBits);
        int n = 1 << bits;
        var pairs = new List<(BigInteger, BigInteger)>(n * n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) pairs.Add((i, j));
        }
        return Batch<T>(pairs, bits);
    }

    /// <summary><paramref name="count"/> pairs of uniform <paramref name="bits"/>-bit operands drawn from <paramref name="random"/>.</summary>
    public static (Tensor<T> Inputs, Tensor<T> Targets) RandomPairs<T>(int bits, int count, RandomGenerator random) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bits);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var pairs = new List<(BigInteger, BigInteger)>(count);
        for (int i = 0; i < count; i++) pairs.Add((RandomBits.Next(bits, random), RandomBits.Next(bits, random)));
        return Batch<T>(pairs, bits);
    }

    /// <summary>A batch from pairs: inputs <c>[N, 2·bits, 1]</c>, targets <c>[N, bits+1]</c>.</summary>
    public static (Tensor<T> Inputs, Tensor<T> Targets) Batch<T>(IReadOnlyList<(BigInteger A, BigInteger B)> pairs, int bits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var inputs = new Tensor<T>(pairs.Count, 2 * bits, 1);
        var targets = new Tensor<T>(pairs.Count, bits + 1);
        for (int i = 0; i < pairs.Count; i++)
        {
            Encode(pairs[i].A, pairs[i].B, bits, inputs.Span.Slice(i * 2 * bits, 2 * bits), targets.Span.Slice(i * (bits + 1), bits + 1));
        }
        return (inputs, targets);
    }

    /// <summary>Reads a sum from outputs <c>[bits+1]</c>, most significant first, each rounded at 0.5.</summary>
    public static BigInteger Decode<T>(ReadOnlySpan<T> outputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        BigInteger sum = BigInteger.Zero;
        T half = T.CreateChecked(0.5);
        foreach (var o in outputs) sum = (sum << 1) + (o >= half ? BigInteger.One : BigInteger.Zero);
        return sum;
    }

    private static T Bit<T>(BigInteger x, int t) where T : IFloatingPointIeee754<T> => ((x >> t) & BigInteger.One).IsZero ? T.Zero : T.One;
}

/// <summary>Uniform random non-negative integers of a given bit width.</summary>
public static class RandomBits
{
    /// <summary>A uniform integer in [0, 2^bits).</summary>
    public static BigInteger Next(int bits, RandomGenerator random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bits);
        var bytes = new byte[(bits + 7) / 8 + 1];
        for (int i = 0; i < bytes.Length - 1; i++) bytes[i] = (byte)random.NextUInt64();
        int extra = (8 * (bytes.Length - 1)) - bits;
        if (extra > 0) bytes[^2] &= (byte)(0xFF >> extra);
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: false);
    }
}
