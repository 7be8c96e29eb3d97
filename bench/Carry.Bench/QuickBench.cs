using Carry.Arithmetic;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.Intrinsics;
using Carry.Layers;
using Carry.Numerics;
using Carry.Training;

namespace Carry.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/Carry.Bench -- quick [--threads N] [--reps R] [--only gemm|lstm|epoch|a|predict|cells|cells-epoch] [--path portable|avx2|vector512]</c>:
/// Stopwatch medians of the same workloads as the BenchmarkDotNet classes, printed as
/// <c>name&lt;TAB&gt;value&lt;TAB&gt;unit</c> lines for bench/compare.sh.
/// </summary>
internal static class QuickBench
{
    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount, reps = 5;
        string only = "all";
        var path = GemmKernel.Automatic;
        for (int i = 0; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--reps": reps = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--only": only = args[i + 1]; break;
                case "--path": path = Enum.Parse<GemmPath>(args[i + 1], ignoreCase: true); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        using var context = new ComputeContext(threads) { GemmPath = path };
        Console.WriteLine($"# carry quick bench: {threads} threads, median of {reps}, GEMM path: {context.GemmPath}");
        if (only == "probe") Probe(context);
        if (only == "aprof") ProfileA(reps);
        if (only == "afidelity") FidelityA<double>();
        if (only == "afidelity") FidelityA<float>();
        bool Wants(string part) => only == "all" || only.Split(',').Contains(part);
        if (Wants("gemm")) Gemm(context, reps);
        if (Wants("lstm")) LstmStep(context, reps);
        if (only == "fast") KerasFastStep(context, reps);
        if (Wants("epoch")) Epoch(context, Math.Max(1, reps / 2));
        if (Wants("predict")) Predict(context, reps);
        if (Wants("a")) ExperimentA(reps, context.GemmPath);
        if (Wants("cells")) CellBench.PerStep(context, reps);
        if (only.Split(',').Contains("cells-epoch")) CellBench.Epochs(context, Math.Max(1, reps / 2));
        return 0;
    }

    private sealed class NopJob : ParallelJob
    {
        public override void Execute(int item, ComputeContext.Scratch scratch) => Thread.SpinWait(1000);
    }

    private sealed class BusyJob : ParallelJob
    {
        public readonly int[] PerThread = new int[64];

        public override void Execute(int item, ComputeContext.Scratch scratch)
        {
            Interlocked.Increment(ref PerThread[Environment.CurrentManagedThreadId % 64]);
            double x = 1;
            for (int i = 0; i < 2_000_000; i++) x = (x * 1.0000001) + 1e-9;
            if (x < 0) Console.WriteLine(x);
        }
    }

