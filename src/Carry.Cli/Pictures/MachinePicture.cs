using System.Globalization;
using System.Text;
using Carry.Analysis;
using ScottPlot;

namespace Carry.Cli.Pictures;

/// <summary>
/// <c>NAME.explain.svg</c>: the extracted machine (<see cref="MachineSvg"/>) beside the hidden
/// states of random additions on their first two principal components (<see cref="Pca"/>), each
/// point coloured by the machine state it belongs to and each state's region marked by the convex
/// hull of its points.
/// </summary>
internal static class MachinePicture
{
    private const int ChartWidth = 640, ChartHeight = 480;

    /// <summary>Writes the page to <paramref name="path"/> (.svg).</summary>
    public static void Write(string path, MealyMachine machine, string title, StateSample sample, int stateSize, int sequences = 64)
    {
        string left = MachineSvg.Draw(machine, title);
        string right = ChartSvg(Chart(machine, sample, stateSize, sequences));
        var (leftWidth, leftHeight) = Size(left);
        double width = leftWidth + ChartWidth, height = Math.Max(leftHeight, ChartHeight);
        var page = new StringBuilder();
        page.AppendLine(string.Create(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:0}\" height=\"{height:0}\" viewBox=\"0 0 {width:0} {height:0}\">"));
        page.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        page.AppendLine(string.Create(CultureInfo.InvariantCulture, $"<svg x=\"0\" y=\"{(height - leftHeight) / 2:0}\" width=\"{leftWidth:0}\" height=\"{leftHeight:0}\">"));
        page.AppendLine("<g font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"13\">").AppendLine(Inner(left)).AppendLine("</g></svg>");
        page.AppendLine(string.Create(CultureInfo.InvariantCulture, $"<svg x=\"{leftWidth:0}\" y=\"0\" width=\"{ChartWidth}\" height=\"{ChartHeight}\">"));
        page.AppendLine(Inner(right)).AppendLine("</svg>");
        page.AppendLine("</svg>");
        Carry.Serialization.AtomicFile.Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(page.ToString())));
    }

    /// <summary>The projection chart: points by machine state, each state's region as a hull.</summary>
    public static Plot Chart(MealyMachine machine, StateSample sample, int stateSize, int sequences)
    {
        int rows = Math.Min(sequences * sample.Steps, sample.Carries.Length);
        var data = new double[rows, stateSize];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < stateSize; j++) data[i, j] = sample.States[(i * stateSize) + j];
        }
        var pca = Pca.Fit(data, Math.Min(2, stateSize));
        var points = pca.Project(data);
        var labels = sample.Label(machine);
        var names = MachineText.StateNames(machine);
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int q = 0; q < machine.States; q++)
        {
            var mine = Enumerable.Range(0, rows).Where(i => labels[i] == q).Select(i => new Coordinates(points[i, 0], stateSize > 1 ? points[i, 1] : 0)).ToArray();
            if (mine.Length == 0) continue;
            var color = palette.GetColor(q % 10);
            var dots = plot.Add.ScatterPoints(mine.Select(c => c.X).ToArray(), mine.Select(c => c.Y).ToArray(), color.WithAlpha(0.5));
            dots.MarkerSize = 5;
            dots.LegendText = $"{names[q]} ({mine.Length} states)";
            var hull = ConvexHull(mine);
            if (hull.Length < 3) continue;
            var region = plot.Add.Polygon(hull);
            region.FillColor = color.WithAlpha(0.08);
            region.LineColor = color;
            region.LineWidth = 1.5f;
        }
        plot.Title("hidden states of random additions, by machine state");
        plot.XLabel(string.Create(CultureInfo.InvariantCulture, $"PC1 ({100 * pca.ExplainedFraction(0):0.#}% of the variance)"));
        plot.YLabel(stateSize > 1 ? string.Create(CultureInfo.InvariantCulture, $"PC2 ({100 * pca.ExplainedFraction(1):0.#}% of the variance)") : "");
        plot.ShowLegend(Edge.Bottom);
        return plot;
    }

    /// <summary>Andrew's monotone chain: the hull's corners in counter-clockwise order.</summary>
    internal static Coordinates[] ConvexHull(Coordinates[] points)
    {
        var p = points.Distinct().OrderBy(c => c.X).ThenBy(c => c.Y).ToArray();
        if (p.Length < 3) return p;
        var hull = new Coordinates[2 * p.Length];
        int k = 0;
        static double Cross(Coordinates o, Coordinates a, Coordinates b) => ((a.X - o.X) * (b.Y - o.Y)) - ((a.Y - o.Y) * (b.X - o.X));
        for (int i = 0; i < p.Length; i++)
        {
            while (k >= 2 && Cross(hull[k - 2], hull[k - 1], p[i]) <= 0) k--;
            hull[k++] = p[i];
        }
        for (int i = p.Length - 2, lower = k + 1; i >= 0; i--)
        {
            while (k >= lower && Cross(hull[k - 2], hull[k - 1], p[i]) <= 0) k--;
            hull[k++] = p[i];
        }
        return hull[..(k - 1)];
    }

    private static string ChartSvg(Plot plot)
    {
        string temp = Path.Combine(Path.GetTempPath(), $"carry-explain-{Environment.ProcessId}-{Guid.NewGuid():N}.svg");
        try
        {
            PictureFile.Write(temp, plot, ChartWidth, ChartHeight);
            return File.ReadAllText(temp);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>The content of an SVG document between its root element's tags.</summary>
    private static string Inner(string svg)
    {
        int open = svg.IndexOf("<svg", StringComparison.Ordinal);
        int start = svg.IndexOf('>', open) + 1, end = svg.LastIndexOf("</svg>", StringComparison.Ordinal);
        return svg[start..end];
    }

    private static (double Width, double Height) Size(string svg)
    {
        static double Attribute(string svg, string name)
        {
            int at = svg.IndexOf($" {name}=\"", StringComparison.Ordinal) + name.Length + 3;
            return double.Parse(svg[at..svg.IndexOf('"', at)], CultureInfo.InvariantCulture);
        }
        return (Attribute(svg, "width"), Attribute(svg, "height"));
    }
}
