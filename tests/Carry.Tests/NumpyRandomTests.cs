using Carry.Arithmetic;

namespace Carry.Tests;

/// <summary>
/// <see cref="NumpyRandom"/> against numpy's legacy generator. The expected values are numpy's
/// own output (numpy 1.24.2), printed by
///   /usr/bin/python3 bench/peers/numpy_random_reference.py
/// </summary>
public sealed class NumpyRandomTests
{
    [Theory]
    [InlineData(0u, new[] { 0.5488135039273248, 0.7151893663724195, 0.6027633760716439, 0.5448831829968969, 0.4236547993389047 })]
    [InlineData(1u, new[] { 0.417022004702574, 0.7203244934421581, 0.00011437481734488664, 0.30233257263183977, 0.14675589081711304 })]
    [InlineData(42u, new[] { 0.3745401188473625, 0.9507143064099162, 0.7319939418114051, 0.5986584841970366, 0.15601864044243652 })]
    [InlineData(4294967295u, new[] { 0.0976320289940138, 0.9123828453026218, 0.78903530185164, 0.7800035981134678, 0.01793967398674523 })]
    public void GivenASeed_WhenDrawingRandom_ThenTheDoublesAreNumpysBitForBit(uint seed, double[] expected)
    {
        var random = new NumpyRandom(seed);
        foreach (double want in expected) Assert.Equal(BitConverter.DoubleToInt64Bits(want), BitConverter.DoubleToInt64Bits(random.Random()));
    }

    [Theory]
    [InlineData(0u, new long[] { 21, 114, 36, 87, 70, 88, 88, 12 }, new long[] { 314, 705, 486, 551, 87, 174, 600, 849 }, new long[] { 305097549, 1449105480, 374217481, 86837363 })]
    [InlineData(1u, new long[] { 16, 1, 76, 71, 109, 124, 6, 25 }, new long[] { 178, 276, 254, 357, 914, 468, 907, 252 }, new long[] { 986026652, 117628829, 1792310487, 1963679703 })]
    [InlineData(42u, new long[] { 82, 86, 74, 74, 87, 116, 99, 103 }, new long[] { 663, 130, 661, 308, 769, 343, 491, 413 }, new long[] { 911989541, 3344769, 780932287, 787716372 })]
    public void GivenFiveRandomDrawsFirst_WhenDrawingRandInt_ThenTheIntegersAreNumpys(uint seed, long[] below128, long[] below1000, long[] belowTwoTo31Plus1)
    {
        // The script draws random(5) first, then randint(128) ×8, randint(1000) ×8, randint(2**31+1) ×4.
        var random = new NumpyRandom(seed);
        for (int i = 0; i < 5; i++) random.Random();
        Assert.Equal(below128, below128.Select(_ => random.RandInt(128)).ToArray());
        Assert.Equal(below1000, below1000.Select(_ => random.RandInt(1000)).ToArray());
        Assert.Equal(belowTwoTo31Plus1, belowTwoTo31Plus1.Select(_ => random.RandInt((1L << 31) + 1)).ToArray());
    }

    [Fact]
    public void GivenABoundOfOne_WhenDrawingRandInt_ThenItIsZeroAndConsumesNothing()
    {
        var a = new NumpyRandom(7);
        var b = new NumpyRandom(7);
        Assert.Equal(0, a.RandInt(1));
        Assert.Equal(b.NextUInt32(), a.NextUInt32());
    }

    [Theory]
    // Expected strings are numpy's: /usr/bin/python3 -c 'import numpy as np; print(np.array([v]))'
    [InlineData(3.45638663, "3.45638663")]
    [InlineData(3.5852713, "3.5852713")]
    [InlineData(0.06797, "0.06797")]
    [InlineData(1.0, "1.")]
    [InlineData(0.0, "0.")]
    [InlineData(0.000123, "0.000123")]
    [InlineData(0.000123456789123, "0.00012346")]
    [InlineData(1e-5, "1.e-05")]
    [InlineData(5.123456789e-05, "5.12345679e-05")]
    [InlineData(9.99999e-5, "9.99999e-05")]
    [InlineData(2.5e-7, "2.5e-07")]
    public void GivenAFloat64_WhenFormattedAsNumpy_ThenItReadsAsNumpyPrintsIt(double value, string expected)
    {
        Assert.Equal(expected, NumpyFormat.Float64(value));
    }
}
