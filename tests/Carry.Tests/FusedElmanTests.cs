using System.Numerics;
using System.Runtime.Intrinsics;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Numerics;
using Xunit.Abstractions;

namespace Carry.Tests;

/// <summary>
/// The fused Elman step (<see cref="FusedElman{T}"/>) on each of its paths, chosen explicitly so that
/// every path runs on every machine (<c>Vector512</c> is emulated where AVX-512 is missing): held
/// byte for byte to numpy's printouts, and to the layer path within the rounding its different
/// summation order and vector <c>exp</c> allow.
/// </summary>
public sealed class FusedElmanTests(ITestOutputHelper output)
{
    private static readonly string[] PathNames = [nameof(GemmPath.Vector512), nameof(GemmPath.Avx2), nameof(GemmPath.Portable)];

    public static readonly TheoryData<string> Paths = new(PathNames);

    [Theory]
    [MemberData(nameof(Paths))]
    public void GivenSeedZero_WhenEachPathTrainsFiftyThousandIterations_ThenEveryLineIsNumpysToTheLastDigit(string path)
    {
        var expected = File.ReadAllLines(Fixtures.PathOf("iamtrask-seed0.txt"));
        var result = IamtraskPreset.Train<double>(new IamtraskOptions { FusedPath = Enum.Parse<GemmPath>(path) });
        Assert.Equal(expected, result.Reports.SelectMany(r => r.Lines));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void GivenAnotherSeedWidthAndRate_WhenEachPathTrains_ThenEveryLineIsNumpysToTheLastDigit(string path)
    {
        // Data/iamtrask-seed1-h8-lr0.5-i5000-b6-p250.txt: /usr/bin/python3 bench/peers/iamtrask.py 1 8 0.5 5000 6 250 (numpy 1.24.2)
        var expected = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Data", "iamtrask-seed1-h8-lr0.5-i5000-b6-p250.txt"));
        var options = new IamtraskOptions { Seed = 1, Hidden = 8, LearningRate = 0.5, Iterations = 5000, Bits = 6, PrintEvery = 250, FusedPath = Enum.Parse<GemmPath>(path) };
        Assert.Equal(expected, IamtraskPreset.Train<double>(options).Reports.SelectMany(r => r.Lines));
    }

    /// <summary>
    /// Fused and layer paths sum the same products in different orders (FMA chains over vectors of
    /// units, against the layers' dot products) and take <c>exp</c> from different code, so they part
    /// in the last bits, and training carries the difference on. Compared here: every printed error
    /// (absolute) and every weight (relative to its tensor's largest); the largest goes to the test
    /// output. Measured after these 3,000 iterations on every path (first, single-chain version): at most 3e-15 in double and 2e-6 in float, except at lr 0.5, where
    /// training amplifies rounding most: 3.8e-12 in double and 1.5e-3 in float (about the same
    /// multiple, 1.2–1.7 × 10⁴, of each type's epsilon, as amplified rounding, not an error in the
    /// step, would show). The bounds leave 25× and 14× room; the rounded predictions must be identical.
    /// </summary>
    [Theory]
    [InlineData(0L, 16, 0.1, 8)]
    [InlineData(1L, 8, 0.5, 6)]
    [InlineData(7L, 3, 0.3, 11)]
    [InlineData(3L, 1, 0.2, 5)]
    [InlineData(5L, 37, 0.1, 8)]
    public void GivenAPreset_WhenTrainedOnEachFusedPathAndThroughTheLayers_ThenPrintoutsMatchAndWeightsAgreeToRounding(long seed, int hidden, double lr, int bits)
    {
        var options = new IamtraskOptions { Seed = seed, Hidden = hidden, LearningRate = lr, Iterations = 3000, Bits = bits, PrintEvery = 100 };
        Assert.True(FusedElman<double>.Supports(IamtraskPreset.Build<double>(hidden), bits), "the fused path must apply to this preset");
        var layersDouble = IamtraskPreset.Train<double>(options with { Fused = false });
        var layersFloat = IamtraskPreset.Train<float>(options with { Fused = false });
        foreach (string path in PathNames)
        {
            var chosen = options with { FusedPath = Enum.Parse<GemmPath>(path) };
            output.WriteLine($"{path}: double {CloseRun(IamtraskPreset.Train<double>(chosen), layersDouble, 1e-10, path):E2}, float {CloseRun(IamtraskPreset.Train<float>(chosen), layersFloat, 2e-2, path):E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void GivenAHiddenSizeThatIsNotAWholeNumberOfVectors_WhenTheWeightsGoInAndComeBack_ThenTheyAreUnchanged(string path)
    {
        var model = IamtraskPreset.Build<double>(13);
        IamtraskPreset.InitializeAsNumpy(model, new NumpyRandom(4));
        var before = model.ParameterList.Select(p => p.Value.Span.ToArray()).ToList();
        new FusedElman<double>(model, 8, 0.1, Enum.Parse<GemmPath>(path)).WriteWeights();
        for (int p = 0; p < before.Count; p++) Assert.Equal(before[p], model.ParameterList[p].Value.Span.ToArray());
    }

    [Fact]
    public void GivenThisMachine_WhenTheFusedStepChoosesItsPath_ThenItIsTheKernelsAutomaticChoice()
    {
        var fused = new FusedElman<double>(IamtraskPreset.Build<double>(16), 8, 0.1);
        Assert.Equal(GemmKernel.Automatic, fused.Path); // itself held to the hardware by GemmKernelTests
    }

    /// <summary>
    /// The vector sigmoids (<see cref="Vector512.Exp(Vector512{double})"/> and its 256-bit twin)
    /// against <c>1 / (1 + Math.Exp(-x))</c> over the range a sigmoid unit meets: measured within
    /// 4.9e-16 relative in double and 2.4e-7 in float (two units in the last place, as two
    /// exponentials each within an ulp would differ).
    /// </summary>
    [Fact]
    public void GivenTheVectorSigmoids_WhenComparedWithTheScalarOne_ThenTheyAgreeToAFewUlps()
    {
        Assert.True(WorstSigmoid<Lanes512<double>, Vector512<double>, double>() <= 1e-15);
        Assert.True(WorstSigmoid<Lanes256<double>, Vector256<double>, double>() <= 1e-15);
        Assert.True(WorstSigmoid<Lanes512<float>, Vector512<float>, float>() <= 5e-7f);
        Assert.True(WorstSigmoid<Lanes256<float>, Vector256<float>, float>() <= 5e-7f);
    }

    [Fact]
    public void GivenNetworksTheFusedStepDoesNotCover_WhenChecked_ThenItDeclines()
    {
        Assert.True(FusedElman<double>.Supports(IamtraskPreset.Build<double>(FusedElman<double>.MaxHidden), 8));
        Assert.False(FusedElman<double>.Supports(IamtraskPreset.Build<double>(FusedElman<double>.MaxHidden + 1), 8));
        var withBias = new Sequential<double>(new SimpleRnn<double>(2, 4, Activation.Sigmoid, bias: true, returnSequences: true), new Dense<double>(4, 1, Activation.Sigmoid, bias: false));
        Assert.False(FusedElman<double>.Supports(withBias, 8));
        var lastOnly = new Sequential<double>(new SimpleRnn<double>(2, 4, Activation.Sigmoid, bias: false), new Dense<double>(4, 1, Activation.Sigmoid, bias: false));
        Assert.False(FusedElman<double>.Supports(lastOnly, 8));
        var tanh = new Sequential<double>(new SimpleRnn<double>(2, 4, Activation.Tanh, bias: false, returnSequences: true), new Dense<double>(4, 1, Activation.Sigmoid, bias: false));
        Assert.False(FusedElman<double>.Supports(tanh, 8));
    }

    /// <summary>Asserts identical predictions and every printed error and weight within <paramref name="tolerance"/>; returns the largest difference.</summary>
    private static double CloseRun<T>(IamtraskResult<T> fused, IamtraskResult<T> layers, double tolerance, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(layers.Reports.Count, fused.Reports.Count);
        Assert.Equal(layers.Reports.Select(r => r.Predicted), fused.Reports.Select(r => r.Predicted));
        double worst = 0; // the largest difference of any printed error, or of any weight relative to the largest weight of its tensor
        for (int i = 0; i < layers.Reports.Count; i++) worst = Math.Max(worst, Math.Abs(fused.Reports[i].Error - layers.Reports[i].Error));
        for (int p = 0; p < layers.Model.ParameterList.Count; p++)
        {
            var want = layers.Model.ParameterList[p].Value.Span;
            var got = fused.Model.ParameterList[p].Value.Span;
            double scale = 0; // the tensor's largest weight
            for (int i = 0; i < want.Length; i++) scale = Math.Max(scale, double.CreateChecked(T.Abs(want[i])));
            for (int i = 0; i < want.Length; i++) worst = Math.Max(worst, double.CreateChecked(T.Abs(got[i] - want[i])) / scale);
        }
        Assert.True(worst <= tolerance, $"{typeof(T).Name} on {path}: a printed error or a weight differs from the layers' by {worst:E2}");
        return worst;
    }

    /// <summary>The largest relative difference between the vector sigmoid and the scalar one on x in [-40, 40] (steps of 1/64, plus odd offsets).</summary>
    private static double WorstSigmoid<TLanes, TVector, T>() where TLanes : struct, ILanes<TVector, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new T[TLanes.Count];
        var y = new T[TLanes.Count];
        double worst = 0;
        for (int start = -40 * 64; start < 40 * 64; start += TLanes.Count)
        {
            for (int i = 0; i < x.Length; i++) x[i] = T.CreateChecked(((start + i) / 64.0) + (i * 0.00390625 / 7));
            TLanes.Store(TLanes.Sigmoid(TLanes.Load(ref x[0], 0)), ref y[0], 0);
            for (int i = 0; i < x.Length; i++)
            {
                T want = Activations.Sigmoid(x[i]);
                worst = Math.Max(worst, double.CreateChecked(T.Abs(y[i] - want) / want));
            }
        }
        return worst;
    }
}
