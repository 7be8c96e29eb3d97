using System.Globalization;
using Carry.Analysis;
using Carry.Training;
using ScottPlot;

namespace Carry.Cli.Pictures;

/// <summary>One training run: the name its curves carry in the legend, and its history.</summary>
internal sealed record NamedHistory(string Name, TrainingHistory History);

/// <summary>
/// Training curves: loss on a log scale beside exact-match and bit accuracy, against the history's
/// first column, one colour per run (solid: loss and exact; dashed: val_loss and bit accuracy;
/// dotted: eval_loss, the loss over the training pairs in inference mode after the epoch).
/// </summary>
internal static class CurvesPicture
{
    private const int PanelWidth = 640, Height = 460;

    private static readonly string[] LossColumns = [MetricNames.Loss, MetricNames.ValidationLoss, MetricNames.EvaluationLoss];
    private static readonly string[] AccuracyColumns = [MetricNames.Exact, MetricNames.BitAccuracy];
    private static readonly LinePattern[] Patterns = [LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted];

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
        // ScottPlot draws log axes as log10 of the data, labelled with the values themselves.
        var (lo, hi) = AddSeries(plot, runs, LossColumns, y => y > 0 ? Math.Log10(y) : double.NaN);
        plot.Axes.Left.TickGenerator = LogTicks(lo, hi);
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

    /// <summary>
    /// Ticks for log10-transformed values in [<paramref name="lo"/>, <paramref name="hi"/>]: the
    /// powers of ten, and 2× and 5× them (or every multiple) when the range holds too few powers;
    /// when even every whole multiple gives fewer than three labels (a range such as 1.15 to 2.6),
    /// steps of 0.5, 0.2 or 0.1 times the power of ten, the coarsest that gives three.
    /// </summary>
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double lo, double hi)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var (at, label) in LogTickPlan(lo, hi))
        {
            if (label is null) ticks.AddMinor(at);
            else ticks.AddMajor(at, label);
        }
        return ticks;
    }

    /// <summary>The ticks of <see cref="LogTicks"/>: each position (log10) with its label, or null for a minor tick.</summary>
    internal static List<(double At, string? Label)> LogTickPlan(double lo, double hi)
    {
        var plan = new List<(double At, string? Label)>();
        if (!(lo <= hi)) return plan;
        int decades = (int)Math.Floor(hi) - (int)Math.Ceiling(lo) + 1;
        List<double> labelled = [];
        if (decades >= 3) labelled = Multiples(lo, hi, [1]);
        else if (decades >= 1) labelled = Multiples(lo, hi, [1, 2, 5]);
        else
        {
            foreach (double step in (double[])[1, 0.5, 0.2, 0.1])
            {
                labelled = Multiples(lo, hi, [.. Enumerable.Range(0, (int)Math.Round(9 / step)).Select(i => 1 + (i * step))]);
                if (labelled.Count(at => at >= lo && at <= hi) >= 3) break; // three inside the drawn range, not just its margin
            }
        }
        foreach (double at in labelled) plan.Add((at, Math.Pow(10, at).ToString("g3", CultureInfo.InvariantCulture)));
        for (int k = (int)Math.Floor(lo); k <= (int)Math.Ceiling(hi); k++)
        {
            for (int m = 1; m <= 9; m++)
            {
                double at = k + Math.Log10(m);
                if (at >= lo - 0.05 && at <= hi + 0.05 && !labelled.Exists(l => Math.Abs(l - at) < 1e-9)) plan.Add((at, null));
            }
        }
        return plan;
    }

    /// <summary>log10 of every <c>m × 10^k</c> (m from <paramref name="mantissas"/>) within the range, with a little margin.</summary>
    private static List<double> Multiples(double lo, double hi, double[] mantissas)
    {
        var list = new List<double>();
        for (int k = (int)Math.Floor(lo); k <= (int)Math.Ceiling(hi); k++)
        {
            foreach (double m in mantissas)
            {
                double at = k + Math.Log10(m);
                if (at >= lo - 0.05 && at <= hi + 0.05) list.Add(at);
            }
        }
        return list;
    }

    /// <summary>
    /// One line per (run, column) present; missing and non-finite points are left out, not drawn
    /// as zero. Returns the smallest and largest value drawn (NaN, NaN when none).
    /// </summary>
    private static (double Low, double High) AddSeries(Plot plot, IReadOnlyList<NamedHistory> runs, string[] columns, Func<double, double> transform)
    {
        var palette = new ScottPlot.Palettes.Category10();
        double low = double.NaN, high = double.NaN;
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
                    low = double.IsNaN(low) ? y : Math.Min(low, y);
                    high = double.IsNaN(high) ? y : Math.Max(high, y);
                }
                if (xs.Count == 0) continue;
                var line = plot.Add.ScatterLine(xs.ToArray(), kept.ToArray(), palette.GetColor(r));
                line.LineWidth = 2;
                line.LinePattern = Patterns[k];
                if (xs.Count < 30) line.MarkerSize = 5;
                line.LegendText = runs.Count == 1 ? columns[k] : $"{runs[r].Name} {columns[k]}";
            }
        }
        return (low, high);
    }
}
