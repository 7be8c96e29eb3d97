using System.CommandLine;
using Carry.Interop;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry export --model FILE -o OUT</c>: a Carry model in another framework's format, chosen by
/// the output's extension (<c>.h5</c>: Keras). One switch below picks the writer.
/// </summary>
public static class ExportCommand
{
    /// <summary>The <c>export</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("export", "Write a Carry model in another framework's format, chosen by the output's extension (.h5: Keras).");
        var model = new Option<string>("--model", "-m") { Description = "The .carry file.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The file to write: x.h5 (Keras, tf.keras 2.x layout).", Required = true };
        command.Options.Add(model);
        command.Options.Add(output);
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(output)!));
        return command;
    }

    internal static int Run(string modelPath, string output)
    {
        if (string.IsNullOrWhiteSpace(output)) throw new UsageException("--output: give the file to write (.h5).");
        var loaded = ModelFile.Load<float>(modelPath);
        switch (Path.GetExtension(output).ToLowerInvariant())
        {
            case ".h5" or ".hdf5":
                KerasExport.Save(loaded.Model, output, SummaryCommand.InputShape(loaded));
                Console.Out.WriteLine($"Wrote {output} (Keras HDF5, tf.keras {KerasExport.KerasVersion} layout).");
                return ExitCodes.Success;
            default:
                throw new UsageException($"--output {output}: unknown format '{Path.GetExtension(output)}' (.h5 or .hdf5 for Keras).");
        }
    }
}