    private static void Probe(ComputeContext context)
    {
        var busy = new BusyJob();
        for (int rep = 0; rep < 3; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            context.TryAcquire();
            context.RunAcquired(busy, 8);
            context.Release();
            Console.WriteLine($"probe busy 8 items: {Stopwatch.GetElapsedTime(t0).TotalMilliseconds:F1} ms; items per thread: {string.Join(",", busy.PerThread.Where(c => c > 0))}");
        }
        var job = new NopJob();
        for (int i = 0; i < 100; i++) { context.TryAcquire(); context.RunAcquired(job, 4); context.Release(); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        long total = GC.GetTotalAllocatedBytes(true);
        for (int i = 0; i < 1000; i++) { context.TryAcquire(); context.RunAcquired(job, 4); context.Release(); }
        Console.WriteLine($"probe: {(GC.GetAllocatedBytesForCurrentThread() - before) / 1000.0} B/run this thread, {(GC.GetTotalAllocatedBytes(true) - total) / 1000.0} B/run all");
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) { context.TryAcquire(); context.RunAcquired(job, 1); context.Release(); }
        Console.WriteLine($"probe serial: {(GC.GetAllocatedBytesForCurrentThread() - before) / 1000.0} B/run");
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) { var sw = default(SpinWait); for (int j = 0; j < 30; j++) sw.SpinOnce(sleep1Threshold: -1); }
        Console.WriteLine($"probe spin: {(GC.GetAllocatedBytesForCurrentThread() - before) / 1000.0} B/run");
    }

    private static void Report(string name, double value, string unit) => Timing.Report(name, value, unit);

    /// <summary>CPU seconds per call of the last <see cref="Median"/> (all threads), to tell the kernel's cost from the machine's load.</summary>
    private static double _lastCpu;

    private static double Median(int reps, Action action)
    {
        (double wall, _lastCpu) = Timing.Median(reps, action);
        return wall;
    }

    private static void Gemm(ComputeContext context, int reps)
    {
        _ = Median(reps, () => FmaLoop(context.GemmPath));
        Report($"fma-only loop, one thread ({context.GemmPath})", FmaLoopFlop(context.GemmPath) / _lastCpu / 1e9, "GFLOP/cpu-s");
        foreach (var s in Workloads.GemmShapes)
        {
            var random = new RandomGenerator(1);
            var a = new float[s.M * s.K];
            var b = new float[s.K * s.N];
            var c = new float[s.M * s.N];
            for (int i = 0; i < a.Length; i++) a[i] = (float)random.NextDouble();
            for (int i = 0; i < b.Length; i++) b[i] = (float)random.NextDouble();
            double flop = 2.0 * s.M * s.N * s.K;
            void Once() => Numerics.Gemm.Multiply(context, s.TransA, s.TransB, s.M, s.N, s.K, a, s.TransA ? s.M : s.K, b, s.TransB ? s.K : s.N, c, s.N, accumulate: false);
            // Samples of 0.2 s: the process's CPU time ticks in 10 ms, so a shorter sample reads it coarsely.
            int inner = Math.Max(1, (int)(0.2 * WarmUp(Once)));
            double t = Median(reps, () => { for (int i = 0; i < inner; i++) Once(); }) / inner;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) Once();
            long allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
            Report($"gemm {s.Name}", flop / t / 1e9, "GFLOP/s");
            Report($"gemm {s.Name} allocation", allocated, "B/call");
            Report($"gemm {s.Name} per CPU-second", flop / (_lastCpu / inner) / 1e9, "GFLOP/cpu-s");
            if (s.M > 256 || !PackedMatrix<float>.IsUseful(context.GemmPath)) continue;
            // The recurrent step's products as the layer runs them: the weight packed once, outside the timing.
            var packed = new PackedMatrix<float>();
            packed.Pack(context.GemmPath, s.TransB, s.K, s.N, b, s.TransB ? s.K : s.N);
            void Packed() => Numerics.Gemm.Multiply(context, s.TransA, s.TransB, s.M, s.N, s.K, a, s.TransA ? s.M : s.K, b, s.TransB ? s.K : s.N, c, s.N, accumulate: false, packed);
            inner = Math.Max(1, (int)(0.2 * WarmUp(Packed)));
            t = Median(reps, () => { for (int i = 0; i < inner; i++) Packed(); }) / inner;
            Report($"gemm {s.Name} B packed", flop / t / 1e9, "GFLOP/s");
            Report($"gemm {s.Name} B packed per CPU-second", flop / (_lastCpu / inner) / 1e9, "GFLOP/cpu-s");
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> for 0.5 s (at least 50 times) before it is timed, so that the
    /// JIT has compiled its final tier and its compiler thread no longer shares the cores: a single
    /// warm-up call left the first product's figures at 40% of their settled value in one run.
    /// Returns the calls per second of the last half of the warm-up.
    /// </summary>
    private static double WarmUp(Action action)
    {
        var clock = Stopwatch.StartNew();
        int calls = 0;
        double half = 0;
        int halfCalls = 0;
        while (calls < 50 || clock.Elapsed.TotalSeconds < 0.5)
        {
            action();
            calls++;
            if (half == 0 && clock.Elapsed.TotalSeconds >= 0.25) (half, halfCalls) = (clock.Elapsed.TotalSeconds, calls);
        }
        return half == 0 ? calls / clock.Elapsed.TotalSeconds : (calls - halfCalls) / (clock.Elapsed.TotalSeconds - half);
    }

    private const int FmaIterations = 20_000_000;

    private static double FmaLoopFlop(GemmPath path) =>
        2.0 * 12 * FmaIterations * (path == GemmPath.Vector512 ? Vector512<float>.Count : Vector256<float>.Count);

    /// <summary>
    /// The machine's own FMA ceiling: twelve independent chains of fused multiply-adds on registers
    /// only (no memory), so the rate per CPU-second is FMA units × lanes × 2 × the clock actually run.
    /// </summary>
    private static void FmaLoop(GemmPath path)
    {
        if (path == GemmPath.Vector512) FmaLoop512(); else FmaLoop256();
    }

    private static void FmaLoop512()
    {
        var x = Vector512.Create(0.999999f);
        var y = Vector512.Create(1e-7f);
        Vector512<float> a0 = y, a1 = y, a2 = y, a3 = y, a4 = y, a5 = y, a6 = y, a7 = y, a8 = y, a9 = y, a10 = y, a11 = y;
        for (int i = 0; i < FmaIterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y);
            a2 = Vector512.FusedMultiplyAdd(a2, x, y); a3 = Vector512.FusedMultiplyAdd(a3, x, y);
            a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y);
            a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y);
            a8 = Vector512.FusedMultiplyAdd(a8, x, y); a9 = Vector512.FusedMultiplyAdd(a9, x, y);
            a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
        }
        float sum = Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
        if (sum < 0) Console.WriteLine(sum);
    }

    private static void FmaLoop256()
    {
        var x = Vector256.Create(0.999999f);
        var y = Vector256.Create(1e-7f);
        Vector256<float> a0 = y, a1 = y, a2 = y, a3 = y, a4 = y, a5 = y, a6 = y, a7 = y, a8 = y, a9 = y, a10 = y, a11 = y;
        for (int i = 0; i < FmaIterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, x, y); a1 = Vector256.FusedMultiplyAdd(a1, x, y);
            a2 = Vector256.FusedMultiplyAdd(a2, x, y); a3 = Vector256.FusedMultiplyAdd(a3, x, y);
            a4 = Vector256.FusedMultiplyAdd(a4, x, y); a5 = Vector256.FusedMultiplyAdd(a5, x, y);
            a6 = Vector256.FusedMultiplyAdd(a6, x, y); a7 = Vector256.FusedMultiplyAdd(a7, x, y);
            a8 = Vector256.FusedMultiplyAdd(a8, x, y); a9 = Vector256.FusedMultiplyAdd(a9, x, y);
            a10 = Vector256.FusedMultiplyAdd(a10, x, y); a11 = Vector256.FusedMultiplyAdd(a11, x, y);
        }
        float sum = Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
        if (sum < 0) Console.WriteLine(sum);
    }

    private static void LstmStep(ComputeContext context, int reps)
    {
        var model = Workloads.ExperimentBModel(context);
        var (x, y) = Workloads.ExperimentBData();
        var (bx, by) = Workloads.FirstBatch(x, y, 128);
        _ = WarmUp(() => model.TrainStep(bx, by));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) model.TrainStep(bx, by);
        long allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        double t = Median(reps, () => { for (int i = 0; i < 10; i++) model.TrainStep(bx, by); }) / 10;
        Report("lstm256 train step (batch 128, T 16)", t * 1e3, "ms");
        Report("lstm256 train step CPU time", _lastCpu / 10 * 1e3, "cpu-ms");
        Report("lstm256 train step effective", 128 * 25.3e6 / t / 1e9, "GFLOP/s");
        Report("lstm256 train step allocation", allocated, "B/step");
        double f = Median(reps, () => { for (int i = 0; i < 10; i++) model.Forward(bx, training: false); }) / 10;
        Report("lstm256 forward (batch 128)", f * 1e3, "ms");
        Report("lstm256 forward CPU time", _lastCpu / 10 * 1e3, "cpu-ms");
        KerasFastStep(context, reps);
    }

    private static void KerasFastStep(ComputeContext context, int reps)
    {
        var (x, y) = Workloads.ExperimentBData();
        // keras-fast's shapes: LSTM(128) -> Dense(9, sigmoid), BCE, batch 64; small products, so the cost of sharing a step between threads shows.
        var fast = new Sequential<float>(new Lstm<float>(1, 128), new Dense<float>(128, 9, Activation.Sigmoid));
        fast.Initialize(Initialization.Keras, 0);
        fast.Compile(new Losses.BinaryCrossEntropy<float>(), new Optimizers.Adam<float>(0.006, epsilon: 1e-7));
        fast.Compute = context;
        var (fx, fy) = Workloads.FirstBatch(x, y, 64);
        _ = WarmUp(() => fast.TrainStep(fx, fy));
        double k = Median(reps, () => { for (int i = 0; i < 50; i++) fast.TrainStep(fx, fy); }) / 50;
        Report("lstm128 train step (batch 64, T 16; keras-fast)", k * 1e3, "ms");
        Report("lstm128 train step CPU time", _lastCpu / 50 * 1e3, "cpu-ms");
    }

    private static void Epoch(ComputeContext context, int reps)
    {
        var model = Workloads.ExperimentBModel(context);
        var (x, y) = Workloads.ExperimentBData();
        var options = new FitOptions { Epochs = 1, BatchSize = 128, Seed = 1 };
        model.Fit(Workloads.FirstBatch(x, y, 1024).X, Workloads.FirstBatch(x, y, 1024).Y, options); // warm up the JIT
        double t = Median(reps, () => model.Fit(x, y, options));
        Report("experiment B epoch (65,536 samples)", t, "s");
        Report("experiment B epoch CPU time", _lastCpu, "cpu-s");
        Report("experiment B effective", 65536 * 25.3e6 / t / 1e9, "GFLOP/s");
        using var proc = Process.GetCurrentProcess();
        Report("peak working set (process)", proc.PeakWorkingSet64 / 1048576.0, "MiB");
    }

    private static void Predict(ComputeContext context, int reps)
    {
        var model = Workloads.ExperimentBModel(context);
        var (x, _) = Workloads.ExperimentBData();
        double t = Median(1, () => model.Predict(x, 1024)); // the slow, plain reference: once
        Report("experiment B inference (65,536 pairs)", t, "s");
        // The path `carry eval` takes for a concat model over every pair: the prefix trie.
        var shared = AllPairsInference.Predict(model, 8);
        var plain = model.Predict(x, 1024);
        double worst = 0;
        for (int i = 0; i < plain.Length; i++) worst = Math.Max(worst, Math.Abs(shared.Span[i] - plain.Span[i]));
        bool same = worst <= 1e-5;
        double ts = Median(reps, () => AllPairsInference.Predict(model, 8));
        Report($"experiment B inference, shared prefixes (65,536 pairs; identical: {same})", ts, "s");
    }

    private static void ProfileA(int reps)
    {
        var (xs, ys) = Workloads.ExperimentAData<double>(1000, 1);
        var x = new Tensor<double>(1, 8, 2);
        var y = new Tensor<double>(1, 8, 1);
        xs.AsSpan(0, 16).CopyTo(x.Span);
        ys.AsSpan(0, 8).CopyTo(y.Span);
        var model = Workloads.ExperimentAModel<double>();
        var rnn = model.Layers[0];
        var dense = model.Layers[1];
        var dY = new Tensor<double>(1, 8, 1);
        dY.Fill(0.1);
        var dH = new Tensor<double>(1, 8, 16);
        dH.Fill(0.1);
        for (int i = 0; i < 5000; i++) model.TrainStep(x, y);
        Median(reps, () => { for (int i = 0; i < 50_000; i++) model.TrainStep(x, y); });
        Report("A: TrainStep", _lastCpu / 50_000 * 1e6, "cpu-us");
        var fused = new FusedElman<double>(model, 8, 0.1);
        var output = new double[8];
        Median(reps, () => { for (int i = 0; i < 50_000; i++) fused.TrainStep(x.Span, y.Span, output); });
        Report("A: fused TrainStep", _lastCpu / 50_000 * 1e6, "cpu-us");
        double sink = 0;
        Median(reps, () => { for (int i = 0; i < 50_000 * 136; i++) sink += Activations.Sigmoid(i * 1e-7); });
        Report("A: 136 sigmoids", _lastCpu / 50_000 * 1e6, "cpu-us");
        if (sink < 0) Console.WriteLine(sink);
        Median(reps, () => { for (int i = 0; i < 50_000; i++) rnn.Forward(x, true); });
        Report("A: rnn forward", _lastCpu / 50_000 * 1e6, "cpu-us");
        Median(reps, () => { for (int i = 0; i < 50_000; i++) rnn.Backward(dH); });
        Report("A: rnn backward", _lastCpu / 50_000 * 1e6, "cpu-us");
        var h = rnn.Forward(x, true);
        Median(reps, () => { for (int i = 0; i < 50_000; i++) dense.Forward(h, true); });
        Report("A: dense forward", _lastCpu / 50_000 * 1e6, "cpu-us");
        Median(reps, () => { for (int i = 0; i < 50_000; i++) dense.Backward(dY); });
        Report("A: dense backward", _lastCpu / 50_000 * 1e6, "cpu-us");
        Median(reps, () => { for (int i = 0; i < 50_000; i++) model.Optimizer!.Step(model.ParameterList); });
        Report("A: sgd step", _lastCpu / 50_000 * 1e6, "cpu-us");
        Median(reps, () => { for (int i = 0; i < 50_000; i++) model.ZeroGradients(); });
        Report("A: zero gradients", _lastCpu / 50_000 * 1e6, "cpu-us");
        var a = new double[256];
        var b = new double[256];
        var c = new double[256];
        foreach (var (name, ta, tb, m, n, k) in new[] { ("1x16x16 NN", false, false, 1, 16, 16), ("1x16x16 NT", false, true, 1, 16, 16), ("16x16x8 TN", true, false, 16, 16, 8), ("16x2x8 TN", true, false, 16, 2, 8), ("8x2x16 NN", false, false, 8, 2, 16) })
        {
            Median(reps, () => { for (int i = 0; i < 100_000; i++) Numerics.Gemm.Multiply(ComputeContext.Serial, ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c, n, true); });
            Report($"A: gemm {name}", _lastCpu / 100_000 * 1e9, "cpu-ns");
        }
    }

    /// <summary>
    /// How far the fused path's weights drift from the layer path's over Experiment A's 50,000
    /// iterations, on each vector path: the largest |fused - layers| / |layers| over every weight,
    /// and whether the printouts (the numpy script's lines) are the same.
    /// </summary>
    private static void FidelityA<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layers = IamtraskPreset.Train<T>(new IamtraskOptions { Fused = false });
        var lines = layers.Reports.SelectMany(r => r.Lines).ToArray();
        foreach (var path in new[] { GemmPath.Vector512, GemmPath.Avx2, GemmPath.Portable })
        {
            var fused = IamtraskPreset.Train<T>(new IamtraskOptions { FusedPath = path });
            double worst = 0;
            for (int p = 0; p < layers.Model.ParameterList.Count; p++)
            {
                var a = fused.Model.ParameterList[p].Value.Span;
                var b = layers.Model.ParameterList[p].Value.Span;
                for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, double.CreateChecked(T.Abs(a[i] - b[i]) / T.Abs(b[i])));
            }
            bool same = lines.SequenceEqual(fused.Reports.SelectMany(r => r.Lines));
            Report($"A: fused {path} vs layers, {typeof(T).Name}: max relative weight difference (printouts identical: {same})", worst, "");
        }
    }

    /// <summary>The iamtrask preset as <c>carry train iamtrask</c> runs it (seed 0, 50,000 iterations), fused (on <paramref name="path"/>) and through the layers.</summary>
    private static void ExperimentA(int reps, GemmPath path)
    {
        foreach (bool fused in new[] { true, false })
        {
            string way = fused ? "fused" : "layers"; // the fused step on --path (the header's "GEMM path")
            var options = new IamtraskOptions { Fused = fused, FusedPath = path };
            IamtraskPreset.Train<double>(options with { Iterations = 2000 });
            long before = GC.GetAllocatedBytesForCurrentThread();
            double t = Median(reps, () => IamtraskPreset.Train<double>(options));
            long allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / reps;
            Report($"experiment A 50,000 iterations (double, {way})", t, "s");
            Report($"experiment A 50,000 iterations (double, {way}) CPU time", _lastCpu, "cpu-s");
            Report($"experiment A allocation per iteration (double, {way}, whole run)", allocated / 50_000.0, "B");
            IamtraskPreset.Train<float>(options with { Iterations = 2000 });
            double tf = Median(reps, () => IamtraskPreset.Train<float>(options));
            Report($"experiment A 50,000 iterations (float, {way})", tf, "s");
            Report($"experiment A 50,000 iterations (float, {way}) CPU time", _lastCpu, "cpu-s");
        }
    }
}
