using System.CommandLine;
using System.Globalization;
using Carry.Arithmetic;
using Carry.Serialization;
using Carry.Training;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry experiments [--quick]</c>: the adder sweep (<see cref="AdderSweep"/>) — every cell,
/// both encodings, a few widths and seeds under a fixed budget — as one table in markdown and JSON.
/// </summary>
public static class ExperimentsCommand
{
    /// <summary>The <c>experiments</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("experiments", "Train every cell (elman, jordan, jordan-sum, lstm, gru, bilstm) in both encodings under a fixed budget and tabulate epochs and seconds to all-exact, and aligned adders' exact rate at 2x, 8x, 64x the training width.");
        var quick = new Option<bool>("--quick") { Description = "Width 4 and seed 0 only, 300 epochs or 45 s an adder (every cell and both encodings; a few minutes)." };
        var markdown = new Option<string>("--out", "-o") { Description = "Write the markdown table here.", DefaultValueFactory = _ => "experiments.md" };
        var json = new Option<string>("--json") { Description = "Write the results as JSON here.", DefaultValueFactory = _ => "experiments.json" };
        var cells = new Option<string?>("--cells") { Description = "Only these cells, comma-separated (e.g. jordan,jordan-sum)." };
        var seeds = new Option<string?>("--seeds") { Description = "These seeds instead of the grid's, comma-separated (e.g. 0,1,2)." };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Adders trained at the same time, each on its own thread (results do not depend on it; wall seconds do).", DefaultValueFactory = _ => 1 };
        var histories = new Option<string?>("--histories") { Description = "Write each adder's per-epoch history to DIR/<cell>-<encoding>-<bits>bit-seed<seed>.csv (for carry plot --history)." };
        command.Options.Add(quick);
        command.Options.Add(cells);
        command.Options.Add(seeds);
        command.Options.Add(markdown);
        command.Options.Add(json);
        command.Options.Add(jobs);
        command.Options.Add(histories);
        command.SetAction(parse => Run(Select(AdderSweep.Grid(parse.GetValue(quick)), parse.GetValue(cells), parse.GetValue(seeds)), parse.GetValue(quick),
            new Outputs(parse.GetValue(markdown)!, parse.GetValue(json)!, parse.GetValue(histories)), parse.GetValue(jobs)));
        return command;
    }

    /// <summary>The grid narrowed to <paramref name="cells"/> and with <paramref name="seeds"/> instead of its own, as asked.</summary>
    private static IReadOnlyList<SweepRun> Select(IReadOnlyList<SweepRun> grid, string? cells, string? seeds)
    {
        var runs = grid;
        if (cells is not null)
        {
            var wanted = cells.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            foreach (string cell in wanted.Where(c => !AdderSweep.Cells.Contains(c))) throw new UsageException($"--cells: unknown cell '{cell}' (expected {string.Join(", ", AdderSweep.Cells)})");
            runs = runs.Where(r => wanted.Contains(r.Cell)).ToArray();
        }
        if (seeds is not null)
        {
            var chosen = seeds.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(t => ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong v) ? v : throw new UsageException($"--seeds: '{t}' is not a seed (a whole number ≥ 0)"))
                .ToArray();
            runs = runs.Select(r => r with { Seed = 0 }).Distinct().SelectMany(r => chosen.Select(seed => r with { Seed = seed })).ToArray();
        }
        if (runs.Count == 0) throw new UsageException("--cells/--seeds leave no adder to train");
        return runs;
    }

    /// <summary>Where the sweep writes: the markdown table, the JSON and (optionally) a folder of histories.</summary>
    private sealed record Outputs(string Markdown, string Json, string? Histories);

    private static int Run(IReadOnlyList<SweepRun> runs, bool quick, Outputs outputs, int jobs)
    {
        OutputPath.Check("--out", outputs.Markdown);
        OutputPath.Check("--json", outputs.Json);
        if (jobs < 1) throw new UsageException($"--jobs: {jobs} is not a number of adders (at least 1)");
        if (outputs.Histories is { } dir) Directory.CreateDirectory(dir);
        var budget = AdderSweep.Budget(quick);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"carry experiments{(quick ? " --quick" : "")}: {runs.Count} adders, {jobs} at a time, at most {budget.Epochs} epochs or {budget.Seconds:F0} s of processor time each (Adam {budget.LearningRate}, BCE, batch {budget.BatchSize})"));
        using var interrupt = new InterruptSignal();
        var results = AdderSweep.RunAll(runs, budget, jobs, result =>
        {
            if (outputs.Histories is { } dir) HistoryCsv.Write(Path.Combine(dir, result.Name + ".csv"), result.History);
            var run = result.Run;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{run.Cell} {run.Encoding} {run.Bits} bits seed {run.Seed}: {result.Epochs} epochs, {result.Seconds:F1} CPU-s ({result.WallSeconds:F1} s wall), best exact {result.BestExact:P1}{(result.FirstExactEpoch is { } e ? $", all exact at epoch {e}" : "")}"));
        }, interrupt.Token);
        string table = AdderSweep.Markdown(results);
        AtomicFile.Write(outputs.Markdown, System.Text.Encoding.UTF8.GetBytes(table));
        AtomicFile.Write(outputs.Json, System.Text.Encoding.UTF8.GetBytes(AdderSweep.Json(results)));
        Console.WriteLine();
        Console.Write(table);
        Console.WriteLine($"wrote {outputs.Markdown} and {outputs.Json}{(outputs.Histories is { } h ? $", and one history per adder in {h}" : "")}");
        if (results.Count < runs.Count)
        {
            Console.Error.WriteLine($"carry: interrupted after {results.Count} of {runs.Count} adders; the table holds those.");
            return ExitCodes.Interrupted;
        }
        return ExitCodes.Success;
    }
}
