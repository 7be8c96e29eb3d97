using System.Globalization;
using System.Text;
using System.Text.Json;
using Carry.Layers;
using Carry.Losses;
using Carry.Optimizers;
using Carry.Serialization;
using Carry.Training;

namespace Carry.Arithmetic;

/// <summary>One adder of a sweep: which cell, encoding, operand width, hidden size and seed.</summary>
/// <param name="Cell"><c>elman</c>, <c>jordan</c>, <c>jordan-sum</c> (aligned only: the sum bit is the Jordan layer's only output), <c>lstm</c>, <c>gru</c> or <c>bilstm</c>.</param>
/// <param name="Encoding"><c>aligned</c> or <c>concat</c>.</param>
/// <param name="Bits">Training operand width.</param>
/// <param name="Hidden">Hidden units.</param>
/// <param name="Seed">Seed of the weights, the shuffling and the data.</param>
public sealed record SweepRun(string Cell, string Encoding, int Bits, int Hidden, ulong Seed);

/// <summary>How much training each adder of a sweep gets, and how.</summary>
/// <param name="Epochs">Most epochs.</param>
/// <param name="Seconds">Most processor seconds of the thread that trains the adder (<see cref="ThreadClock"/>; checked after each epoch), so that the budget is the same work however busy the machine is.</param>
/// <param name="BatchSize">Samples per step (default 32).</param>
/// <param name="LearningRate">Adam's rate (default 0.01), binary cross-entropy loss.</param>
public sealed record SweepBudget(int Epochs, double Seconds, int BatchSize = 32, double LearningRate = 0.01);

/// <summary>What one adder of a sweep reached.</summary>
/// <param name="Run">The adder.</param>
/// <param name="Parameters">Trainable scalars.</param>
/// <param name="Epochs">Epochs trained.</param>
/// <param name="Seconds">Processor seconds of training (<see cref="ThreadClock"/>), scoring each epoch included.</param>
/// <param name="FirstExactEpoch">The first epoch (from 1) with every training pair exact; null if none within the budget.</param>
/// <param name="SecondsToExact">Processor seconds to the end of that epoch; null if none.</param>
/// <param name="BestExact">The best exact rate on the training pairs, 0 to 1.</param>
/// <param name="Widths">For aligned adders, the best epoch's exact rate at 2×, 8× and 64× the training width; empty for concat.</param>
public sealed record SweepResult(SweepRun Run, int Parameters, int Epochs, double Seconds, int? FirstExactEpoch, double? SecondsToExact, double BestExact,
    IReadOnlyList<WidthAccuracy> Widths)
{
    /// <summary>The run's history, one entry per epoch (loss, exact, bit accuracy, learning rate, seconds), for curves.</summary>
    public IReadOnlyList<EpochSummary> History { get; init; } = [];

    /// <summary>Wall seconds of training (as <see cref="EpochSummary.Seconds"/>): longer than <see cref="Seconds"/> on a busy machine.</summary>
    public double WallSeconds { get; init; }

    /// <summary>True when cancellation cut the run short of its budget.</summary>
    public bool Cancelled { get; init; }

    /// <summary>A file name that tells this adder apart from the rest of its sweep, e.g. <c>lstm-concat-8bit-seed1</c>.</summary>
    public string Name => string.Create(CultureInfo.InvariantCulture, $"{Run.Cell}-{Run.Encoding}-{Run.Bits}bit-seed{Run.Seed}");
}

/// <summary>
/// A sweep over adders (<c>carry experiments</c>): cells × encodings × operand widths × seeds, each
/// trained on every pair of its width by the fit loop under a fixed budget (epochs and seconds),
/// stopping at the first all-exact epoch, and — aligned ones — tested at wider operands.
/// </summary>
public static class AdderSweep
{
    /// <summary>The cells a sweep covers.</summary>
    public static readonly IReadOnlyList<string> Cells = ["elman", "jordan", "jordan-sum", "lstm", "gru", "bilstm"];

    /// <summary>The width multiples an aligned adder is tested at.</summary>
    public static readonly IReadOnlyList<int> WidthMultiples = [2, 8, 64];

