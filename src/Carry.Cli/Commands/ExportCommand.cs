using System.CommandLine;
using Carry.Interop;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary><c>carry export --model FILE -o OUT</c>: writes the model in another framework's format, chosen by OUT's extension.</summary>
public static class ExportCommand
{
    /// <summary>The <c>export</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("export", "Write a model for another runtime: .onnx (ONNX).");
        var model = new Option<string>("--model", "-m") { Description = "The .carry file.", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The file to write; its extension picks the format (.onnx).", Required = true };
        command.Options.Add(model);
        command.Options.Add(output);
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(output)!));
        return command;
    }

    internal static int Run(string modelPath, string outputPath)
    {
        string extension = Path.GetExtension(outputPath).ToLowerInvariant();
        switch (extension)
        {
            case ".onnx":
                // Weights go to ONNX as float32; a float64 model is read in double and rounded once.
                var loaded = ModelFile.Load<double>(modelPath);
                OnnxExport.Save(outputPath, loaded.Model);
                Console.Out.WriteLine($"{outputPath}: ONNX opset {OnnxExport.Opset}, input '{OnnxExport.InputName}' [batch, time, features], output '{OnnxExport.OutputName}'");
                foreach (var s in OnnxExport.States(loaded.Model))
                {
                    string cell = s.InitialCell is null ? "" : $", {s.InitialCell} -> {s.FinalCell}";
                    Console.Out.WriteLine($"  layer {s.Layer} state [{s.Directions}, batch, {s.HiddenSize}]: {s.InitialHidden} -> {s.FinalHidden}{cell}");
                }
                return ExitCodes.Success;
            default:
                throw new UsageException($"-o {outputPath}: export writes .onnx (ONNX); '{extension}' is not a format it knows.");
        }
    }
}
