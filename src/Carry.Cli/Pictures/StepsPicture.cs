using System.Globalization;
using System.Numerics;
using Carry.Analysis;
using ScottPlot;

namespace Carry.Cli.Pictures;

/// <summary>
/// One addition inside a model: a heat map per traced quantity (units down, steps across), and
/// beneath them the operands' bits, the true carry, the target and the model's output, by bit
/// position. For the aligned encoding bit position t is step t; for concat the model reads a's
/// bits then b's (most significant first) and answers every sum bit after the last step.
/// </summary>
internal static class StepsPicture
{
    private const int PanelWidth = 420, Columns = 3, BitsHeight = 230;

    /// <summary>What one traced addition shows.</summary>
    /// <param name="Trace">The trace of one sample (batch 1).</param>
    /// <param name="LayerNames">Display name per model layer index.</param>
    /// <param name="Aligned">True for the aligned encoding, false for concat.</param>
    /// <param name="Bits">Operand width.</param>
    /// <param name="A">First operand.</param>
    /// <param name="B">Second operand.</param>
    internal sealed record Addition(StateTrace Trace, IReadOnlyList<string> LayerNames, bool Aligned, int Bits, BigInteger A, BigInteger B);

    /// <summary>Draws <paramref name="addition"/> to <paramref name="path"/> (.png or .svg).</summary>
    public static void Write(string path, Addition addition)
    {
        var quantities = addition.Trace.Quantities;
        int columns = Math.Min(Columns, quantities.Count), rows = (quantities.Count + columns - 1) / columns;
        int units = quantities.Max(q => q.Width);
        int panelHeight = Math.Clamp(90 + (units * 12), 220, 420);
        int width = Math.Max(columns * PanelWidth, 2 * PanelWidth), height = (rows * panelHeight) + BitsHeight;
        var panels = new List<Panel>();
        for (int i = 0; i < quantities.Count; i++)
        {
            int x = (i % columns) * PanelWidth, y = (i / columns) * panelHeight;
            panels.Add(new Panel(HeatMap(quantities[i], addition), new PixelRect(x, x + PanelWidth, y + panelHeight, y)));
        }
        int top = rows * panelHeight;
        panels.Add(new Panel(BitsPlot(addition), new PixelRect(0, width, top + BitsHeight, top)));
        PictureFile.Write(path, width, height, panels);
    }

    private static Plot HeatMap(TracedQuantity q, Addition addition)
    {
        int steps = q.Values.Dim(1), units = q.Width;
        var data = new double[units, steps];
        double largest = 1e-6, smallest = 0;
        for (int t = 0; t < steps; t++)
        {
            for (int j = 0; j < units; j++)
            {
                data[j, t] = q.Values[0, t, j];
                largest = Math.Max(largest, Math.Abs(data[j, t]));
                smallest = Math.Min(smallest, data[j, t]);
            }
        }
        var plot = new Plot();
        var map = plot.Add.Heatmap(data);
        map.Extent = new CoordinateRect(-0.5, steps - 0.5, -0.5, units - 0.5);
        // Non-negative values (sigmoid gates and states) on a sequential scale from 0 (to 1 at least);
        // signed ones (tanh states, the candidate g, the cell) on a diverging scale centred on 0.
        bool signed = smallest < 0;
        map.Colormap = signed ? new ScottPlot.Colormaps.Balance() : new ScottPlot.Colormaps.Viridis();
        map.ManualRange = signed ? new ScottPlot.Range(-largest, largest) : new ScottPlot.Range(0, Math.Max(1, largest));
        plot.Add.ColorBar(map);
        plot.Title($"{addition.LayerNames[q.Layer]}: {Describe(q.Name)}");
        plot.XLabel(addition.Aligned ? "step = bit position (LSB first)" : "step: the operand bit it reads (MSB first)");
        plot.YLabel("unit");
        plot.Axes.SetLimits(-0.5, steps - 0.5, units - 0.5, -0.5); // unit 0 at the top
        plot.Axes.Bottom.TickGenerator = addition.Aligned ? IntegerTicks(steps) : OperandTicks(addition.Bits);
        return plot;
    }

    /// <summary>The quantity's name without a bidirectional prefix: <c>h</c> of <c>backward h</c>.</summary>
    private static string Core(string name) => name[(name.LastIndexOf(' ') + 1)..];

