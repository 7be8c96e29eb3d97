using System.CommandLine;
using Carry.Interop;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry export --model FILE -o OUT</c>: a Carry model in another framework's format, chosen by
/// the output's extension (<c>.h5</c>: Keras; <c>.onnx</c>: ONNX). One switch below picks the writer.
/// </summary>
public static class ExportCommand
{
    /// <summary>The <c>export</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("export", "Write a Carry model in another framework's format, chosen by the output's extension (.h5: Keras, .onnx: ONNX).");
        var model = new Option<string>("--model", "-m") { Description = "The .carry file.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The file to write: x.h5 (Keras, tf.keras 2.x layout) or x.onnx (ONNX).", Required = true };
        command.Options.Add(model);
        command.Options.Add(output);
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(output)!));
        return command;
    }

    internal static int Run(string modelPath, string output)
    {
        if (string.IsNullOrWhiteSpace(output)) throw new UsageException("--output: give the file to write (.h5 or .onnx).");
        string extension = Path.GetExtension(output).ToLowerInvariant();
        switch (extension)
        {
            case ".h5" or ".hdf5":
                var keras = ModelFile.Load<float>(modelPath);
                KerasExport.Save(keras.Model, output, SummaryCommand.InputShape(keras));
                Console.Out.WriteLine($"Wrote {output} (Keras HDF5, tf.keras {KerasExport.KerasVersion} layout).");
                return ExitCodes.Success;
            case ".onnx":
                // Weights go to ONNX as float32; a float64 model is read in double and rounded once.
                var loaded = ModelFile.Load<double>(modelPath);
                OnnxExport.Save(output, loaded.Model);
                Console.Out.WriteLine($"{output}: ONNX opset {OnnxExport.Opset}, input '{OnnxExport.InputName}' [batch, time, features], output '{OnnxExport.OutputName}'");
                foreach (var s in OnnxExport.States(loaded.Model))
                {
                    string cell = s.InitialCell is null ? "" : $", {s.InitialCell} -> {s.FinalCell}";
                    Console.Out.WriteLine($"  layer {s.Layer} state [{s.Directions}, batch, {s.HiddenSize}]: {s.InitialHidden} -> {s.FinalHidden}{cell}");
                }
                return ExitCodes.Success;
            default:
                throw new UsageException($"--output {output}: unknown format '{extension}' (.h5 or .hdf5 for Keras, .onnx for ONNX).");
        }
    }
}
