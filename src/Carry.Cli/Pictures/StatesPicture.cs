using System.Globalization;
using Carry.Analysis;
using ScottPlot;

namespace Carry.Cli.Pictures;

/// <summary>
/// Hidden states of many additions, every step of every sample one point on the first two
/// principal components. Aligned models: coloured by the true carry into the step, the one bit
/// an adder must remember. Concat models (no carry per step: a's bits, then b's): coloured by
/// step, circles while reading a and triangles while reading b.
/// </summary>
internal static class StatesPicture
{
    private const int Width = 820, Height = 640;

    /// <summary>What one projection shows.</summary>
    /// <param name="Projection">The projected states <c>[B·T, 2]</c>.</param>
    /// <param name="Title">The chart's title (model and quantity).</param>
    /// <param name="CarryIn">Aligned: the true carry into each step <c>[B][T]</c>; null for concat.</param>
    internal sealed record States(ProjectedStates Projection, string Title, int[][]? CarryIn);

    /// <summary>Draws <paramref name="states"/> to <paramref name="path"/> (.png or .svg).</summary>
    public static void Write(string path, States states) => PictureFile.Write(path, Chart(states), Width, Height);

    /// <summary>The chart alone, for pages that lay out several.</summary>
    public static Plot Chart(States states)
    {
        var plot = new Plot();
        var p = states.Projection;
        if (states.CarryIn is { } carries) ByCarry(plot, p, carries);
        else ByStep(plot, p);
        plot.Title(states.Title);
        plot.XLabel(Axis(p, 0));
        plot.YLabel(p.Pca.Components.GetLength(0) > 1 ? Axis(p, 1) : "(one unit: no second component)");
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    private static string Axis(ProjectedStates p, int k) =>
        string.Create(CultureInfo.InvariantCulture, $"PC{k + 1} ({100 * p.Pca.ExplainedFraction(k):0.#}% of the variance)");

    private static (double[] X, double[] Y) Points(ProjectedStates p, Func<int, int, bool> keep)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        bool twoD = p.Points.GetLength(1) > 1;
        for (int b = 0; b < p.Samples; b++)
        {
            for (int t = 0; t < p.Steps; t++)
            {
                if (!keep(b, t)) continue;
                xs.Add(p.Points[p.Row(b, t), 0]);
                ys.Add(twoD ? p.Points[p.Row(b, t), 1] : 0);
            }
        }
        return (xs.ToArray(), ys.ToArray());
    }

    private static void ByCarry(Plot plot, ProjectedStates p, int[][] carries)
    {
        var palette = new ScottPlot.Palettes.Category10();
        for (int carry = 0; carry <= 1; carry++)
        {
            var (xs, ys) = Points(p, (b, t) => carries[b][t] == carry);
            if (xs.Length == 0) continue;
            var dots = plot.Add.ScatterPoints(xs, ys, palette.GetColor(carry).WithAlpha(0.55));
            dots.MarkerSize = 6;
            dots.LegendText = $"carry into the step = {carry}";
        }
    }

    private static void ByStep(Plot plot, ProjectedStates p)
    {
        var colormap = new ScottPlot.Colormaps.Viridis();
        int operandSteps = p.Steps / 2; // concat: a's bits at steps 0..n-1, b's at n..2n-1, most significant first
        for (int t = 0; t < p.Steps; t++)
        {
            int step = t;
            var (xs, ys) = Points(p, (_, s) => s == step);
            var color = colormap.GetColor(p.Steps == 1 ? 0 : 0.85 * t / (p.Steps - 1)); // stop short of Viridis's palest yellow
            var dots = plot.Add.ScatterPoints(xs, ys, color.WithAlpha(0.5));
            dots.MarkerSize = 6;
            dots.MarkerShape = t < operandSteps ? MarkerShape.FilledCircle : MarkerShape.FilledTriangleUp;
            string label = t < operandSteps ? $"a{operandSteps - 1 - t}" : $"b{(2 * operandSteps) - 1 - t}";
            dots.LegendText = $"step {t}: reads {label}";
        }
    }
}
