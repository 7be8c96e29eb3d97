using System.Globalization;
using System.Security;
using System.Text;

namespace Carry.Analysis;

/// <summary>
/// Draws a machine as SVG without a layout engine: states on a circle (two states side by side),
/// a transition between two states as a quadratic curve bent to its right (so the two directions
/// part), a self-loop as a loop pointing away from the centre, labels <c>a,b / sum</c> beside each.
/// </summary>
public static class MachineSvg
{
    private const double Radius = 38, LabelLine = 16;

    /// <summary>The picture, <paramref name="title"/> at the top.</summary>
    public static string Draw(MealyMachine machine, string title)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var names = MachineText.StateNames(machine);
        int n = machine.States;
        double ring = n == 1 ? 0 : Math.Max(150, n * 60 / Math.PI);
        double size = (2 * ring) + 360;
        double height = n <= 2 ? 360 : size; // states side by side need no more than the loops above and the curves between
        double cx = size / 2, cy = n <= 2 ? 220 : (size / 2) + 20;
        var at = new (double X, double Y)[n];
        for (int q = 0; q < n; q++)
        {
            double angle = Math.PI + (2 * Math.PI * q / n); // state 0 on the left
            at[q] = (cx + (ring * Math.Cos(angle)), cy + (ring * Math.Sin(angle)));
        }
        var svg = new StringBuilder();
        svg.AppendLine(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size:0}\" height=\"{height:0}\" viewBox=\"0 0 {size:0} {height:0}\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"13\">"));
        svg.AppendLine("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#333\"/></marker></defs>");
        svg.AppendLine(F($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"));
        svg.AppendLine(F($"<text x=\"{cx:0}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">{Escape(title)}</text>"));
        // Start arrow into state 0, from the left.
        svg.AppendLine(F($"<line x1=\"{at[0].X - Radius - 50:0.#}\" y1=\"{at[0].Y:0.#}\" x2=\"{at[0].X - Radius:0.#}\" y2=\"{at[0].Y:0.#}\" stroke=\"#333\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>"));
        svg.AppendLine(F($"<text x=\"{at[0].X - Radius - 52:0.#}\" y=\"{at[0].Y - 6:0.#}\" font-size=\"11\">start</text>"));
        foreach (var (from, to, labels) in MachineText.Edges(machine))
        {
            if (from == to) SelfLoop(svg, at[from], (cx, cy), labels);
            else Curve(svg, at[from], at[to], labels);
        }
        for (int q = 0; q < n; q++)
        {
            svg.AppendLine(F($"<circle cx=\"{at[q].X:0.#}\" cy=\"{at[q].Y:0.#}\" r=\"{Radius}\" fill=\"#e8f0fe\" stroke=\"#1a4f9c\" stroke-width=\"2\"/>"));
            svg.AppendLine(F($"<text x=\"{at[q].X:0.#}\" y=\"{at[q].Y + 5:0.#}\" text-anchor=\"middle\" font-weight=\"bold\">{Escape(names[q])}</text>"));
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static void Curve(StringBuilder svg, (double X, double Y) a, (double X, double Y) b, List<string> labels)
    {
        double dx = b.X - a.X, dy = b.Y - a.Y, length = Math.Sqrt((dx * dx) + (dy * dy));
        double ux = dx / length, uy = dy / length, nx = uy, ny = -ux; // normal to the right of travel in screen coordinates... bent one way per direction
        double bend = 0.25 * length;
        double mx = ((a.X + b.X) / 2) + (nx * bend), my = ((a.Y + b.Y) / 2) + (ny * bend);
        var start = Toward(a, (mx, my), Radius);
        var end = Toward(b, (mx, my), Radius);
        svg.AppendLine(F($"<path d=\"M {start.X:0.#} {start.Y:0.#} Q {mx:0.#} {my:0.#} {end.X:0.#} {end.Y:0.#}\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>"));
        // The curve's midpoint is halfway to the control point; labels stack outward from there.
        double lx = ((a.X + b.X) / 2) + (nx * bend / 2), ly = ((a.Y + b.Y) / 2) + (ny * bend / 2);
        double top = ny < 0 ? ly - 8 - ((labels.Count - 1) * LabelLine) : ly + 18;
        Labels(svg, lx, top, labels);
    }

    private static void SelfLoop(StringBuilder svg, (double X, double Y) p, (double X, double Y) centre, List<string> labels)
    {
        double dx = p.X - centre.X, dy = p.Y - centre.Y, length = Math.Sqrt((dx * dx) + (dy * dy));
        double ux = length > 0 ? dx / length : 0, uy = length > 0 ? dy / length : -1; // outward
        if (length > 0 && Math.Abs(uy) < 0.5)
        {
            ux = 0; // two states side by side: loops above, labels readable
            uy = -1;
        }
        double side = 0.45; // radians either side of the outward direction
        double angle = Math.Atan2(uy, ux);
        var s = (X: p.X + (Radius * Math.Cos(angle - side)), Y: p.Y + (Radius * Math.Sin(angle - side)));
        var e = (X: p.X + (Radius * Math.Cos(angle + side)), Y: p.Y + (Radius * Math.Sin(angle + side)));
        double reach = 3.6 * Radius;
        var c1 = (X: p.X + (reach * Math.Cos(angle - (1.3 * side))), Y: p.Y + (reach * Math.Sin(angle - (1.3 * side))));
        var c2 = (X: p.X + (reach * Math.Cos(angle + (1.3 * side))), Y: p.Y + (reach * Math.Sin(angle + (1.3 * side))));
        svg.AppendLine(F($"<path d=\"M {s.X:0.#} {s.Y:0.#} C {c1.X:0.#} {c1.Y:0.#} {c2.X:0.#} {c2.Y:0.#} {e.X:0.#} {e.Y:0.#}\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>"));
        double lx = p.X + (ux * 2.95 * Radius), ly = p.Y + (uy * 2.95 * Radius);
        double top = uy < 0 ? ly - 6 - ((labels.Count - 1) * LabelLine) : ly + 14;
        Labels(svg, lx, top, labels);
    }

    private static void Labels(StringBuilder svg, double x, double top, List<string> labels)
    {
        for (int i = 0; i < labels.Count; i++)
        {
            svg.AppendLine(F($"<text x=\"{x:0.#}\" y=\"{top + (i * LabelLine):0.#}\" text-anchor=\"middle\" fill=\"#222\">{Escape(labels[i])}</text>"));
        }
    }

    private static (double X, double Y) Toward((double X, double Y) from, (double X, double Y) to, double distance)
    {
        double dx = to.X - from.X, dy = to.Y - from.Y, length = Math.Sqrt((dx * dx) + (dy * dy));
        return (from.X + (dx / length * distance), from.Y + (dy / length * distance));
    }

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
