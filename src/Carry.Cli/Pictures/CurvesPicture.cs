using System.Globalization;
using Carry.Analysis;
using ScottPlot;

namespace Carry.Cli.Pictures;

/// <summary>One training run: the name its curves carry in the legend, and its history.</summary>
internal sealed record NamedHistory(string Name, TrainingHistory History);

/// <summary>
/// Training curves: loss on a log scale beside exact-match and bit accuracy, against the history's
/// first column, one colour per run (solid: loss and exact; dashed: val_loss and bit accuracy).
/// </summary>
internal static class CurvesPicture
{
    private const int PanelWidth = 640, Height = 460;

    private static readonly string[] LossColumns = [TrainingHistory.Loss, TrainingHistory.ValidationLoss];
    private static readonly string[] AccuracyColumns = [TrainingHistory.Exact, TrainingHistory.BitAccuracy];

    /// <summary>Draws <paramref name="runs"/> to <paramref name="path"/> (.png or .svg).</summary>
    public static void Write(string path, IReadOnlyList<NamedHistory> runs)
    {
        foreach (var run in runs)
        {
            if (!LossColumns.Concat(AccuracyColumns).Any(c => run.History.Column(c) is not null))
            {
                throw new UsageException($"{run.Name}: none of the columns {string.Join(", ", LossColumns.Concat(AccuracyColumns))} to draw");
            }
        }
        var panels = new List<Plot>();
        if (runs.Any(r => LossColumns.Any(c => r.History.Column(c) is not null))) panels.Add(LossPlot(runs));
        if (runs.Any(r => AccuracyColumns.Any(c => r.History.Column(c) is not null))) panels.Add(AccuracyPlot(runs));
        var laid = panels.Select((p, i) => new Panel(p, new PixelRect(i * PanelWidth, (i + 1) * PanelWidth, Height, 0))).ToList();
        PictureFile.Write(path, panels.Count * PanelWidth, Height, laid);
    }

    private static Plot LossPlot(IReadOnlyList<NamedHistory> runs)
    {
        var plot = NewPlot(runs, "Loss", "loss (log scale)");
        // ScottPlot draws log axes as log10 of the data with tick labels 10^k.
        AddSeries(plot, runs, LossColumns, y => y > 0 ? Math.Log10(y) : double.NaN);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("g3", CultureInfo.InvariantCulture),
        };
        plot.Grid.MinorLineWidth = 1;
        return plot;
    }

    private static Plot AccuracyPlot(IReadOnlyList<NamedHistory> runs)
    {
        var plot = NewPlot(runs, "Accuracy on the training pairs", "fraction right (solid: exact sums, dashed: bits)");
        AddSeries(plot, runs, AccuracyColumns, y => y);
        plot.Axes.SetLimitsY(-0.02, 1.02);
        plot.Legend.Alignment = Alignment.LowerRight; // accuracy rises: the lower right is where it is not
        return plot;
    }

    private static Plot NewPlot(IReadOnlyList<NamedHistory> runs, string title, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.YLabel(yLabel);
        var xNames = runs.Select(r => r.History.XName).Distinct(StringComparer.Ordinal);
        plot.XLabel(string.Join(" / ", xNames));
        plot.Legend.Alignment = Alignment.UpperRight;
        return plot;
    }

    /// <summary>One line per (run, column) present; missing and non-finite points are left out, not drawn as zero.</summary>
    private static void AddSeries(Plot plot, IReadOnlyList<NamedHistory> runs, string[] columns, Func<double, double> transform)
    {
        var palette = new ScottPlot.Palettes.Category10();
        for (int r = 0; r < runs.Count; r++)
        {
            for (int k = 0; k < columns.Length; k++)
            {
                if (runs[r].History.Column(columns[k]) is not { } ys) continue;
                var xs = new List<double>();
                var kept = new List<double>();
                for (int i = 0; i < ys.Count; i++)
                {
                    double y = transform(ys[i]);
                    if (!double.IsFinite(y)) continue;
                    xs.Add(runs[r].History.X[i]);
                    kept.Add(y);
                }
                if (xs.Count == 0) continue;
                var line = plot.Add.ScatterLine(xs.ToArray(), kept.ToArray(), palette.GetColor(r));
                line.LineWidth = 2;
                line.LinePattern = k == 0 ? LinePattern.Solid : LinePattern.Dashed;
                if (xs.Count < 30) line.MarkerSize = 5;
                line.LegendText = runs.Count == 1 ? columns[k] : $"{runs[r].Name} {columns[k]}";
            }
        }
    }
}
