using System.CommandLine;
using Carry.Analysis;
using Carry.Cli.Pictures;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry plot --model FILE -o model.svg|png</c>: the model as Keras's <c>plot_model(show_shapes=True)</c> draws it;
/// <c>carry plot --history FILE [FILE ...] -o curves.png|svg</c>: training curves.
/// </summary>
public static class PlotCommand
{
    /// <summary>The <c>plot</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("plot", "Draw a model as a chain of boxes with input and output shapes, or training curves from history CSV files (PNG or SVG, by extension).");
        var model = new Option<string?>("--model", "-m") { Description = "The .carry file to draw as a diagram." };
        var history = new Option<string[]>("--history") { Description = "History CSV files (epoch or iteration, then loss, exact, bit_accuracy, ...): loss and accuracy curves, one colour per file.", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string?>("--out", "-o") { Description = "The picture: .png or .svg (default model.png, or curves.png with --history)." };
        command.Options.Add(model);
        command.Options.Add(history);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            string? modelPath = parse.GetValue(model);
            string[] histories = parse.GetValue(history) ?? [];
            if ((modelPath is null) == (histories.Length == 0)) throw new UsageException("plot needs exactly one of --model FILE or --history FILE [FILE ...]");
            return modelPath is not null
                ? DrawModel(modelPath, parse.GetValue(output) ?? "model.png")
                : DrawCurves(histories, parse.GetValue(output) ?? "curves.png");
        });
        return command;
    }

    private static int DrawModel(string path, string target)
    {
        PictureFile.CheckExtension(target);
        var loaded = ModelFile.Load<float>(path);
        ModelDiagram.Write(target, ModelView.Rows(loaded.Model, SummaryCommand.InputShape(loaded)), "sequential");
        Console.Out.WriteLine($"drew {path} to {target}");
        return ExitCodes.Success;
    }

    private static int DrawCurves(string[] paths, string target)
    {
        PictureFile.CheckExtension(target);
        var runs = paths.Select(p => new NamedHistory(Path.GetFileName(p), TrainingHistory.Read(p))).ToList();
        CurvesPicture.Write(target, runs);
        Console.Out.WriteLine($"drew {runs.Sum(r => r.History.Count)} rows from {paths.Length} history file{(paths.Length == 1 ? "" : "s")} to {target}");
        return ExitCodes.Success;
    }
}
