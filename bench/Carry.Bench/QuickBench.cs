using System.Diagnostics;
using System.Globalization;
using Carry.Layers;
using Carry.Numerics;
using Carry.Training;

namespace Carry.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/Carry.Bench -- quick [--threads N] [--reps R] [--only gemm|lstm|epoch|a|predict]</c>:
/// Stopwatch medians of the same workloads as the BenchmarkDotNet classes, printed as
/// <c>name&lt;TAB&gt;value&lt;TAB&gt;unit</c> lines for bench/compare.sh.
/// </summary>
internal static class QuickBench
{
    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount, reps = 5;
        string only = "all";
        for (int i = 0; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--reps": reps = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--only": only = args[i + 1]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        using var context = new ComputeContext(threads);
        Console.WriteLine($"# carry quick bench: {threads} threads, median of {reps}, AVX2+FMA kernel: {GemmKernel.IsSupported}");
        if (only is "all" or "gemm") Gemm(context, reps);
        if (only is "all" or "lstm") LstmStep(context, reps);
        if (only is "all" or "epoch") Epoch(context, Math.Max(1, reps / 2));
        if (only is "all" or "predict") Predict(context, reps);
        if (only is "all" or "a") ExperimentA(reps);
        return 0;
    }

    private static void Report(string name, double value, string unit) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}\t{value:G4}\t{unit}"));

    /// <summary>CPU seconds per call of the last <see cref="Median"/> (all threads), to tell the kernel's cost from the machine's load.</summary>
    private static double _lastCpu;

    private static double Median(int reps, Action action)
    {
        var times = new double[reps];
        var cpu = new double[reps];
        using var process = Process.GetCurrentProcess();
        for (int r = 0; r < reps; r++)
        {
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            action();
            times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            process.Refresh();
            cpu[r] = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        }
        Array.Sort(times);
        Array.Sort(cpu);
        _lastCpu = cpu[reps / 2];
        return times[reps / 2];
    }

    private static void Gemm(ComputeContext context, int reps)
    {
        foreach (var s in Workloads.GemmShapes)
        {
            var random = new RandomGenerator(1);
            var a = new float[s.M * s.K];
            var b = new float[s.K * s.N];
            var c = new float[s.M * s.N];
            for (int i = 0; i < a.Length; i++) a[i] = (float)random.NextDouble();
            for (int i = 0; i < b.Length; i++) b[i] = (float)random.NextDouble();
            double flop = 2.0 * s.M * s.N * s.K;
            int inner = Math.Max(1, (int)(2e9 / flop / 10)); // ~0.1 s per sample at 20 GFLOP/s
            void Once() => Numerics.Gemm.Multiply(context, s.TransA, s.TransB, s.M, s.N, s.K, a, s.TransA ? s.M : s.K, b, s.TransB ? s.K : s.N, c, s.N, accumulate: false);
            Once();
            double t = Median(reps, () => { for (int i = 0; i < inner; i++) Once(); }) / inner;
            Report($"gemm {s.Name}", flop / t / 1e9, "GFLOP/s");
            Report($"gemm {s.Name} per CPU-second", flop / (_lastCpu / inner) / 1e9, "GFLOP/cpu-s");
        }
    }

    private static void LstmStep(ComputeContext context, int reps)
    {
        var model = Workloads.ExperimentBModel(context);
        var (x, y) = Workloads.ExperimentBData();
        var (bx, by) = Workloads.FirstBatch(x, y, 128);
        for (int i = 0; i < 3; i++) model.TrainStep(bx, by);
        long before = GC.GetAllocatedBytesForCurrentThread();
        double t = Median(reps, () => { for (int i = 0; i < 10; i++) model.TrainStep(bx, by); }) / 10;
        long allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / (reps * 10);
        Report("lstm256 train step (batch 128, T 16)", t * 1e3, "ms");
        Report("lstm256 train step CPU time", _lastCpu / 10 * 1e3, "cpu-ms");
        Report("lstm256 train step effective", 128 * 25.3e6 / t / 1e9, "GFLOP/s");
        Report("lstm256 train step allocation", allocated, "B/step");
        double f = Median(reps, () => { for (int i = 0; i < 10; i++) model.Forward(bx, training: false); }) / 10;
        Report("lstm256 forward (batch 128)", f * 1e3, "ms");
        Report("lstm256 forward CPU time", _lastCpu / 10 * 1e3, "cpu-ms");
    }

    private static void Epoch(ComputeContext context, int reps)
    {
        var model = Workloads.ExperimentBModel(context);
        var (x, y) = Workloads.ExperimentBData();
        var options = new FitOptions { Epochs = 1, BatchSize = 128, Seed = 1 };
        model.Fit(Workloads.FirstBatch(x, y, 1024).X, Workloads.FirstBatch(x, y, 1024).Y, options); // warm up the JIT
        double t = Median(reps, () => model.Fit(x, y, options));
        Report("experiment B epoch (65,536 samples)", t, "s");
        Report("experiment B effective", 65536 * 25.3e6 / t / 1e9, "GFLOP/s");
        Report("peak working set", Environment.WorkingSet / 1048576.0, "MiB (now)");
        using var proc = Process.GetCurrentProcess();
        Report("peak working set (process)", proc.PeakWorkingSet64 / 1048576.0, "MiB");
    }

    private static void Predict(ComputeContext context, int reps)
    {
        var model = Workloads.ExperimentBModel(context);
        var (x, _) = Workloads.ExperimentBData();
        model.Predict(x, 1024);
        double t = Median(reps, () => model.Predict(x, 1024));
        Report("experiment B inference (65,536 pairs)", t, "s");
    }

    private static void ExperimentA(int reps)
    {
        var (xs, ys) = Workloads.ExperimentAData<double>(1000, 1);
        var x = new Tensor<double>(1, 8, 2);
        var y = new Tensor<double>(1, 8, 1);
        var model = Workloads.ExperimentAModel<double>();
        Workloads.RunExperimentA(model, xs, ys, 2000, x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        double t = Median(reps, () => Workloads.RunExperimentA(Workloads.ExperimentAModel<double>(), xs, ys, 50_000, x, y));
        long allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / reps;
        Report("experiment A 50,000 iterations (double)", t, "s");
        Report("experiment A allocation per iteration", allocated / 50_000.0, "B");
        var (xsF, ysF) = Workloads.ExperimentAData<float>(1000, 1);
        var xF = new Tensor<float>(1, 8, 2);
        var yF = new Tensor<float>(1, 8, 1);
        Workloads.RunExperimentA(Workloads.ExperimentAModel<float>(), xsF, ysF, 2000, xF, yF);
        double tf = Median(reps, () => Workloads.RunExperimentA(Workloads.ExperimentAModel<float>(), xsF, ysF, 50_000, xF, yF));
        Report("experiment A 50,000 iterations (float)", tf, "s");
    }
}
