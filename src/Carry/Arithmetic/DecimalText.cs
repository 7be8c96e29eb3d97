using System.Globalization;
using System.Numerics;
using System.Text;

namespace Carry.Arithmetic;

/// <summary>
/// Decimal text of large non-negative integers in sub-quadratic time. <see cref="BigInteger.ToString()"/>
/// converts limb by limb, quadratic in the length (about 0.3 s for 100,000 digits); splitting by
/// 10^(k·2^i) with <see cref="BigInteger.DivRem(BigInteger, BigInteger)"/> turns that into a few
/// large divisions (tens of milliseconds).
/// </summary>
public static class DecimalText
{
    /// <summary>Digits per leaf, converted by <see cref="BigInteger.ToString()"/>.</summary>
    private const int LeafDigits = 1000;

    /// <summary>Below this many bits the built-in conversion is as fast.</summary>
    private const long DirectBits = 32_000;

    /// <summary>The decimal digits of <paramref name="value"/> (no sign, no separators).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is negative.</exception>
    public static string Format(BigInteger value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        if (value.GetBitLength() <= DirectBits) return value.ToString(CultureInfo.InvariantCulture);
        // powers[i] = 10^(LeafDigits·2^i), up to the first whose square exceeds value.
        var powers = new List<BigInteger> { BigInteger.Pow(10, LeafDigits) };
        while ((2 * powers[^1].GetBitLength()) - 1 <= value.GetBitLength()) powers.Add(powers[^1] * powers[^1]);
        var text = new StringBuilder((int)(value.GetBitLength() * 0.30103) + 2);
        Append(value, powers.Count - 1, powers, text, pad: false);
        return text.ToString();
    }

    /// <summary>Appends x &lt; powers[level]² as digits; padded to its full 2·LeafDigits·2^level digits when not leading.</summary>
    private static void Append(BigInteger x, int level, List<BigInteger> powers, StringBuilder text, bool pad)
    {
        if (level < 0)
        {
            string digits = x.ToString(CultureInfo.InvariantCulture);
            if (pad) text.Append('0', LeafDigits - digits.Length);
            text.Append(digits);
            return;
        }
        if (!pad && x < powers[level])
        {
            Append(x, level - 1, powers, text, pad: false);
            return;
        }
        var (high, low) = BigInteger.DivRem(x, powers[level]);
        Append(high, level - 1, powers, text, pad);
        Append(low, level - 1, powers, text, pad: true);
    }
}
