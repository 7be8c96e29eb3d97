using System.Numerics;
using System.Text;

namespace Carry.Arithmetic;

/// <summary>The article's bit vectors: <c>[1 0 0 1 1 1 0 1]</c>, most significant bit first.</summary>
public static class BitText
{
    /// <summary>The low <paramref name="width"/> bits of <paramref name="x"/> (≥ 0), most significant first, in time linear in the width.</summary>
    public static string Format(BigInteger x, int width)
    {
        if (x.Sign < 0) throw new ArgumentOutOfRangeException(nameof(x), "The value must be non-negative.");
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        byte[] bytes = x.ToByteArray(isUnsigned: true, isBigEndian: false);
        var text = new StringBuilder((2 * width) + 2);
        text.Append('[');
        for (int t = width - 1; t >= 0; t--)
        {
            text.Append(BitAt(bytes, t) ? '1' : '0');
            if (t > 0) text.Append(' ');
        }
        return text.Append(']').ToString();
    }

    /// <summary>Bit <paramref name="t"/> of a little-endian byte string (0 past its end).</summary>
    internal static bool BitAt(byte[] littleEndian, int t) => (t >> 3) < littleEndian.Length && ((littleEndian[t >> 3] >> (t & 7)) & 1) != 0;
}
