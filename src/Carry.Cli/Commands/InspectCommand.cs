using System.CommandLine;
using System.Numerics;
using Carry.Analysis;
using Carry.Arithmetic;
using Carry.Cli.Pictures;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry inspect --model FILE A B -o steps.png</c>: every hidden unit (and an LSTM's cell and
/// gates) at every step of one addition; <c>carry inspect --model FILE --states -o states.png</c>:
/// hidden states of many random additions projected to two dimensions.
/// </summary>
public static class InspectCommand
{
    /// <summary>The <c>inspect</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("inspect", "Look inside a trained adder: a heat map of its hidden units step by step for one addition (A B), or its hidden states of many additions projected by PCA (--states). PNG or SVG, by extension.");
        var model = new Option<string>("--model", "-m") { Description = "The trained .carry model.", Required = true };
        var operands = new Argument<string[]>("A B") { Description = "Two non-negative decimal integers to add and trace.", Arity = ArgumentArity.ZeroOrMore };
        var states = new Option<bool>("--states") { Description = "Project the hidden states of many random additions onto two principal components." };
        var samples = new Option<int>("--samples") { Description = "Random additions for --states.", DefaultValueFactory = _ => 200 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random additions for --states.", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out", "-o") { Description = "The picture: .png or .svg (default steps.png, or states.png with --states)." };
        command.Options.Add(model);
        command.Arguments.Add(operands);
        command.Options.Add(states);
        command.Options.Add(samples);
        command.Options.Add(seed);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            string[] numbers = parse.GetValue(operands) ?? [];
            bool project = parse.GetValue(states);
            if (project == (numbers.Length != 0)) throw new UsageException("inspect needs either two operands A B or --states");
            if (!project && numbers.Length != 2) throw new UsageException($"inspect traces one addition: give two operands A B (got {numbers.Length})");
            int count = parse.GetValue(samples);
            if (count is < 1 or > 100_000) throw new UsageException($"--samples: {count} is outside 1..100000");
            string target = parse.GetValue(output) ?? (project ? "states.png" : "steps.png");
            PictureFile.CheckExtension(target);
            var (loaded, task) = AdderModels.LoadAdder(parse.GetValue(model)!);
            return project
                ? DrawStates(loaded.Model, task, count, parse.GetValue(seed), target)
                : DrawSteps(loaded.Model, task, AddCommand.ParseOperand("A", numbers[0]), AddCommand.ParseOperand("B", numbers[1]), target);
        });
        return command;
    }

    private static int DrawSteps(Sequential<float> model, TaskInfo task, BigInteger a, BigInteger b, string target)
    {
        bool aligned = task.Encoding == AlignedEncoding.Name;
        long widest = Math.Max(a.GetBitLength(), b.GetBitLength());
        if (!aligned && widest > task.Bits) throw new UsageException($"this concat model adds {task.Bits}-bit numbers; an operand has {widest} bits");
        int bits = aligned ? (int)Math.Max(task.Bits, widest) : task.Bits;
        if (bits > 4096) throw new UsageException($"an operand has {widest} bits; inspect draws additions of up to 4096 bits");
        var trace = StateTrace.Run(model, AdderModels.Encode(task with { Bits = bits }, [(a, b)]));
        StepsPicture.Write(target, new StepsPicture.Addition(trace, LayerNames(model, task, bits), aligned, bits, a, b));
        Console.Out.WriteLine($"traced {a} + {b} through {trace.Quantities.Count} quantities to {target}");
        return ExitCodes.Success;
    }

    private static int DrawStates(Sequential<float> model, TaskInfo task, int count, ulong seed, string target)
    {
        bool aligned = task.Encoding == AlignedEncoding.Name;
        var random = new RandomGenerator(seed);
        var pairs = new List<(BigInteger A, BigInteger B)>(count);
        for (int i = 0; i < count; i++) pairs.Add((RandomBits.Next(task.Bits, random), RandomBits.Next(task.Bits, random)));
        var trace = StateTrace.Run(model, AdderModels.Encode(task, pairs));
        // The state the output layer reads: the last recurrent layer's first quantity (h, or a bidirectional layer's forward h).
        int last = trace.Quantities.Max(q => q.Layer);
        var quantity = trace.Quantities.First(q => q.Layer == last);
        var projection = ProjectedStates.Of(quantity);
        int[][]? carries = aligned ? pairs.Select(p => Carries.Into(p.A, p.B, AlignedEncoding.Steps(task.Bits))).ToArray() : null;
        string title = $"{LayerNames(model, task, task.Bits)[last]} {quantity.Name}: {count} random {task.Bits}-bit additions ({task.Encoding})";
        StatesPicture.Write(target, new StatesPicture.States(projection, title, carries));
        Console.Out.WriteLine($"projected {count * projection.Steps} states of {quantity.Width} units to {target} ({100 * (projection.Pca.ExplainedFraction(0) + (projection.Pca.Variances.Count > 1 ? projection.Pca.ExplainedFraction(1) : 0)):0.#}% of the variance)");
        return ExitCodes.Success;
    }

    private static IReadOnlyList<string> LayerNames(Sequential<float> model, TaskInfo task, int bits)
    {
        return ModelView.Rows(model, AdderModels.InputShape(task with { Bits = bits })).Select(r => r.Name).ToList();
    }
}
