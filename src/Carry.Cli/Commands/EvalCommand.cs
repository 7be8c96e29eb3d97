using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Carry.Arithmetic;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry eval --model FILE</c>: exact-match and per-bit accuracy of an arithmetic model. An
/// aligned model is measured at each width w of <c>--widths</c> on operands in [0, 2^w) over
/// w + 1 steps: every pair when 4^w ≤ 65,536 (w ≤ 8), else <c>--samples</c> pairs drawn from
/// <c>--seed</c>. A concat model is measured at its own width: every pair up to 10 bits.
/// </summary>
public static class EvalCommand
{
    /// <summary>Widths measured for an aligned model when none are given.</summary>
    public static readonly int[] DefaultWidths = [8, 16, 64, 1024];

    /// <summary>Widest operands accepted.</summary>
    public const int MaxWidth = 1 << 20;

    /// <summary>Builds the verb.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The trained .carry model", Required = true };
        var widths = new Option<string?>("--widths") { Description = "Operand widths in bits, comma-separated (aligned default 8,16,64,1024; concat: its own width)" };
        var samples = new Option<int>("--samples") { Description = "Random pairs per width when not every pair is evaluated", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random pairs", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table" };
        var command = new Command("eval", "Measure how well a trained model adds: exact-match and per-bit accuracy, across widths.");
        foreach (var option in new Option[] { model, widths, samples, seed, json }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            int[]? requested = ParseWidths(parse.GetValue(widths));
            int count = parse.GetValue(samples);
            if (count < 1 || count > 10_000_000) throw new UsageException($"--samples: {count} is out of range (1 to 10000000).");
            ulong s = parse.GetValue(seed);
            bool asJson = parse.GetValue(json);
            string path = parse.GetValue(model)!;
            return ModelArgument.Run(path,
                (loaded, task) => Run(path, loaded, task, requested, count, s, asJson),
                (loaded, task) => Run(path, loaded, task, requested, count, s, asJson));
        });
        return command;
    }

    internal static int[]? ParseWidths(string? text)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new UsageException("--widths: give one or more bit widths, e.g. 8,16,64.");
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out result[i]) || result[i] < 1 || result[i] > MaxWidth)
            {
                throw new UsageException($"--widths: '{parts[i]}' is not a bit width from 1 to {MaxWidth}.");
            }
        }
        return result;
    }

    private static int Run<T>(string path, LoadedModel<T> loaded, TaskInfo task, int[]? widths, int samples, ulong seed, bool asJson)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool aligned = task.Encoding == AlignedEncoding.Name;
        int[] chosen = widths ?? (aligned ? DefaultWidths : [task.Bits]);
        if (!aligned && chosen.Any(w => w != task.Bits))
        {
            throw new UsageException($"{path}: a concat model adds {task.Bits}-bit numbers only; evaluate it with --widths {task.Bits} (or no --widths).");
        }
        IReadOnlyList<WidthAccuracy> results;
        try
        {
            results = Addition.Evaluate(loaded.Model, task, chosen, samples, seed);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{path}: " + Check.Plain(e));
        }
        var stdout = Console.Out;
        if (asJson)
        {
            var body = new EvalReport(path, task.Encoding, task.Bits, results.ToArray());
            stdout.WriteLine(JsonSerializer.Serialize(body, CliJson.Default.EvalReport));
            return ExitCodes.Success;
        }
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{path}: {task.Encoding} encoding, trained at {task.Bits} bits"));
        stdout.WriteLine("  width    samples          exact   bit accuracy");
        foreach (var r in results)
        {
            string kind = r.AllPairs ? "all" : "random";
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {r.Width,5}  {r.Samples,9} {kind,-6}  {r.Exact * 100,8:F2}%  {r.BitAccuracy * 100,12:F4}%"));
        }
        return ExitCodes.Success;
    }
}

/// <summary>What <c>carry eval --json</c> prints.</summary>
internal sealed record EvalReport(string Model, string Encoding, int TrainedBits, WidthAccuracy[] Results);
