using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Carry.Training;
using Spectre.Console;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry train</c>: the presets (<c>iamtrask</c>, <c>keras</c>, ...) as subcommands, and the
/// general form. It maps flags to the library's fit loop (<see cref="Trainer{T}"/> on an
/// <see cref="Arithmetic.AdditionTask{T}"/>) and prints; the loop is the library's.
/// </summary>
public static class TrainCommand
{
    /// <summary>The <c>train</c> verb with one subcommand per preset; alone it is the general form.</summary>
    public static Command Create()
    {
        var train = new Command("train", "Train a model: a preset that reproduces an experiment, or the general form (flags below).");
        var general = new TrainOptions(new TrainSettings(), general: true);
        general.AddTo(train);
        var generalCheckpoints = new CheckpointFlags();
        generalCheckpoints.AddTo(train);
        train.SetAction(parse => Run(general.Read(parse), "general", generalCheckpoints.Read(parse)));
        train.Subcommands.Add(IamtraskCommand.Create());
        train.Subcommands.Add(TextTrainCommand.Create());
        foreach (var preset in TrainPreset.All)
        {
            var command = new Command(preset.Name, $"{preset.Description} Flags: {preset.Settings.Flags()}.");
            var options = new TrainOptions(preset.Settings, general: false);
            options.AddTo(command);
            var checkpoints = new CheckpointFlags();
            checkpoints.AddTo(command);
            command.SetAction(parse => Run(options.Read(parse), preset.Name, checkpoints.Read(parse)));
            train.Subcommands.Add(command);
        }
        return train;
    }

    /// <summary>Builds, trains and saves an adder; returns the exit code.</summary>
    internal static int Run(TrainSettings settings, string presetName) => Run(settings, presetName, CheckpointRequest.None);

    /// <summary>
    /// Builds (or, with <c>--resume</c>, reloads) an adder, trains it through the fit loop, and
    /// saves the best epoch; returns the exit code. The checkpoint holds everything that decides
    /// the final weights, so a resumed run ends with the same model as one that never stopped.
    /// </summary>
    internal static int Run(TrainSettings settings, string presetName, CheckpointRequest request)
    {
        var run = TrainRun.Start(settings, presetName, request);
        var s = run.Settings;
        using var compute = run.Compute;
        run.PrintHeader(Console.Out);
        using var interrupt = new InterruptSignal();
        bool live = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var clock = Stopwatch.StartNew();
        var bar = live ? new EpochProgressBar(s.Epochs) : null;
        var trainer = run.Trainer(bar, interrupt.Token);
        TrainingResult result;
        try
        {
            result = bar is null ? trainer.Run(run.Resume) : WithProgressBar(trainer, run, bar);
        }
        catch (TrainingDivergedException e)
        {
            throw run.Diverged(trainer, e);
        }
        int code = Report(run, trainer, result, clock.Elapsed);
        if (s.Curves is not null && File.Exists(s.HistoryPath)) DrawCurves(s.HistoryPath, s.Curves);
        return code;
    }

    /// <summary><c>--curves</c>: the run's history drawn as loss and accuracy curves.</summary>
    private static void DrawCurves(string history, string curves)
    {
        Pictures.CurvesPicture.Write(curves, [new Pictures.NamedHistory(Path.GetFileName(history), Analysis.TrainingHistory.Read(history))]);
        Console.WriteLine($"drew the curves from {history} to {curves}");
    }

    /// <summary>Prints how the run ended, saves the best epoch, and picks the exit code.</summary>
    private static int Report(TrainRun run, Trainer<float> trainer, TrainingResult result, TimeSpan wall)
    {
        var s = run.Settings;
        if (result.StopReason == StopReason.Perfect) Console.WriteLine($"every training pair is exact after {result.CompletedEpochs} epochs: stopping (--until-perfect)");
        if (result.StopReason == StopReason.EarlyStopping) Console.WriteLine($"{s.Monitor} has not improved for {s.Patience} epochs: stopping after {result.CompletedEpochs} (--patience)");
        string resumeHint = !result.Cancelled ? ""
            : result.CheckpointPosition is { } at ? $" Checkpoint written; it continues at epoch {at.Epoch + 1}, step {at.Step + 1}: resume with 'carry train --resume {run.CheckpointPath}'."
            : " (No --checkpoint was given, so this run cannot be resumed.)";
        if (result.Best is not { } best)
        {
            Console.Error.WriteLine($"carry: interrupted before the first epoch ended; no model was saved.{resumeHint}");
            return ExitCodes.Interrupted;
        }
        run.Save(trainer, result.Cancelled);
        string what = string.Create(CultureInfo.InvariantCulture,
            $"the best model (epoch {best.Epoch + 1}, exact {Percent(best.Get(MetricNames.Exact), run.Task.SampleCount)}, loss {best.Loss:F4}) to {s.Out}");
        if (result.Cancelled)
        {
            Console.Error.WriteLine($"carry: interrupted after {result.CompletedEpochs} epochs; saved {what}.{resumeHint}");
            return ExitCodes.Interrupted;
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained {result.CompletedEpochs} epochs in {wall.TotalSeconds:F1} s; saved {what}"));
        return ExitCodes.Success;
    }

    /// <summary>
    /// <c>45.2%</c>, rounded down so that 100.0% means every pair; near the top, also how many
    /// of the <paramref name="count"/> pairs are still wrong (<c>99.9% (3 wrong)</c>).
    /// </summary>
    internal static string Percent(double exact, int count)
    {
        int wrong = (int)Math.Round((1 - exact) * count);
        string text = (Math.Floor(exact * 1000) / 10).ToString("F1", CultureInfo.InvariantCulture) + "%";
        return wrong > 0 && wrong <= 1000 ? $"{text} ({wrong} wrong)" : text;
    }

    /// <summary>Runs the loop under a live progress bar (one bar per epoch; epoch lines print above it).</summary>
    private static TrainingResult WithProgressBar(Trainer<float> trainer, TrainRun run, EpochProgressBar bar)
    {
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                bar.Context = context;
                result = trainer.Run(run.Resume);
            });
        return result!;
    }
}
