using Carry.Cli.Pictures;
using SkiaSharp;

namespace Carry.Cli.Commands;

/// <summary>
/// Draws a model as Keras's <c>plot_model(model, show_shapes=True)</c> does: a vertical chain of
/// boxes, an input box first, each box <c>name: Kind | input: (None, 16, 1) | output: (None, 256)</c>,
/// joined by arrows. Painted with SkiaSharp in the embedded font; PNG or SVG by extension.
/// </summary>
internal static class ModelDiagram
{
    private const float FontSize = 14, Pad = 10, Gap = 36, Margin = 20;

    /// <summary>Writes the diagram to <paramref name="path"/>: <c>.svg</c> or <c>.png</c> by extension.</summary>
    public static void Write(string path, IReadOnlyList<LayerRow> rows, string modelName)
    {
        PictureFile.CheckExtension(path);
        PictureFonts.Install();
        var boxes = Boxes(rows, modelName);
        using var font = new SKFont(PictureFonts.Sans, FontSize);
        var l = Layout.For(boxes, font);
        PictureFile.Write(path, (int)Math.Ceiling(l.Width), (int)Math.Ceiling(l.Height), canvas => Draw(canvas, boxes, l, font));
    }

    /// <summary>One box: the left label and the input/output shapes on the right.</summary>
    private readonly record struct Box(string Label, string Input, string Output);

    private static List<Box> Boxes(IReadOnlyList<LayerRow> rows, string modelName)
    {
        var boxes = new List<Box>();
        if (rows.Count > 0)
        {
            string shape = ModelView.Shape(rows[0].InputShape);
            boxes.Add(new Box($"{modelName}_input: InputLayer", $"[{shape}]", $"[{shape}]"));
        }
        foreach (var r in rows) boxes.Add(new Box($"{r.Name}: {r.Kind}", ModelView.Shape(r.InputShape), ModelView.Shape(r.OutputShape)));
        return boxes;
    }

    /// <summary>Column widths from the widest measured texts; box height from the font's line height.</summary>
    private sealed record Layout(float LabelWidth, float KeyWidth, float ValueWidth, float BoxHeight, int Count)
    {
        public float BoxWidth => LabelWidth + KeyWidth + ValueWidth;

        public float Width => BoxWidth + (2 * Margin);

        public float Height => (2 * Margin) + (Count * BoxHeight) + ((Count - 1) * Gap);

        public float Top(int index) => Margin + (index * (BoxHeight + Gap));

        public static Layout For(List<Box> boxes, SKFont font)
        {
            float Widest(IEnumerable<string> texts) => texts.Max(t => font.MeasureText(t)) + (2 * Pad);
            return new Layout(
                Widest(boxes.Select(b => b.Label)),
                Widest(["output:"]),
                Widest(boxes.SelectMany(b => new[] { b.Input, b.Output })),
                2 * (font.Spacing + Pad),
                boxes.Count);
        }
    }

    private static void Draw(SKCanvas canvas, List<Box> boxes, Layout l, SKFont font)
    {
        using var stroke = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = 1, IsAntialias = true };
        using var fill = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Fill, IsAntialias = true };
        float x0 = Margin, x1 = x0 + l.LabelWidth, x2 = x1 + l.KeyWidth, x3 = x2 + l.ValueWidth, cx = x0 + (l.BoxWidth / 2);
        for (int i = 0; i < boxes.Count; i++)
        {
            var b = boxes[i];
            float top = l.Top(i), half = l.BoxHeight / 2, bottom = top + l.BoxHeight;
            canvas.DrawRect(x0, top, l.BoxWidth, l.BoxHeight, stroke);
            canvas.DrawLine(x1, top, x1, bottom, stroke);
            canvas.DrawLine(x2, top, x2, bottom, stroke);
            canvas.DrawLine(x1, top + half, x3, top + half, stroke);
            void Centered(string text, float left, float right, float middle)
            {
                // Baseline so that the text's cap height sits centred on `middle`.
                float baseline = middle + ((font.Metrics.CapHeight) / 2);
                canvas.DrawText(text, (left + right) / 2, baseline, SKTextAlign.Center, font, fill);
            }
            Centered(b.Label, x0, x1, top + half);
            Centered("input:", x1, x2, top + (half / 2));
            Centered(b.Input, x2, x3, top + (half / 2));
            Centered("output:", x1, x2, top + half + (half / 2));
            Centered(b.Output, x2, x3, top + half + (half / 2));
            if (i < boxes.Count - 1) Arrow(canvas, cx, bottom, l.Top(i + 1), stroke, fill);
        }
    }

    /// <summary>A vertical arrow from <paramref name="from"/> down to <paramref name="to"/>, its head touching the next box.</summary>
    private static void Arrow(SKCanvas canvas, float x, float from, float to, SKPaint stroke, SKPaint fill)
    {
        const float Head = 8;
        canvas.DrawLine(x, from, x, to - Head, stroke);
        using var head = new SKPath();
        head.MoveTo(x - (Head / 2), to - Head);
        head.LineTo(x + (Head / 2), to - Head);
        head.LineTo(x, to);
        head.Close();
        canvas.DrawPath(head, fill);
    }
}
