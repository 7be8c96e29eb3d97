using System.Diagnostics;
using System.Globalization;
using Carry.Arithmetic;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/Carry.Bench -- infer [--threads N] [--reps R] [--chunk ROWS] [--batched no] [--save FILE]</c>:
/// Stopwatch medians (wall and CPU seconds) of Experiment B's all-pairs inference — the LSTM(256)
/// concat adder over all 65,536 8-bit pairs — through the prefix trie
/// (<see cref="AllPairsInference.Predict"/>) and through the batched <c>Sequential.Predict</c>,
/// checked against each other first. <c>--save FILE</c> also writes the (untrained, Keras-initialised,
/// seed 0) model as a .carry file for timing <c>./carry eval --model FILE</c>.
/// </summary>
internal static class InferenceBench
{
    public static int Run(string[] args)
    {
        int threads = Environment.ProcessorCount, reps = 5, chunk = AllPairsInference.DefaultChunkRows;
        bool batchedToo = true;
        string? save = null;
        for (int i = 0; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--threads": threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--reps": reps = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--save": save = args[i + 1]; break;
                case "--chunk": chunk = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--batched": batchedToo = args[i + 1] != "no"; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        using var context = new ComputeContext(threads);
        var model = Workloads.ExperimentBModel(context);
        if (save is not null)
        {
            ModelFile.Save(save, model, new ModelMetadata { Task = new TaskInfo(ConcatEncoding.Name, 8) });
            Console.WriteLine($"# wrote {save}");
        }
        Console.WriteLine($"# carry inference bench: {threads} threads, median of {reps}, trie chunk {chunk} rows");
        var (x, _) = Workloads.ExperimentBData();
        Tensor<float> trie = null!;
        var (coldWall, coldCpu) = Median(1, () => trie = AllPairsInference.Predict(model, 8, chunk));
        Report("experiment B all pairs, prefix trie, first call (wall)", coldWall, "s");
        Report("experiment B all pairs, prefix trie, first call (cpu)", coldCpu, "s");
        var (wall, cpu) = Median(reps, () => AllPairsInference.Predict(model, 8, chunk));
        Report("experiment B all pairs, prefix trie (wall)", wall, "s");
        Report("experiment B all pairs, prefix trie (cpu)", cpu, "s");
        if (!batchedToo) return 0;
        var batched = model.Predict(x, 1024);
        double maxDiff = 0;
        for (int i = 0; i < trie.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(trie.Span[i] - batched.Span[i]));
        Report("trie vs batched max |difference|", maxDiff, "");
        (wall, cpu) = Median(Math.Max(1, reps / 2), () => model.Predict(x, 1024));
        Report("experiment B all pairs, batched Predict (wall)", wall, "s");
        Report("experiment B all pairs, batched Predict (cpu)", cpu, "s");
        return 0;
    }

    private static void Report(string name, double value, string unit) => Timing.Report(name, value, unit);

    private static (double Wall, double Cpu) Median(int reps, Action action) => Timing.Median(reps, action);
}
