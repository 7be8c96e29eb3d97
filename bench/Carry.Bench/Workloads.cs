using Carry.Arithmetic;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;

namespace Carry.Bench;

/// <summary>The workloads both the BenchmarkDotNet classes and the quick mode time, built once.</summary>
internal static class Workloads
{
    /// <summary>The GEMM shapes that matter: the LSTM(256) step at batch 128 and a large square.</summary>
    public static readonly (string Name, int M, int N, int K, bool TransA, bool TransB)[] GemmShapes =
    [
        ("lstm-forward 128x1024x256 (B·Wᵀ)", 128, 1024, 256, false, true),
        ("lstm-backward-dh 128x256x1024", 128, 256, 1024, false, false),
        ("lstm-dW 1024x256x2048 (Aᵀ·B)", 1024, 256, 2048, true, false),
        ("lstm-input-proj 2048x1024x1 (K=1)", 2048, 1024, 1, false, true),
        ("keras-fast forward 64x512x128 (B·Wᵀ)", 64, 512, 128, false, true),
        ("keras-fast backward-dh 64x128x512", 64, 128, 512, false, false),
        ("square 2048x2048x2048", 2048, 2048, 2048, false, false),
    ];

    /// <summary>Experiment B's model: LSTM(256) → Dropout(0.2) → Dense(9, sigmoid), MSE, Adam (Keras defaults).</summary>
    public static Sequential<float> ExperimentBModel(ComputeContext context)
    {
        var model = new Sequential<float>(new Lstm<float>(1, 256), new Dropout<float>(0.2, seed: 1), new Dense<float>(256, 9, Activation.Sigmoid));
        model.Initialize(Initialization.Keras, 0);
        model.Compile(new MeanSquaredError<float>(), new Adam<float>(0.001, epsilon: 1e-7));
        model.Compute = context;
        return model;
    }

    /// <summary>Experiment B's data: all 65,536 pairs of 8-bit numbers, concat encoding.</summary>
    public static (Tensor<float> X, Tensor<float> Y) ExperimentBData() => ConcatEncoding.AllPairs<float>(8);

    /// <summary>One batch of 128 samples from the data.</summary>
    public static (Tensor<float> X, Tensor<float> Y) FirstBatch(Tensor<float> x, Tensor<float> y, int batch)
    {
        int inPer = x.Length / x.Dim(0), outPer = y.Length / y.Dim(0);
        return (new Tensor<float>(x.Data.AsSpan(0, batch * inPer).ToArray(), batch, x.Dim(1), x.Dim(2)),
                new Tensor<float>(y.Data.AsSpan(0, batch * outPer).ToArray(), batch, y.Dim(1)));
    }

    /// <summary>Experiment A's network: SimpleRnn(2→16, sigmoid, no bias) → Dense(16→1, sigmoid, no bias), ½SSE, SGD 0.1.</summary>
    public static Sequential<T> ExperimentAModel<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var model = new Sequential<T>(new SimpleRnn<T>(2, 16, Activation.Sigmoid, bias: false, returnSequences: true), new Dense<T>(16, 1, Activation.Sigmoid, bias: false));
        model.Initialize(Initialization.PyTorch, 0);
        model.Compile(new HalfSumOfSquares<T>(), new Sgd<T>(0.1));
        model.Compute = ComputeContext.Serial;
        return model;
    }

    /// <summary>Experiment A's samples: a, b in [0, 128), eight aligned steps, LSB first; [count, 8, 2] and [count, 8, 1].</summary>
    public static (T[] X, T[] Y) ExperimentAData<T>(int count, ulong seed) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var random = new RandomGenerator(seed);
        var x = new T[count * 16];
        var y = new T[count * 8];
        for (int s = 0; s < count; s++)
        {
            int a = random.NextInt(128), b = random.NextInt(128), c = a + b;
            for (int t = 0; t < 8; t++)
            {
                x[(s * 16) + (2 * t)] = T.CreateChecked((a >> t) & 1);
                x[(s * 16) + (2 * t) + 1] = T.CreateChecked((b >> t) & 1);
                y[(s * 8) + t] = T.CreateChecked((c >> t) & 1);
            }
        }
        return (x, y);
    }

    /// <summary>Trains Experiment A for <paramref name="iterations"/> samples, one TrainStep each; returns the last loss.</summary>
    public static T RunExperimentA<T>(Sequential<T> model, T[] xs, T[] ys, int iterations, Tensor<T> x, Tensor<T> y)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        T loss = T.Zero;
        int samples = xs.Length / 16;
        for (int i = 0; i < iterations; i++)
        {
            int s = i % samples;
            xs.AsSpan(s * 16, 16).CopyTo(x.Span);
            ys.AsSpan(s * 8, 8).CopyTo(y.Span);
            loss = model.TrainStep(x, y);
        }
        return loss;
    }
}
