using System.Diagnostics;
using System.Numerics;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Training;
using Xunit.Abstractions;

namespace Carry.Tests;

/// <summary>A small Elman network learns 8-bit addition, aligned encoding, end to end through Fit and Evaluate.</summary>
public sealed class LearningTests(ITestOutputHelper output)
{
    [Fact]
    public void GivenTheAlignedEightBitAdditionTask_WhenASmallElmanNetworkTrainsForAFixedBudget_ThenItAddsEveryPairExactly()
    {
        // Every pair of operands in [0, 128), 8 steps (the sum fits in 8 bits).
        const int steps = 8;
        var pairs = new List<(BigInteger, BigInteger)>(128 * 128);
        for (int a = 0; a < 128; a++)
        {
            for (int b = 0; b < 128; b++) pairs.Add((a, b));
        }
        var (inputs, targets) = AlignedEncoding.Batch<float>(pairs, steps);

        var model = new Sequential<float>(
            new SimpleRnn<float>(2, 16, Activation.Sigmoid, returnSequences: true),
            new Dense<float>(16, 1, Activation.Sigmoid));
        model.Initialize(Initialization.PyTorch, seed: Seed);
        model.Compile(new MeanSquaredError<float>(), new Adam<float>(LearningRate));

        var clock = Stopwatch.StartNew();
        var result = model.Fit(inputs, targets, new FitOptions { Epochs = Epochs, BatchSize = 32, Seed = Seed });
        clock.Stop();
        var evaluation = model.Evaluate(inputs, targets);
        output.WriteLine($"{result.History.Count} epochs, last loss {result.History[^1].Loss:E3}, exact {evaluation.ExactMatch:P2}, bits {evaluation.BitAccuracy:P3}, {clock.Elapsed.TotalSeconds:F1} s");

        // Decode independently of Evaluate: every sum read back from the per-step outputs.
        var prediction = model.Predict(inputs);
        int correct = 0;
        for (int i = 0; i < pairs.Count; i++)
        {
            var sum = AlignedEncoding.Decode<float>(prediction.Span.Slice(i * steps, steps));
            if (sum == pairs[i].Item1 + pairs[i].Item2) correct++;
        }
        Assert.Equal(pairs.Count, correct);
        Assert.Equal(1.0, evaluation.ExactMatch);
        Assert.Equal(1.0, evaluation.BitAccuracy);
    }

    private const ulong Seed = 1;
    private const double LearningRate = 0.01;
    private const int Epochs = 3;
}
