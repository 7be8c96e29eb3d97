using System.CommandLine;
using Carry.Interop;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry import keras FILE.h5 -o model.carry</c>: a Keras HDF5 model as a Carry model, then
/// its summary. What Carry cannot represent is one line naming the layer, exit 2.
/// </summary>
public static class ImportCommand
{
    /// <summary>The <c>import</c> verb with its <c>keras</c> subcommand.</summary>
    public static Command Create()
    {
        var command = new Command("import", "Bring a model saved by another framework into Carry.");
        var keras = new Command("keras", "Import a Keras .h5 model (Sequential: InputLayer, Embedding, SimpleRNN, LSTM, GRU, Dense, TimeDistributed(Dense), Dropout, RepeatVector, Activation, Softmax).");
        var file = new Argument<string>("FILE") { Description = "The Keras .h5 file (saved with model.save)." };
        var output = new Option<string>("--output", "-o") { Description = "The .carry file to write.", Required = true };
        keras.Arguments.Add(file);
        keras.Options.Add(output);
        keras.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(output)!));
        command.Subcommands.Add(keras);
        return command;
    }

    internal static int Run(string path, string output)
    {
        if (string.IsNullOrWhiteSpace(output)) throw new UsageException("--output: give the .carry file to write.");
        var imported = KerasImport.Load(path);
        var training = new Dictionary<string, string>
        {
            ["imported"] = $"keras {imported.KerasVersion}",
            ["source"] = Path.GetFileName(path),
        };
        if (imported.InputShape is { } shape) training["keras_input_shape"] = ModelView.Shape(shape);
        ModelFile.Save(output, imported.Model, new ModelMetadata { Training = training });
        Console.Out.WriteLine($"Imported {path} (Keras {imported.KerasVersion}) as {output}.");
        Console.Out.Write(SummaryCommand.Render(output));
        return ExitCodes.Success;
    }
}
