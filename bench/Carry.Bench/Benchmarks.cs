using BenchmarkDotNet.Attributes;
using Carry.Layers;
using Carry.Numerics;
using Carry.Training;

namespace Carry.Bench;

/// <summary>The matrix product at the LSTM(256) step shapes and at 2048³, on both cores.</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "";

    public static IEnumerable<string> Shapes => Workloads.GemmShapes.Select(s => s.Name);

    private (string Name, int M, int N, int K, bool TransA, bool TransB) S => Workloads.GemmShapes.First(s => s.Name == Shape);

    [GlobalSetup]
    public void Setup()
    {
        var s = S;
        var random = new RandomGenerator(1);
        _a = Enumerable.Range(0, s.M * s.K).Select(_ => (float)random.NextDouble()).ToArray();
        _b = Enumerable.Range(0, s.K * s.N).Select(_ => (float)random.NextDouble()).ToArray();
        _c = new float[s.M * s.N];
    }

    [Benchmark]
    public void Multiply()
    {
        var s = S;
        Gemm.Multiply(ComputeContext.Default, s.TransA, s.TransB, s.M, s.N, s.K, _a, s.TransA ? s.M : s.K, _b, s.TransB ? s.K : s.N, _c, s.N, accumulate: false);
    }
}

/// <summary>One training step of Experiment B's model (LSTM(256), batch 128, 16 steps), float.</summary>
[MemoryDiagnoser]
public class LstmStepBenchmarks
{
    private Sequential<float> _model = null!;
    private Tensor<float> _x = null!, _y = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = Workloads.ExperimentBModel(ComputeContext.Default);
        var (x, y) = Workloads.ExperimentBData();
        (_x, _y) = Workloads.FirstBatch(x, y, 128);
        _model.TrainStep(_x, _y);
    }

    [Benchmark]
    public float TrainStep() => _model.TrainStep(_x, _y);

    [Benchmark]
    public Tensor<float> ForwardOnly() => _model.Forward(_x, training: false);
}

/// <summary>A quarter of one Experiment-B epoch (16,384 of 65,536 samples), and inference over all 65,536 pairs.</summary>
[MemoryDiagnoser]
public class ExperimentBBenchmarks
{
    private Sequential<float> _model = null!;
    private Tensor<float> _x = null!, _y = null!, _xPart = null!, _yPart = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = Workloads.ExperimentBModel(ComputeContext.Default);
        (_x, _y) = Workloads.ExperimentBData();
        (_xPart, _yPart) = Workloads.FirstBatch(_x, _y, 16384);
    }

    [Benchmark(Description = "Fit, 16,384 samples (×4 = one epoch)")]
    public FitResult QuarterEpoch() => _model.Fit(_xPart, _yPart, new FitOptions { Epochs = 1, BatchSize = 128, Seed = 1 });

    [Benchmark(Description = "Predict all 65,536 pairs")]
    public Tensor<float> PredictAll() => _model.Predict(_x, 1024);
}

/// <summary>Experiment A: 50,000 single-sample steps of the 2-16-1 Elman network, double and float.</summary>
[MemoryDiagnoser]
public class ExperimentABenchmarks
{
    private Sequential<double> _model = null!;
    private Sequential<float> _modelF = null!;
    private double[] _xs = [], _ys = [];
    private float[] _xsF = [], _ysF = [];
    private readonly Tensor<double> _x = new(1, 8, 2), _y = new(1, 8, 1);
    private readonly Tensor<float> _xF = new(1, 8, 2), _yF = new(1, 8, 1);

    [GlobalSetup]
    public void Setup()
    {
        _model = Workloads.ExperimentAModel<double>();
        _modelF = Workloads.ExperimentAModel<float>();
        (_xs, _ys) = Workloads.ExperimentAData<double>(1000, 1);
        (_xsF, _ysF) = Workloads.ExperimentAData<float>(1000, 1);
    }

    [Benchmark(Description = "50,000 iterations, double")]
    public double Double50k() => Workloads.RunExperimentA(_model, _xs, _ys, 50_000, _x, _y);

    [Benchmark(Description = "50,000 iterations, float")]
    public float Float50k() => Workloads.RunExperimentA(_modelF, _xsF, _ysF, 50_000, _xF, _yF);

    [Benchmark(Description = "one iteration, double")]
    public double DoubleOne() => Workloads.RunExperimentA(_model, _xs, _ys, 1, _x, _y);
}
