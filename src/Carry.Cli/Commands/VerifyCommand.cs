using System.CommandLine;
using System.Globalization;
using System.Numerics;
using Carry.Analysis;
using Carry.Arithmetic;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry verify --model FILE</c>: a sound attempt to prove that an aligned adder adds correctly
/// at every width (<see cref="Verifier"/>). Exit 0 proved, 1 counterexample found (the pair is
/// printed), 4 unknown (where the proof failed, or the budget ran out).
/// </summary>
public static class VerifyCommand
{
    /// <summary>Exit code: an addition the network gets wrong was found.</summary>
    public const int CounterexampleFound = 1;

    /// <summary>Exit code: neither proved nor refuted.</summary>
    public const int Unknown = 4;

    /// <summary>Builds the verb.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The trained aligned .carry model", Required = true };
        var budget = new Option<string>("--budget") { Description = "Time for the search and the proof, e.g. 20s, 5m (default 5m)", DefaultValueFactory = _ => "5m" };
        var history = new Option<int>("--history") { Description = "Longest input history that splits the invariant's regions (0 to 10)", DefaultValueFactory = _ => 8 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random parts", DefaultValueFactory = _ => 0 };
        var command = new Command("verify", "Try to prove that an aligned adder adds correctly at every width: 0 proved, 1 counterexample, 4 unknown.");
        foreach (var option in new Option[] { model, budget, history, seed }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            int k = parse.GetValue(history);
            if (k is < 0 or > 10) throw new UsageException($"--history: {k} is out of range (0 to 10).");
            var options = new VerifyOptions { Budget = ExplainCommand.ParseBudget(parse.GetValue(budget)!), MaxHistory = k, Seed = parse.GetValue(seed) };
            string path = parse.GetValue(model)!;
            return ModelArgument.Run(path, (m, task) => Run(path, m, task, options), (m, task) => Run(path, m, task, options));
        });
        return command;
    }

    private static int Run<T>(string path, LoadedModel<T> loaded, TaskInfo task, VerifyOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = ExplainCommand.Network(path, loaded, task);
        VerifyResult result;
        try
        {
            result = Verifier.Run(network, options);
        }
        catch (NotSupportedException e)
        {
            throw new UsageException($"{path}: {e.Message}");
        }
        var output = Console.Out;
        var search = result.Search;
        output.WriteLine(I($"search: {search.StructuredDone:N0} of {search.StructuredPlanned:N0} structured additions (widths up to {search.StructuredWidest:N0} bits), {search.GuidedSteps:N0} guided steps"));
        foreach (var a in result.Attempts)
        {
            string outcome = a.Proved ? "an invariant: every region maps into its successor and every output is decided" : a.Failure!;
            output.WriteLine(I($"k = {a.History}: {a.Reached:N0} of {a.Regions:N0} regions (carry, last {a.History} inputs), {a.Updates:N0} enlargements, mean box width {a.SampledWidth:F3} sampled → {a.FinalWidth:F3}, {a.Elapsed.TotalSeconds:F1} s: {outcome}"));
        }
        switch (result.Verdict)
        {
            case Verdict.Proved:
                output.WriteLine("proved: the network adds correctly at every width (interval invariant, outward rounding, float rounding bounded)");
                return ExitCodes.Success;
            case Verdict.Counterexample:
                var c = result.Counterexample!;
                output.WriteLine($"counterexample: {DecimalText.Format(c.A)} + {DecimalText.Format(c.B)}");
                return CounterexampleFound;
            default:
                if (result.Obstacle is { } o)
                {
                    output.WriteLine(I($"in the way: one step widens a box by up to ‖|J|‖∞ = {o.MedianGain:F2} (median over sampled states; least {o.MinGain:F2}); boxes grow unless it is below 1"));
                    if (o.SampledOutputs is { } y) output.WriteLine(I($"  the sampled states of the last failing region give outputs in [{y.Lo:G4}, {y.Hi:G4}]: the network decides them, the box around them does not"));
                }
                output.WriteLine(result.OutOfTime
                    ? I($"unknown: the budget ({options.Budget.TotalSeconds:F0} s) ran out before a proof or a counterexample")
                    : I($"unknown: no invariant of boxes split by up to {options.MaxHistory} recent inputs holds (see above where each failed)"));
                return Unknown;
        }
    }

    private static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