    /// <summary>
    /// The grid: every cell and both encodings (<c>jordan-sum</c> aligned only) at operand widths
    /// 4, 6 and 8 with seeds 0, 1, 2 and 16 hidden units; <paramref name="quick"/>: width 4, seed 0.
    /// </summary>
    public static IReadOnlyList<SweepRun> Grid(bool quick)
    {
        int[] widths = quick ? [4] : [4, 6, 8];
        ulong[] seeds = quick ? [0] : [0, 1, 2];
        var runs = new List<SweepRun>();
        foreach (string encoding in new[] { AlignedEncoding.Name, ConcatEncoding.Name })
        {
            foreach (string cell in Cells.Where(c => encoding == AlignedEncoding.Name || c != "jordan-sum"))
            {
                foreach (int bits in widths)
                {
                    foreach (ulong seed in seeds) runs.Add(new SweepRun(cell, encoding, bits, 16, seed));
                }
            }
        }
        return runs;
    }

    /// <summary>The budget of the full sweep (1,000 epochs, 300 s an adder) or the quick one (300 epochs, 45 s: 11 adders, under 10 minutes).</summary>
    public static SweepBudget Budget(bool quick) => quick ? new SweepBudget(300, 45) : new SweepBudget(1000, 300);

    /// <summary>The adder's model, initialised from its seed.</summary>
    public static Sequential<float> Model(SweepRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var model = run.Cell switch
        {
            "jordan-sum" when run.Encoding == AlignedEncoding.Name => AdderModel.JordanSumBit<float>(run.Hidden),
            "jordan-sum" => throw new ArgumentException("A Jordan adder whose only output is the sum bit exists in the aligned encoding only.", nameof(run)),
            "bilstm" => AdderModel.Build<float>(LayerKinds.Lstm, run.Encoding, run.Bits, run.Hidden, bidirectional: true),
            _ => AdderModel.Build<float>(run.Cell, run.Encoding, run.Bits, run.Hidden),
        };
        model.Initialize(Initialization.Keras, run.Seed);
        return model;
    }

    /// <summary>Trains one adder under <paramref name="budget"/> and measures it.</summary>
    public static SweepResult Run(SweepRun run, SweepBudget budget, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(budget);
        var model = Model(run);
        model.Compile(new BinaryCrossEntropy<float>(), new Adam<float>(budget.LearningRate));
        var task = new AdditionTask<float>(run.Encoding, run.Bits, dataSeed: run.Seed + 2);
        var options = new FitOptions
        {
            Epochs = budget.Epochs,
            BatchSize = budget.BatchSize,
            Seed = run.Seed,
            StopWhenPerfect = true,
            KeepBest = true,
            CancellationToken = cancellationToken,
        };
        var clock = new TimeBudget(budget.Seconds);
        var result = new Trainer<float>(model, task, options, [clock]).Run();
        int firstExactIndex = result.History.ToList().FindIndex(e => e.Get(MetricNames.Exact) >= 1.0);
        var widths = run.Encoding == AlignedEncoding.Name
            ? Addition.Evaluate(model, task.Info, WidthMultiples.Select(m => m * run.Bits).ToArray(), samples: 1000, seed: 0)
            : [];
        return new SweepResult(run, model.ParameterCount, result.CompletedEpochs, clock.Total,
            firstExactIndex < 0 ? null : result.History[firstExactIndex].Epoch + 1, firstExactIndex < 0 ? null : clock.AtEpochEnd[firstExactIndex],
            result.History.Count == 0 ? 0 : result.History.Max(e => e.Get(MetricNames.Exact)), widths)
        {
            History = result.History,
            WallSeconds = result.Seconds,
            Cancelled = result.Cancelled,
        };
    }

