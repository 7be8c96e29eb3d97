using System.CommandLine;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary><c>carry plot --model FILE -o model.svg|model.png</c>: the model as Keras's <c>plot_model(show_shapes=True)</c> draws it.</summary>
public static class PlotCommand
{
    /// <summary>The <c>plot</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("plot", "Draw a model as a chain of boxes with input and output shapes (SVG or PNG, by extension).");
        var model = new Option<string>("--model", "-m") { Description = "The .carry file.", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The diagram: model.svg or model.png.", DefaultValueFactory = _ => "model.png" };
        command.Options.Add(model);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(model)!, target = parse.GetValue(output)!;
            var loaded = ModelFile.Load<float>(path);
            ModelDiagram.Write(target, ModelView.Rows(loaded.Model, SummaryCommand.InputShape(loaded)), "sequential");
            Console.Out.WriteLine($"drew {path} to {target}");
            return ExitCodes.Success;
        });
        return command;
    }
}
