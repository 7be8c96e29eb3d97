namespace Carry.Arithmetic;

/// <summary>
/// numpy's legacy generator (<c>np.random.seed</c>, <c>np.random.random</c>,
/// <c>np.random.randint</c>): MT19937 seeded with <c>init_genrand</c>, so that Experiment A draws
/// the same weights and the same training pairs as the numpy script, digit for digit. Used only
/// to reproduce numpy; everything else in Carry draws from <see cref="Numerics.RandomGenerator"/>.
/// </summary>
public sealed class NumpyRandom
{
    private const int StateLength = 624;
    private const int Period = 397;
    private const uint MatrixA = 0x9908b0df;
    private const uint UpperMask = 0x80000000;
    private const uint LowerMask = 0x7fffffff;

    private readonly uint[] _state = new uint[StateLength];
    private int _position;

    /// <summary>Seeds as <c>np.random.seed(seed)</c> does for an integer seed (MT19937 <c>init_genrand</c>).</summary>
    /// <param name="seed">The seed, 0 to 2^32 - 1 (numpy's range for an integer seed).</param>
    public NumpyRandom(uint seed)
    {
        // init_genrand: mt[i] = 1812433253 (mt[i-1] ^ (mt[i-1] >> 30)) + i, modulo 2^32.
        _state[0] = seed;
        for (int i = 1; i < StateLength; i++)
        {
            uint previous = _state[i - 1];
            _state[i] = unchecked((1812433253u * (previous ^ (previous >> 30))) + (uint)i);
        }
        _position = StateLength;
    }

    /// <summary>The next 32-bit word (MT19937 <c>genrand_int32</c>, tempered).</summary>
    public uint NextUInt32()
    {
        if (_position >= StateLength) Regenerate();
        uint y = _state[_position++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >> 18;
        return y;
    }

    /// <summary>
    /// <c>np.random.random()</c>: a double in [0, 1) with 53 random bits, built from two words as
    /// <c>((a &gt;&gt; 5) · 2^26 + (b &gt;&gt; 6)) / 2^53</c>.
    /// </summary>
    public double Random()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return ((a * 67108864.0) + b) / 9007199254740992.0;
    }

    /// <summary>
    /// Legacy <c>np.random.randint(n)</c> for 1 ≤ n ≤ 2^32: 32-bit words masked to the smallest
    /// all-ones mask covering n - 1, rejecting values ≥ n. n = 1 draws nothing and returns 0, as numpy does.
    /// </summary>
    /// <param name="n">Exclusive upper bound (e.g. 128 for <c>randint(largest_number / 2)</c>).</param>
    public long RandInt(long n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1L);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, 1L << 32);
        uint range = (uint)(n - 1);
        if (range == 0) return 0;
        uint mask = range;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        uint value;
        do
        {
            value = NextUInt32() & mask;
        }
        while (value > range);
        return value;
    }

    /// <summary>Fills <paramref name="destination"/> with <c>np.random.random(shape)</c>, row-major.</summary>
    public void Fill(Span<double> destination)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = Random();
    }

    private void Regenerate()
    {
        // The MT19937 twist: mt[i] = mt[i+397] ^ (y >> 1) ^ (y odd ? A : 0), y = upper(mt[i]) | lower(mt[i+1]).
        for (int i = 0; i < StateLength; i++)
        {
            uint y = (_state[i] & UpperMask) | (_state[(i + 1) % StateLength] & LowerMask);
            _state[i] = _state[(i + Period) % StateLength] ^ (y >> 1) ^ ((y & 1) != 0 ? MatrixA : 0u);
        }
        _position = 0;
    }
}
