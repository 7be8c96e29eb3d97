using System.Globalization;
using Carry.Arithmetic;

namespace Carry.Tests;

/// <summary>Experiment A (SEEDS.md): the iamtrask preset against the numpy script's own output.</summary>
public sealed class ExperimentATests
{
    [Fact]
    public void GivenSeedZero_WhenThePresetTrainsFiftyThousandIterationsInDouble_ThenItPrintsTheNumpyFixture()
    {
        var expected = File.ReadAllLines(Fixtures.PathOf("iamtrask-seed0.txt"));
        var result = IamtraskPreset.Train<double>(new IamtraskOptions());
        AssertSameOutput(expected, result.Reports.SelectMany(r => r.Lines).ToArray());
    }

    [Fact]
    public void GivenAnotherSeedWidthAndRate_WhenThePresetTrains_ThenItPrintsWhatNumpyPrinted()
    {
        // Data/iamtrask-seed1-h8-lr0.5-i5000-b6-p250.txt was generated with numpy 1.24.2 by
        //   /usr/bin/python3 bench/peers/iamtrask.py 1 8 0.5 5000 6 250
        var expected = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "iamtrask-seed1-h8-lr0.5-i5000-b6-p250.txt"));
        var options = new IamtraskOptions { Seed = 1, Hidden = 8, LearningRate = 0.5, Iterations = 5000, Bits = 6, PrintEvery = 250 };
        var result = IamtraskPreset.Train<double>(options);
        AssertSameOutput(expected, result.Reports.SelectMany(r => r.Lines).ToArray());
    }

    /// <summary>Every line identical, except the Error lines, which agree within 1e-7 relative.</summary>
    internal static void AssertSameOutput(string[] expected, string[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i].StartsWith("Error:[", StringComparison.Ordinal))
            {
                Assert.StartsWith("Error:[", actual[i], StringComparison.Ordinal);
                double want = ParseError(expected[i]), got = ParseError(actual[i]);
                double relative = Math.Abs(got - want) / Math.Abs(want);
                worst = Math.Max(worst, relative);
                Assert.True(relative <= 1e-7, $"line {i + 1}: expected {expected[i]}, got {actual[i]} (relative {relative:E2})");
            }
            else
            {
                Assert.Equal(expected[i], actual[i]);
            }
        }
    }

    private static double ParseError(string line) => double.Parse(line["Error:[".Length..^1], CultureInfo.InvariantCulture);
}
