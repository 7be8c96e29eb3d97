using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text;
using Carry.Arithmetic;
using Carry.Numerics;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry predict --model FILE --samples 100</c>: the article's printout. For each random pair,
/// a rule of 30 <c>=</c>, then each operand and the prediction as a bit vector, most significant
/// bit first, and its value; then how many were right.
/// </summary>
public static class PredictCommand
{
    /// <summary>The <c>predict</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("predict", "Add random pairs with a trained model and print them as the article does.");
        var model = new Option<string>("--model", "-m") { Description = "The .carry file.", Required = true };
        var samples = new Option<int>("--samples", "-n") { Description = "How many random pairs.", DefaultValueFactory = _ => 100 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the pair generator.", DefaultValueFactory = _ => 0 };
        var all = new Option<bool>("--all") { Description = "Every pair of the model's width (up to 10 bits), i the outer loop, instead of random ones." };
        var json = new Option<bool>("--json") { Description = "Print {\"a\", \"b\", \"prediction\"} records as one JSON object instead of the printout." };
        foreach (var o in new Option[] { model, samples, seed, all, json }) command.Options.Add(o);
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(samples), parse.GetValue(seed), parse.GetValue(all), parse.GetValue(json)));
        return command;
    }

    internal static int Run(string path, int samples, ulong seed, bool all, bool json)
    {
        if (samples < 1 || samples > 10_000_000) throw new UsageException($"--samples must be between 1 and 10,000,000, not {samples}");
        var (loaded, task) = AdderModels.LoadAdder(path);
        int bits = task.Bits;
        var pairs = new List<(BigInteger A, BigInteger B)>();
        if (all)
        {
            if (bits > ConcatEncoding.MaxAllPairsBits) throw new UsageException($"--all lists every pair only up to {ConcatEncoding.MaxAllPairsBits} bits; this model adds {bits}-bit numbers");
            for (int i = 0; i < 1 << bits; i++)
            {
                for (int j = 0; j < 1 << bits; j++) pairs.Add((i, j));
            }
        }
        else
        {
            var random = new RandomGenerator(seed);
            for (int k = 0; k < samples; k++) pairs.Add((RandomBits.Next(bits, random), RandomBits.Next(bits, random)));
        }
        // Every pair of a concat model: through the prefix trie (same outputs, i outer, ~8x less work).
        var prediction = all && task.Encoding == ConcatEncoding.Name && AllPairsInference.Supports(loaded.Model, bits)
            ? AllPairsInference.Predict(loaded.Model, bits)
            : loaded.Model.Predict(AdderModels.Encode(task, pairs));
        var sums = AdderModels.Decode(task, prediction);
        int correct = 0;
        var output = Console.Out;
        var text = new StringBuilder();
        if (json) text.Append("{\"bits\":").Append(bits).Append(",\"encoding\":\"").Append(task.Encoding).Append("\",\"predictions\":[");
        for (int k = 0; k < pairs.Count; k++)
        {
            var (a, b) = pairs[k];
            if (sums[k] == a + b) correct++;
            if (json)
            {
                if (k > 0) text.Append(',');
                text.Append(CultureInfo.InvariantCulture, $"[{a},{b},{sums[k]}]");
                continue;
            }
            text.AppendLine(new string('=', 30));
            text.AppendLine(CultureInfo.InvariantCulture, $"{BitText.Format(a, bits)}: {a}");
            text.AppendLine(CultureInfo.InvariantCulture, $"{BitText.Format(b, bits)}: {b}");
            text.AppendLine(CultureInfo.InvariantCulture, $"{BitText.Format(sums[k], bits + 1)}: {sums[k]}");
            if (text.Length > 1 << 16)
            {
                output.Write(text);
                text.Clear();
            }
        }
        if (json) text.Append(CultureInfo.InvariantCulture, $"],\"correct\":{correct},\"count\":{pairs.Count}}}").AppendLine();
        else text.AppendLine(CultureInfo.InvariantCulture, $"{correct}/{pairs.Count} correct");
        output.Write(text);
        return ExitCodes.Success;
    }
}
