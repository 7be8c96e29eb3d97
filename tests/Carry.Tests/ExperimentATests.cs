using System.Globalization;
using System.Numerics;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Tests;

/// <summary>The article's run (seed 0, 50,000 iterations) in double and in float, trained once for every test that needs it.</summary>
public sealed class TrainedElman
{
    private readonly Lazy<IamtraskResult<double>> _double = new(() => IamtraskPreset.Train<double>(new IamtraskOptions()));
    private readonly Lazy<IamtraskResult<float>> _float = new(() => IamtraskPreset.Train<float>(new IamtraskOptions()));

    public IamtraskResult<double> Double => _double.Value;

    public IamtraskResult<float> Float => _float.Value;

    public static TaskInfo Task { get; } = new(AlignedEncoding.Name, 8);
}

/// <summary>Experiment A (SEEDS.md): the iamtrask preset against the numpy script's own output, and what the trained model can do.</summary>
public sealed class ExperimentATests(TrainedElman trained) : IClassFixture<TrainedElman>
{
    [Fact]
    public void GivenSeedZero_WhenThePresetTrainsFiftyThousandIterationsInDouble_ThenItPrintsTheNumpyFixture()
    {
        var expected = File.ReadAllLines(Fixtures.PathOf("iamtrask-seed0.txt"));
        AssertSameOutput(expected, trained.Double.Reports.SelectMany(r => r.Lines).ToArray());
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

    [Fact]
    public void GivenTheFloatRun_WhenEvaluated_ThenItAddsEveryEightBitPairAndWideNumbersExactly()
    {
        var results = Addition.Evaluate(trained.Float.Model, TrainedElman.Task, [8, 64, 256], samples: 200, seed: 0);
        Assert.Equal(65536, results[0].Samples);
        Assert.True(results[0].AllPairs);
        Assert.All(results, r => Assert.Equal(1.0, r.Exact));
        Assert.All(results, r => Assert.Equal(1.0, r.BitAccuracy));
    }

    [Fact]
    public void GivenTheDoubleRun_WhenAddingThousandDigitNumbers_ThenTheSumIsExact()
    {
        var random = new RandomGenerator(5);
        for (int i = 0; i < 5; i++)
        {
            var a = RandomBits.Next(3000 + (i * 700), random);
            var b = RandomBits.Next(3000, random);
            var answer = Addition.Add(trained.Double.Model, TrainedElman.Task, a, b);
            Assert.Equal(a + b, answer.Sum);
            Assert.Equal((int)Math.Max(a.GetBitLength(), b.GetBitLength()) + 1, answer.Steps);
        }
        Assert.Equal(BigInteger.Zero, Addition.Add(trained.Double.Model, TrainedElman.Task, 0, 0).Sum);
        Assert.Equal(new BigInteger(270), Addition.Add(trained.Double.Model, TrainedElman.Task, 157, 113).Sum);
    }

    [Fact]
    public void GivenOperandsLongerThanAChunk_WhenAdding_ThenTheChunkedPassEqualsOnePassOverTheWholeSequence()
    {
        var random = new RandomGenerator(11);
        var a = RandomBits.Next((2 * Addition.ChunkSteps) + 1234, random);
        var b = RandomBits.Next(Addition.ChunkSteps + 7, random);
        var answer = Addition.Add(trained.Double.Model, TrainedElman.Task, a, b);
        Assert.Equal(a + b, answer.Sum);
        int steps = answer.Steps;
        Assert.True(steps > 2 * Addition.ChunkSteps);
        var input = new Tensor<double>(1, steps, 2);
        Addition.WriteAligned(a, b, steps, input.Span);
        var whole = trained.Double.Model.Forward(input, training: false);
        Assert.Equal(whole.Data, answer.Outputs);
    }

    [Fact]
    public void GivenTrainedModels_WhenSavedAndLoaded_ThenTheyPredictBitForBitTheSame()
    {
        var pairs = Enumerable.Range(0, 32).Select(i => (A: (BigInteger)(i * 7919 % 65536), B: (BigInteger)(i * 104729 % 65536))).ToList();
        var (inputs, _) = AlignedEncoding.Batch<double>(pairs, 17);
        var metadata = new ModelMetadata { Task = TrainedElman.Task, DType = "F64" };
        var loaded = ModelFile.FromBytes<double>(ModelFile.ToBytes(trained.Double.Model, metadata));
        Assert.Equal(TrainedElman.Task, loaded.Metadata.Task);
        Assert.Equal(trained.Double.Model.Predict(inputs).Data, loaded.Model.Predict(inputs).Data);

        var (floatInputs, _) = AlignedEncoding.Batch<float>(pairs, 17);
        var loadedFloat = ModelFile.FromBytes<float>(ModelFile.ToBytes(trained.Float.Model, metadata with { DType = "F32" }));
        Assert.Equal(trained.Float.Model.Predict(floatInputs).Data, loadedFloat.Model.Predict(floatInputs).Data);
    }

    [Fact]
    public void GivenTheNumpyDrawOrder_WhenInitialised_ThenWeightsAreTheTransposedSynapses()
    {
        // synapse_0 (2×H) first: its row 0 is weight_ih_l0's column 0.
        var model = IamtraskPreset.Build<double>(16);
        IamtraskPreset.InitializeAsNumpy(model, new NumpyRandom(0));
        var rnn = (SimpleRnn<double>)model.Layers[0];
        var numpy = new NumpyRandom(0);
        double first = (2 * numpy.Random()) - 1, second = (2 * numpy.Random()) - 1;
        Assert.Equal(first, rnn.WeightIh.Value[0, 0]);
        Assert.Equal(second, rnn.WeightIh.Value[1, 0]);
        Assert.Equal((2 * 0.5488135039273248) - 1, rnn.WeightIh.Value[0, 0]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31_999)]
    [InlineData(32_001)]
    [InlineData(100_000)]
    [InlineData(150_000)]
    public void GivenLargeIntegers_WhenFormattedAsDecimal_ThenTheTextIsBigIntegersOwn(int bits)
    {
        var random = new RandomGenerator((ulong)bits + 3);
        BigInteger[] values = bits == 0
            ? [BigInteger.Zero, BigInteger.One, new BigInteger(1_000_000_007)]
            : [RandomBits.Next(bits, random), BigInteger.Pow(10, bits / 3), BigInteger.Pow(10, bits / 3) - 1, BigInteger.One << bits];
        foreach (var value in values) Assert.Equal(value.ToString(CultureInfo.InvariantCulture), DecimalText.Format(value));
    }

    /// <summary>Every line identical, except the Error lines, which agree within 1e-7 relative.</summary>
    internal static void AssertSameOutput(string[] expected, string[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i].StartsWith("Error:[", StringComparison.Ordinal))
            {
                Assert.StartsWith("Error:[", actual[i], StringComparison.Ordinal);
                double want = ParseError(expected[i]), got = ParseError(actual[i]);
                double relative = Math.Abs(got - want) / Math.Abs(want);
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
