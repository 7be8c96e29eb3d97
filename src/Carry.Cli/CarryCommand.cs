using System.CommandLine;

namespace Carry.Cli;

/// <summary>Exit codes of the <c>carry</c> command (DESIGN.md).</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int BadInput = 2;
    public const int Diverged = 3;
    public const int Interrupted = 130;
}

/// <summary>An error the user can fix: printed as one line on stderr, exit code 2.</summary>
public sealed class UsageException : Exception
{
    public UsageException(string message) : base(message) { }
    public UsageException() { }
    public UsageException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The <c>carry</c> command line: builds the verbs and turns every failure into one line and an exit code.</summary>
public static class CarryCommand
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args)
    {
        var root = Root();
        foreach (var command in Verbs()) root.Subcommands.Add(command);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"carry: {parse.Errors[0].Message} (see 'carry --help')");
            return ExitCodes.BadInput;
        }
        try
        {
            // Our handler below, not System.CommandLine's (which prints a stack trace and returns 1).
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Classify(e) is int code)
        {
            Console.Error.WriteLine($"carry: {OneLine(e.Message)}");
            return code;
        }
    }

    /// <summary>The command's own name in usage and help.</summary>
    public const string Name = "carry";

    /// <summary>
    /// The root command, named <c>carry</c> whatever the assembly or the installed tool's shim is
    /// called (a <see cref="RootCommand"/> takes its name from the executable: <c>Carry.Cli</c>),
    /// with the options a root command has: <c>--help</c> and <c>--version</c>.
    /// </summary>
    private static Command Root() => new(Name, "Carry: recurrent neural networks that learn to add integers.")
    {
        Options = { new System.CommandLine.Help.HelpOption(), new VersionOption() },
    };

    /// <summary>The verbs. Each file under Commands/ contributes one.</summary>
    private static IEnumerable<Command> Verbs() =>
    [
        Commands.TrainCommand.Create(),
        Commands.AddCommand.Create(),
        Commands.EvalCommand.Create(),
        Commands.PredictCommand.Create(),
        Commands.SummaryCommand.Create(),
        Commands.PlotCommand.Create(),
        Commands.ImportCommand.Create(),
        Commands.ExportCommand.Create(),
        Commands.InspectCommand.Create(),
        Commands.ExplainCommand.Create(),
        Commands.VerifyCommand.Create(),
        Commands.ExperimentsCommand.Create(),
        Commands.SampleCommand.Create(),
        Commands.PoemsCommand.Create(),
    ];

    /// <summary>Exit code for an exception the user should see as one line; null for a bug (let it surface).</summary>
    internal static int? Classify(Exception e) => e switch
    {
        UsageException or ArgumentException or FormatException or IOException or UnauthorizedAccessException
            or InvalidDataException or OverflowException or NotSupportedException => ExitCodes.BadInput,
        Carry.Training.TrainingDivergedException => ExitCodes.Diverged,
        OperationCanceledException => ExitCodes.Interrupted,
        _ => null,
    };

    internal static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
