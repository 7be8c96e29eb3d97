using System.CommandLine;
using System.Globalization;
using Carry.Serialization;
using Carry.Text;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry sample --model FILE [--length 1000] [--temperature 0.8] [--prime TEXT] [--seed S]</c>:
/// text from a char-rnn, written to stdout symbol by symbol as it is drawn, and nothing else on
/// stdout. Starts after a newline unless primed; the prime itself is not printed.
/// </summary>
public static class SampleCommand
{
    /// <summary>The <c>sample</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("sample", "Generate text with a model trained by 'carry train text', streamed to stdout.");
        var model = new Option<string>("--model", "-m") { Description = "The .carry file of a text model.", Required = true };
        var length = new Option<int>("--length", "-n") { Description = "Characters to generate.", DefaultValueFactory = _ => 1000 };
        var temperature = new Option<double>("--temperature", "-t") { Description = "Softmax temperature: lower is more conservative; 0 always takes the most likely character.", DefaultValueFactory = _ => 0.8 };
        var prime = new Option<string?>("--prime") { Description = "Text that sets the state first (not printed); default: start after a newline." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the draws: the same seed gives the same text.", DefaultValueFactory = _ => 0 };
        foreach (var o in new Option[] { model, length, temperature, prime, seed }) command.Options.Add(o);
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(length), parse.GetValue(temperature), parse.GetValue(prime), parse.GetValue(seed)));
        return command;
    }

    internal static int Run(string path, int length, double temperature, string? prime, ulong seed)
    {
        if (length < 0 || length > 100_000_000) throw new UsageException($"--length must be between 0 and 100,000,000, not {length}");
        if (!(temperature >= 0) || double.IsInfinity(temperature)) throw new UsageException($"--temperature must be a finite number ≥ 0, not {temperature.ToString(CultureInfo.InvariantCulture)}");
        var (loaded, vocabulary) = Load(path);
        if (!string.IsNullOrEmpty(prime))
        {
            var unknown = prime.EnumerateRunes().FirstOrDefault(r => !vocabulary.Contains(r));
            if (unknown.Value != 0) throw new UsageException($"--prime: '{unknown}' (U+{unknown.Value:X4}) is not one of the model's {vocabulary.Count} characters");
        }
        var sampler = new TextSampler<float>(loaded.Model, vocabulary);
        var output = Console.Out;
        foreach (var symbol in sampler.Sample(length, temperature, prime, seed))
        {
            output.Write(symbol.ToString());
        }
        output.Flush();
        return ExitCodes.Success;
    }

    /// <summary>A text model and its vocabulary; a model of numbers is refused.</summary>
    internal static (LoadedModel<float> Model, Vocabulary Vocabulary) Load(string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"{path}: is a folder, not a model file.");
        var loaded = ModelFile.Load<float>(path);
        if (loaded.Metadata.Vocabulary is not { } symbols) throw new UsageException($"{path}: the model was not trained on text (its file has no vocabulary), so it cannot sample.");
        var vocabulary = Vocabulary.Parse(symbols);
        CharRnn.InputWidth(loaded.Model, vocabulary);
        return (loaded, vocabulary);
    }
}
