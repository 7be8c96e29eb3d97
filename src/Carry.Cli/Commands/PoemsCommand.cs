using System.CommandLine;
using System.Globalization;
using Carry.Text;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry sample --model tang.carry --length 12000 | carry poems</c>: the share of sampled lines
/// that are well-formed five-character poems (<see cref="PoemForm"/>), the first and last line
/// dropped.
/// </summary>
public static class PoemsCommand
{
    /// <summary>The <c>poems</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("poems", "Score sampled Tang poems: the share of lines that are 2 or 4 couplets of five characters (，/。).");
        var file = new Option<string?>("--file", "-f") { Description = "The sample to score (default: stdin)." };
        command.Options.Add(file);
        command.SetAction(parse =>
        {
            string? path = parse.GetValue(file);
            string text = path is null ? Console.In.ReadToEnd() : File.ReadAllText(path);
            var score = PoemForm.Score(text);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"well-formed {score.WellFormed} of {score.Lines} poems ({100 * score.Share:F1}%; first and last line dropped)"));
            return ExitCodes.Success;
        });
        return command;
    }
}
