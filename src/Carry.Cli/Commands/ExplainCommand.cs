using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text;
using Carry.Analysis;
using Carry.Arithmetic;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry explain --model FILE</c>: the machine an aligned adder learned (Omlin &amp; Giles
/// quantisation, minimised), whether it is the full adder, how well it agrees with the network,
/// and a search for additions the network gets wrong. Writes NAME.machine.dot, .svg and .mmd
/// beside the model. Exits 0 whenever the analysis completes, whatever it finds.
/// </summary>
public static class ExplainCommand
{
    /// <summary>Largest machine whose transition table is printed; a larger one is only written to the files.</summary>
    public const int MaxTableStates = 16;

    /// <summary>Builds the verb.</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The trained aligned .carry model", Required = true };
        var budget = new Option<string>("--budget") { Description = "Time for the whole analysis, e.g. 20s, 5m (default 5m; most of it goes to the counterexample search)", DefaultValueFactory = _ => "5m" };
        var depth = new Option<int>("--depth") { Description = "Check every input sequence up to this many steps (1 to 14)", DefaultValueFactory = _ => 12 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random sequences", DefaultValueFactory = _ => 0 };
        var command = new Command("explain", "Extract the machine an aligned adder learned, compare it with the full adder, and search for counterexamples.");
        foreach (var option in new Option[] { model, budget, depth, seed }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var options = new ExplainOptions { Budget = ParseBudget(parse.GetValue(budget)!), ExhaustiveDepth = CheckDepth(parse.GetValue(depth)), Seed = parse.GetValue(seed) };
            string path = parse.GetValue(model)!;
            return ModelArgument.Run(path, (m, task) => Run(path, m, task, options), (m, task) => Run(path, m, task, options));
        });
        return command;
    }

    /// <summary>Parses a duration: a number of seconds, or a number with s, m or h (e.g. 20s, 5m, 1.5h).</summary>
    internal static TimeSpan ParseBudget(string text)
    {
        text = text.Trim();
        double scale = 1;
        if (text.Length > 0 && char.IsLetter(text[^1]))
        {
            scale = char.ToLowerInvariant(text[^1]) switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => double.NaN };
            text = text[..^1];
        }
        if (double.IsNaN(scale) || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) || value * scale > 86_400)
        {
            throw new UsageException($"--budget: '{text}' is not a time such as 20s, 5m or 1h (at most 24h).");
        }
        return TimeSpan.FromSeconds(value * scale);
    }

    private static int CheckDepth(int depth) => depth is >= 1 and <= 14 ? depth : throw new UsageException($"--depth: {depth} is out of range (1 to 14).");

    /// <summary>The adder of <paramref name="path"/> as a state machine, or a usage error saying why it is not one.</summary>
    internal static AdderNetwork<T> Network<T>(string path, LoadedModel<T> loaded, TaskInfo task) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (task.Encoding != AlignedEncoding.Name) throw new UsageException($"{path}: a {task.Encoding} model reads whole numbers at once; explain and verify need an aligned adder (one bit pair per step).");
        try
        {
            return new AdderNetwork<T>(loaded.Model);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{path}: " + e.Message.Split(" (Parameter", 2)[0]);
        }
    }

    private static int Run<T>(string path, LoadedModel<T> loaded, TaskInfo task, ExplainOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = Network(path, loaded, task);
        Explanation result;
        try
        {
            result = Explainer.Run(network, options);
        }
        catch (NotSupportedException e)
        {
            throw new UsageException($"{path}: {e.Message}");
        }
        var output = Console.Out;
        var machine = result.Machine.Minimal;
        output.WriteLine(I($"{path}: {string.Join(" → ", loaded.Layers.Select(l => l.Kind))}, {network.StateSize} numbers of state per step"));
        output.WriteLine(I($"extraction (Omlin & Giles quantisation): q = {result.Machine.Levels} levels per state unit, {result.Machine.Raw.States} raw states, {machine.States} after minimisation")
            + I($" (tried q = {string.Join(", ", result.LevelsTried.Select(t => t.Disagreements < 0 ? $"{t.Levels}: too many states" : $"{t.Levels}: {t.Disagreements} disagreeing steps"))})"));
        output.WriteLine();
        if (machine.States <= MaxTableStates) output.Write(MachineText.Table(machine));
        else output.WriteLine(I($"(the transition table of {machine.States} states is in {Path.GetFileName(Stem(path))}.machine.dot and .mmd)"));
        output.WriteLine();
        output.WriteLine(result.IsFullAdder ? I($"machine: {machine.States} states, the full adder") : I($"machine: {machine.States} states, not the full adder"));
        output.WriteLine(Describe(I($"every sequence up to {options.ExhaustiveDepth} steps"), result.Exhaustive));
        output.WriteLine(Describe(I($"{options.RandomSequences} random sequences of {options.RandomSteps:N0} steps"), result.Random));
        var search = result.Search;
        output.WriteLine(I($"search: {search.StructuredDone:N0} of {search.StructuredPlanned:N0} structured additions (carry chains, alternating, symmetric; widths up to {search.StructuredWidest:N0} of {CounterexampleSearch.MaxStructuredWidth:N0} bits), ")
            + I($"guided beam search {search.GuidedRounds} rounds of {CounterexampleSearch.BeamDepth:N0} steps ({search.GuidedSteps:N0} network steps); {search.Failures:N0} wrong bits seen"));
        if (search.Shortest is { } c)
        {
            output.WriteLine($"counterexample: {DecimalText.Format(c.A)} + {DecimalText.Format(c.B)}");
            output.WriteLine(I($"  ({c.Width} bits; the network answers {Short(c.Got)}, the sum is {Short(c.A + c.B)})"));
        }
        else
        {
            output.WriteLine("no counterexample found");
        }
        string stem = Stem(path), title = Path.GetFileName(stem) + ": " + (result.IsFullAdder ? "the full adder" : I($"{machine.States} states"));
        AtomicFile.Write(stem + ".machine.dot", Encoding.UTF8.GetBytes(MachineText.Dot(machine, Path.GetFileName(stem))));
        AtomicFile.Write(stem + ".machine.mmd", Encoding.UTF8.GetBytes(MachineText.Mermaid(machine)));
        AtomicFile.Write(stem + ".machine.svg", Encoding.UTF8.GetBytes(MachineSvg.Draw(machine, title)));
        Pictures.MachinePicture.Write(stem + ".explain.svg", machine, title, result.Sample, network.StateSize);
        output.WriteLine(I($"wrote {stem}.machine.dot, {stem}.machine.svg, {stem}.machine.mmd and {stem}.explain.svg (the machine beside its states) in {result.Elapsed.TotalSeconds:F1} s of a {options.Budget.TotalSeconds:F0} s budget"));
        return ExitCodes.Success;
    }

    private static string Describe(string what, AgreementResult r)
    {
        string done = r.Complete ? I($"complete, {r.Elapsed.TotalSeconds:F1} s, {r.Processor.TotalSeconds:F1} s of processor") : I($"{100.0 * r.Steps / r.Planned:F1}% done when the budget ran out");
        return I($"agreement on {what}: {r.Steps - r.Disagreements:N0} of {r.Steps:N0} steps agree with the machine, {r.Disagreements:N0} disagree; {r.Wrong:N0} wrong sum bits ({done})");
    }

    /// <summary>The model's path without <c>.carry</c>: the machine files go beside it.</summary>
    internal static string Stem(string path) => path.EndsWith(".carry", StringComparison.OrdinalIgnoreCase) ? path[..^".carry".Length] : path;

    private static string Short(BigInteger value)
    {
        string text = DecimalText.Format(value);
        return text.Length <= 40 ? text : text[..18] + "…" + text[^18..] + I($" ({text.Length} digits)");
    }

    private static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
