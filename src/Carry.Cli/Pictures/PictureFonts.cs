using ScottPlot;
using SkiaSharp;

namespace Carry.Cli.Pictures;

/// <summary>
/// The one typeface every picture draws its text with: DejaVu Sans, shipped inside this assembly
/// (licence beside it in Pictures/Fonts), so that text renders on a machine with no fonts and no
/// fontconfig — SkiaSharp's NoDependencies build finds no system fonts at all.
/// </summary>
internal sealed class PictureFonts : IFontResolver
{
    /// <summary>The family name pictures ask for.</summary>
    public const string Family = "DejaVu Sans";

    private static readonly Lazy<SKTypeface> Typeface = new(Load);
    private static readonly Lock Gate = new();
    private static bool _installed;

    private PictureFonts()
    {
    }

    /// <summary>The embedded typeface.</summary>
    public static SKTypeface Sans => Typeface.Value;

    /// <summary>
    /// Registers the embedded typeface with ScottPlot (its font resolvers are process-wide) and
    /// makes it the default; idempotent.
    /// </summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (_installed) return;
            ScottPlot.Fonts.FontResolvers.Insert(0, new PictureFonts());
            ScottPlot.Fonts.Default = Family;
            ScottPlot.Fonts.Sans = Family;
            _installed = true;
        }
    }

    /// <summary>Every name resolves to the embedded face: there is no other one to find.</summary>
    public SKTypeface CreateTypeface(string fontName, bool bold, bool italic) => Sans;

    /// <inheritdoc cref="CreateTypeface(string, bool, bool)"/>
    public SKTypeface CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing width) => Sans;

    private static SKTypeface Load()
    {
        using var stream = typeof(PictureFonts).Assembly.GetManifestResourceStream("Carry.Cli.DejaVuSans.ttf")
            ?? throw new InvalidOperationException("the embedded font Carry.Cli.DejaVuSans.ttf is missing from the build");
        return SKTypeface.FromStream(stream) ?? throw new InvalidOperationException("the embedded font could not be read");
    }
}
