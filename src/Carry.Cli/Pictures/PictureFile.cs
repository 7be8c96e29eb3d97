using Carry.Serialization;
using ScottPlot;
using SkiaSharp;

namespace Carry.Cli.Pictures;

/// <summary>One chart and where it goes on the page, in pixels.</summary>
internal readonly record struct Panel(Plot Plot, PixelRect Area);

/// <summary>
/// Writes pictures: one or more ScottPlot charts laid out on a page, as PNG or SVG by the file's
/// extension, replacing the file atomically (a failed write leaves the old one).
/// </summary>
internal static class PictureFile
{
    /// <summary>Throws <see cref="UsageException"/> unless <paramref name="path"/> ends in .png or .svg; call before any work.</summary>
    public static void CheckExtension(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".png" or ".svg")) throw new UsageException($"{path}: pictures are written as .png or .svg (got '{ext}')");
    }

    /// <summary>Writes one chart filling a <paramref name="width"/>×<paramref name="height"/> page.</summary>
    public static void Write(string path, Plot plot, int width, int height) =>
        Write(path, width, height, [new Panel(plot, new PixelRect(0, width, height, 0))]);

    /// <summary>Writes <paramref name="panels"/> on a white <paramref name="width"/>×<paramref name="height"/> page.</summary>
    public static void Write(string path, int width, int height, IReadOnlyList<Panel> panels) => Write(path, width, height, canvas =>
    {
        foreach (var panel in panels)
        {
            // Each chart fills only its own area: ScottPlot would otherwise clear the whole page
            // (and Skia writes that transparent clear as a black SVG rectangle).
            panel.Plot.RenderManager.ClearCanvasBeforeEachRender = false;
            panel.Plot.Render(canvas, panel.Area);
        }
    });

    /// <summary>Writes what <paramref name="draw"/> paints on a white <paramref name="width"/>×<paramref name="height"/> page.</summary>
    public static void Write(string path, int width, int height, Action<SKCanvas> draw)
    {
        CheckExtension(path);
        PictureFonts.Install();
        bool svg = Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase);
        AtomicFile.Write(path, stream =>
        {
            if (svg) WriteSvg(stream, width, height, draw);
            else WritePng(stream, width, height, draw);
        });
    }

    private static void WritePng(Stream stream, int width, int height, Action<SKCanvas> draw)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"no {width}x{height} drawing surface");
        surface.Canvas.Clear(SKColors.White);
        draw(surface.Canvas);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        data.SaveTo(stream);
    }

    private static void WriteSvg(Stream stream, int width, int height, Action<SKCanvas> draw)
    {
        // The SVG canvas writes its closing tag when disposed: dispose it before the stream is closed.
        using var managed = new SKManagedWStream(stream);
        using var canvas = SKSvgCanvas.Create(SKRect.Create(width, height), managed);
        canvas.Clear(SKColors.White);
        draw(canvas);
    }
}
