using System.CommandLine;
using System.Globalization;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry summary --model FILE</c>: a layer table with output shapes and parameter counts, as
/// Keras's <c>model.summary()</c> prints it. Counts are PyTorch's: recurrent layers keep two bias
/// vectors (<c>bias_ih</c> and <c>bias_hh</c>), so LSTM(1→256) has 265,216 parameters here where
/// Keras, with one bias vector, shows 264,192.
/// </summary>
public static class SummaryCommand
{
    /// <summary>The <c>summary</c> verb.</summary>
    public static Command Create()
    {
        var command = new Command("summary", "Print a model's layers, output shapes and parameter counts (as Keras's model.summary()).");
        var model = new Option<string>("--model", "-m") { Description = "The .carry file.", Required = true };
        command.Options.Add(model);
        command.SetAction(parse =>
        {
            Console.Out.Write(Render(parse.GetValue(model)!));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The summary text of the model in <paramref name="path"/>.</summary>
    internal static string Render(string path)
    {
        var loaded = ModelFile.Load<float>(path);
        var rows = ModelView.Rows(loaded.Model, InputShape(loaded));
        const int NameWidth = 34, ShapeWidth = 26;
        var text = new System.Text.StringBuilder();
        string rule = new('_', 76), doubleRule = new('=', 76);
        text.AppendLine(CultureInfo.InvariantCulture, $"Model: \"{Path.GetFileName(path)}\"");
        if (loaded.Metadata.Task is { } task) text.AppendLine(CultureInfo.InvariantCulture, $"Task: add, {task.Encoding} encoding, {task.Bits}-bit operands, input {ModelView.Shape(AdderModels.InputShape(task))}");
        text.AppendLine(rule);
        text.AppendLine($"{"Layer (type)",-NameWidth}{"Output Shape",-ShapeWidth}{"Param #",16}");
        text.AppendLine(doubleRule);
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            text.AppendLine(CultureInfo.InvariantCulture, $"{$"{r.Name} ({r.Kind})",-NameWidth}{ModelView.Shape(r.OutputShape),-ShapeWidth}{r.Parameters.ToString("N0", CultureInfo.InvariantCulture),16}");
            if (i < rows.Count - 1) text.AppendLine();
        }
        text.AppendLine(doubleRule);
        long total = rows.Sum(r => (long)r.Parameters);
        string totalText = total.ToString("N0", CultureInfo.InvariantCulture);
        int bytes = loaded.Metadata.DType == "F64" ? 8 : 4;
        text.AppendLine(CultureInfo.InvariantCulture, $"Total params: {totalText} ({Size(total * bytes)})");
        text.AppendLine(CultureInfo.InvariantCulture, $"Trainable params: {totalText}");
        text.AppendLine("Non-trainable params: 0");
        text.AppendLine(rule);
        text.AppendLine("Counts follow PyTorch's layout: recurrent layers have two bias vectors (bias_ih, bias_hh),");
        text.AppendLine("so an LSTM(1->256) has 4*256*(1+256) + 2*4*256 = 265,216 here; Keras, with one, shows 264,192.");
        if (loaded.Metadata.Training.Count > 0)
        {
            text.AppendLine("Training: " + string.Join(", ", loaded.Metadata.Training.Where(kv => kv.Key != "flags").Select(kv => $"{kv.Key} {kv.Value}")));
            if (loaded.Metadata.Training.TryGetValue("flags", out var flags)) text.AppendLine($"Flags: {flags}");
        }
        return text.ToString();
    }

    /// <summary>Per-sample input shape: from the task when there is one, otherwise an unknown length.</summary>
    internal static int[] InputShape(LoadedModel<float> loaded) => loaded.Metadata.Task is { } task
        ? AdderModels.InputShape(task)
        : [-1, Math.Max(1, loaded.Layers[0].InputFeatures)];

    private static string Size(long bytes) => bytes < 1024 * 1024
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F2} KB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):F2} MB");
}