    /// <summary>
    /// Trains <paramref name="runs"/>, <paramref name="jobs"/> adders at a time (each on its own
    /// thread; results do not depend on it), and returns their results in the order of
    /// <paramref name="runs"/>, calling <paramref name="finished"/> as each one ends. Once
    /// <paramref name="cancellationToken"/> is cancelled no adder starts; the ones that ended are returned.
    /// </summary>
    public static IReadOnlyList<SweepResult> RunAll(IReadOnlyList<SweepRun> runs, SweepBudget budget, int jobs, Action<SweepResult>? finished = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(jobs);
        var results = new SweepResult?[runs.Count];
        var gate = new object();
        Parallel.For(0, runs.Count, new ParallelOptions { MaxDegreeOfParallelism = jobs }, (i, state) =>
        {
            if (cancellationToken.IsCancellationRequested) { state.Stop(); return; }
            var result = Run(runs[i], budget, cancellationToken);
            if (result.Cancelled) return; // cut short: not a result of the budget
            results[i] = result;
            lock (gate) finished?.Invoke(result);
        });
        return results.OfType<SweepResult>().ToArray();
    }

    /// <summary>The results as one markdown table.</summary>
    public static string Markdown(IReadOnlyList<SweepResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.AppendLine("| cell | encoding | bits | hidden | seed | parameters | epochs | CPU seconds | first all-exact epoch | CPU seconds to it | best exact | exact at 2× | at 8× | at 64× |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            string At(int i) => i < r.Widths.Count ? Percent(r.Widths[i].Exact) : "–";
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Run.Cell} | {r.Run.Encoding} | {r.Run.Bits} | {r.Run.Hidden} | {r.Run.Seed} | {r.Parameters:N0} | {r.Epochs} | {r.Seconds:F1} | {(r.FirstExactEpoch?.ToString(CultureInfo.InvariantCulture) ?? "–")} | {(r.SecondsToExact is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) : "–")} | {Percent(r.BestExact)} | {At(0)} | {At(1)} | {At(2)} |"));
        }
        return text.ToString();
    }

    /// <summary>The results as JSON (an array, one object per adder).</summary>
    public static string Json(IReadOnlyList<SweepResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var rows = results.Select(r => new SweepRow(r.Run.Cell, r.Run.Encoding, r.Run.Bits, r.Run.Hidden, r.Run.Seed, r.Parameters, r.Epochs,
            Math.Round(r.Seconds, 3), Math.Round(r.WallSeconds, 3), r.FirstExactEpoch, r.SecondsToExact is { } s ? Math.Round(s, 3) : null, r.BestExact,
            r.Widths.Select(w => new SweepWidth(w.Width, w.Samples, w.Exact, w.BitAccuracy)).ToArray())).ToArray();
        return JsonSerializer.Serialize(rows, JsonRows.For<SweepRow[]>());
    }

    private static readonly JsonSerializerOptions JsonRows = CarryJson.Resolving(new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase });

    private static string Percent(double x) => (Math.Floor(x * 1000) / 10).ToString("F1", CultureInfo.InvariantCulture) + "%";

    /// <summary>
    /// Counts the training thread's processor seconds at each epoch's end (callbacks run on the
    /// thread that trains) and stops the loop once an epoch ends past the budget's.
    /// </summary>
    private sealed class TimeBudget : ITrainingCallback
    {
        private readonly double _seconds;
        private readonly ThreadClock _clock = new();
        private readonly double _start;

        public TimeBudget(double seconds)
        {
            _seconds = seconds;
            _start = _clock.Seconds;
        }

        public List<double> AtEpochEnd { get; } = [];

        public double Total => AtEpochEnd.Count == 0 ? 0 : AtEpochEnd[^1];

        public void OnEpochEnd(EpochSummary summary, TrainingControl control)
        {
            AtEpochEnd.Add(_clock.Seconds - _start);
            if (Total >= _seconds) control.Stop();
        }
    }
}

/// <summary>One adder of <see cref="AdderSweep.Json"/>.</summary>
internal sealed record SweepRow(string Cell, string Encoding, int Bits, int Hidden, ulong Seed, int Parameters, int Epochs, double CpuSeconds,
    double WallSeconds, int? FirstExactEpoch, double? CpuSecondsToExact, double BestExact, SweepWidth[] Widths);

/// <summary>One width of a <see cref="SweepRow"/>.</summary>
internal sealed record SweepWidth(int Width, int Samples, double Exact, double BitAccuracy);
