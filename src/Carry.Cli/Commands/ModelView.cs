using Carry.Layers;

namespace Carry.Cli.Commands;

/// <summary>One layer as <c>summary</c> and <c>plot</c> show it.</summary>
/// <param name="Name">Keras-style name: <c>lstm</c>, <c>dropout</c>, <c>dense</c>, <c>lstm_1</c> for a second LSTM.</param>
/// <param name="Kind">Class name: <c>LSTM</c>, <c>Dense</c>, <c>Bidirectional(LSTM)</c>, ...</param>
/// <param name="InputShape">Per-sample input shape (no batch); -1 for an unknown length.</param>
/// <param name="OutputShape">Per-sample output shape (no batch).</param>
/// <param name="Parameters">Trainable scalars (PyTorch's count: two bias vectors per recurrent layer).</param>
internal sealed record LayerRow(string Name, string Kind, int[] InputShape, int[] OutputShape, int Parameters);

/// <summary>Layer names, kinds and shapes of a model, as Keras's <c>summary()</c> and <c>plot_model</c> show them.</summary>
internal static class ModelView
{
    /// <summary>The rows for <paramref name="model"/> fed per-sample inputs of <paramref name="inputShape"/>.</summary>
    public static IReadOnlyList<LayerRow> Rows(Sequential<float> model, int[] inputShape)
    {
        var rows = new List<LayerRow>();
        var seen = new Dictionary<string, int>();
        int[] shape = inputShape;
        foreach (var layer in model.Layers)
        {
            var (baseName, kind) = Describe(layer.Spec);
            int k = seen.TryGetValue(baseName, out var c) ? c : 0;
            seen[baseName] = k + 1;
            string name = k == 0 ? baseName : $"{baseName}_{k}";
            int[] output = layer.OutputShape(shape);
            rows.Add(new LayerRow(name, kind, shape, output, layer.ParameterCount));
            shape = output;
        }
        return rows;
    }

    /// <summary>Keras's shape text with the batch axis: <c>(None, 16, 1)</c>.</summary>
    public static string Shape(int[] perSample) => "(" + string.Join(", ", new[] { "None" }.Concat(perSample.Select(d => d < 0 ? "None" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))) + ")";

    /// <summary>A one-line description: <c>LSTM(1→256) → Dropout(0.2) → Dense(256→9, sigmoid)</c>.</summary>
    public static string Chain(Sequential<float> model) => string.Join(" -> ", model.Layers.Select(l => Short(l.Spec)));

    private static string Short(LayerSpec s) => s.Kind switch
    {
        LayerKinds.Dropout => $"Dropout({TrainSettings.Format(s.Rate)})",
        LayerKinds.Dense => $"Dense({s.InputSize}->{s.Units}, {s.Activation ?? "linear"})",
        LayerKinds.Bidirectional => $"Bidirectional({Short(s.Inner!)})",
        _ => $"{Describe(s).Kind}({s.InputSize}->{s.Units}{(s.ReturnSequences ? ", sequences" : "")})",
    };

    private static (string Name, string Kind) Describe(LayerSpec s) => s.Kind switch
    {
        LayerKinds.Lstm => ("lstm", "LSTM"),
        LayerKinds.Gru => ("gru", "GRU"),
        LayerKinds.Elman => ("simple_rnn", "SimpleRNN"),
        LayerKinds.Jordan => ("jordan", "Jordan"),
        LayerKinds.Dense => ("dense", "Dense"),
        LayerKinds.Dropout => ("dropout", "Dropout"),
        LayerKinds.Embedding => ("embedding", "Embedding"),
        LayerKinds.Bidirectional => ("bidirectional", $"Bidirectional({Describe(s.Inner!).Kind})"),
        _ => (s.Kind, s.Kind),
    };
}