    private static string Describe(string name)
    {
        string core = Core(name);
        return name[..^core.Length] + core switch
        {
            StateTrace.Hidden => "hidden state h",
            StateTrace.Cell => "cell state c",
            StateTrace.JordanOutput => "output y (fed back)",
            "i" => "input gate i",
            "f" => "forget gate f",
            "g" => "candidate g",
            "o" => "output gate o",
            _ => core,
        };
    }

    /// <summary>Rows a, b, carry in, target, output by bit position: LSB first for aligned (= steps), MSB first for concat (= output order).</summary>
    private static Plot BitsPlot(Addition addition)
    {
        int positions = addition.Bits + 1;
        var carries = Carries.Into(addition.A, addition.B, positions);
        var sum = addition.A + addition.B;
        var output = addition.Trace.Output.Span; // aligned [1, T, 1]; concat [1, bits+1] MSB first
        string[] names = ["a", "b", "carry in", "target (a+b)", "output"];
        var data = new double[names.Length, positions];
        for (int c = 0; c < positions; c++)
        {
            int k = addition.Aligned ? c : positions - 1 - c; // bit position shown in column c
            data[0, c] = (double)((addition.A >> k) & 1);
            data[1, c] = (double)((addition.B >> k) & 1);
            data[2, c] = carries[k];
            data[3, c] = (double)((sum >> k) & 1);
            data[4, c] = output[c];
        }
        var plot = new Plot();
        var map = plot.Add.Heatmap(data);
        map.Extent = new CoordinateRect(-0.5, positions - 0.5, -0.5, names.Length - 0.5);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        map.ManualRange = new ScottPlot.Range(0, 1);
        if (positions <= 40)
        {
            for (int r = 0; r < names.Length; r++)
            {
                for (int c = 0; c < positions; c++)
                {
                    string text = r == 4 ? data[r, c].ToString("0.00", CultureInfo.InvariantCulture) : data[r, c].ToString("0", CultureInfo.InvariantCulture);
                    var label = plot.Add.Text(text, c, r);
                    label.Alignment = Alignment.MiddleCenter;
                    label.LabelFontColor = data[r, c] > 0.5 ? Colors.Black : Colors.White;
                    label.LabelFontSize = 12;
                }
            }
        }
        plot.Title($"{addition.A} + {addition.B} = {sum}: operand bits, true carry, target and output by bit position");
        plot.XLabel(addition.Aligned ? "bit position = step (LSB first)" : "bit position (MSB first, as the model outputs the sum after its last step)");
        plot.Axes.SetLimits(-0.5, positions - 0.5, names.Length - 0.5, -0.5);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, names.Length).Select(r => (double)r).ToArray(), names);
        plot.Axes.Bottom.TickGenerator = addition.Aligned
            ? IntegerTicks(positions)
            : new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, positions).Select(c => (double)c).ToArray(), Enumerable.Range(0, positions).Select(c => (positions - 1 - c).ToString(CultureInfo.InvariantCulture)).ToArray());
        return plot;
    }

    /// <summary>Concat steps labelled by the bit they read: a7 … a0, then b7 … b0.</summary>
    private static ScottPlot.TickGenerators.NumericManual OperandTicks(int bits)
    {
        int every = Math.Max(1, (int)Math.Ceiling(2 * bits / 24.0));
        var at = Enumerable.Range(0, 2 * bits).Where(t => t % every == 0).ToArray();
        return new ScottPlot.TickGenerators.NumericManual(
            at.Select(t => (double)t).ToArray(),
            at.Select(t => t < bits ? $"a{bits - 1 - t}" : $"b{(2 * bits) - 1 - t}").ToArray());
    }

    /// <summary>Ticks at whole numbers 0..count-1 (every one while they fit, then every few).</summary>
    internal static ScottPlot.TickGenerators.NumericManual IntegerTicks(int count)
    {
        int every = Math.Max(1, (int)Math.Ceiling(count / 20.0));
        var at = Enumerable.Range(0, count).Where(i => i % every == 0).Select(i => (double)i).ToArray();
        return new ScottPlot.TickGenerators.NumericManual(at, at.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray());
    }
}
