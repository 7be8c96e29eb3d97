using System.Globalization;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Training;

namespace Carry.Bench;

/// <summary>
/// <c>dotnet bench/Carry.Bench/bin/Release/net10.0/Carry.Bench.dll memory [--bits 8] [--epochs 2] [--hidden 256]</c>:
/// where <c>carry train keras</c>'s resident memory goes. Builds Experiment B's model and task as
/// the command does and prints, after each phase (the model, the data, two training batches, each
/// epoch's end), the resident set (anonymous and file-backed, from /proc/self/status), the bytes
/// allocated so far, the GC heap's committed bytes and the collections. An epoch after the first
/// should add almost nothing to either.
/// </summary>
internal static class MemoryBench
{
    public static int Run(string[] args)
    {
        int bits = 8, epochs = 2, hidden = 256;
        for (int i = 0; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--bits": bits = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--epochs": epochs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--hidden": hidden = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        Console.WriteLine($"# carry memory bench: keras preset, LSTM({hidden}), {bits} bits, {epochs} epochs; MiB");
        Report("start");
        var model = AdderModel.Build<float>(LayerKinds.Lstm, ConcatEncoding.Name, bits, hidden, dropout: 0.2, dropoutSeed: 1);
        model.Initialize(Initialization.Keras, 0);
        model.Compile(new MeanSquaredError<float>(), new Adam<float>(0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7));
        Report("model and optimizer");
        var options = new FitOptions { Epochs = epochs, BatchSize = 128, Seed = 0, KeepBest = true };
        new Trainer<float>(model, new AdditionTask<float>(ConcatEncoding.Name, bits, dataSeed: 2), options, [new Phases()], new RandomGenerator(0)).Run();
        return 0;
    }

    private static void Report(string phase)
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var status = File.Exists("/proc/self/status") ? File.ReadAllLines("/proc/self/status") : [];
        string Kb(string key) => status.FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal))?.Split(' ', '\t', StringSplitOptions.RemoveEmptyEntries)[1] ?? "0";
        double Mib(double bytes) => bytes / (1024.0 * 1024.0);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{phase,-26} rss {Mib(Environment.WorkingSet),6:F1} (anon {Mib(double.Parse(Kb("RssAnon:"), CultureInfo.InvariantCulture) * 1024),5:F1}, file {Mib(double.Parse(Kb("RssFile:"), CultureInfo.InvariantCulture) * 1024),5:F1})  allocated {Mib(GC.GetTotalAllocatedBytes(true)),6:F1}  gc committed {Mib(info.TotalCommittedBytes),5:F1}  collections {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}"));
    }

    /// <summary>Reports after the data is drawn (the first epoch's start), after two batches, and at each epoch's end.</summary>
    private sealed class Phases : ITrainingCallback
    {
        private int _batches;

        public void OnEpochBegin(int epoch, int batchCount)
        {
            _batches = 0;
            if (epoch == 0) Report("data drawn");
        }

        public void OnBatchEnd(BatchProgress progress)
        {
            if (++_batches == 2 && progress.Epoch == 0) Report("two training batches");
        }

        public void OnEpochEnd(EpochSummary summary, TrainingControl control) => Report($"epoch {summary.Epoch + 1} scored");
    }
}
