using System.Buffers.Binary;
using System.Text;
using System.Xml.Linq;
using Carry.Analysis;
using Carry.Training;

namespace Carry.Tests;

/// <summary>
/// The history reader, and the picture verbs: <c>plot --history</c> and <c>inspect</c> write a
/// PNG that decodes or an SVG that parses with its text in it, and answer bad input with one line
/// and exit code 2.
/// </summary>
[Collection("Console")]
public sealed class PictureCliTests : IDisposable
{
    /// <summary>A log axis over less than a decade (char-rnn's 1.15 to 2.6 nats) still gets at least three labels.</summary>
    [Theory]
    [InlineData(1.15, 2.6, new[] { "1.5", "2", "2.5" })]
    [InlineData(0.0003, 0.52, new[] { "0.001", "0.01", "0.1" })]
    [InlineData(4.15, 5.9, new[] { "4", "4.5", "5", "5.5", "6", "6.5" })]
    [InlineData(0.11, 0.95, new[] { "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1" })]
    public void GivenALossRange_WhenTheLogAxisIsTicked_ThenTheLabelsAreThePlainValuesInIt(double low, double high, string[] expected)
    {
        var major = Cli.Pictures.CurvesPicture.LogTickPlan(Math.Log10(low), Math.Log10(high)).Where(t => t.Label is not null).ToArray();
        Assert.Equal(expected, major.Select(t => t.Label).ToArray());
        Assert.All(major, t => Assert.InRange(t.At, Math.Log10(low) - 0.05, Math.Log10(high) + 0.05));
    }

    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-pictures-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private string WriteFile(string name, string text)
    {
        string path = PathOf(name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string GoodHistory = "epoch,loss,exact,bit_accuracy,lr,seconds,grad_norm\n1,0.69,0.01,0.52,0.006,1.5,3\n2,0.31,,0.81,0.00558,3.0,2\n3,0.05,0.9,0.99,0.0052,4.5,1\n";

    [Fact]
    public void GivenAHistoryWithAnUnknownColumnAndAnEmptyCell_WhenRead_ThenColumnsAreByNameAndTheGapIsNaN()
    {
        var history = TrainingHistory.Parse(new StringReader(GoodHistory), "h.csv");

        Assert.Equal("epoch", history.XName);
        Assert.Equal([1.0, 2, 3], history.X);
        Assert.Equal([0.69, 0.31, 0.05], history.Column(MetricNames.Loss)!);
        Assert.True(double.IsNaN(history.Column(MetricNames.Exact)![1]));
        Assert.Equal(3.0, history.Column("grad_norm")![0]);
        Assert.Null(history.Column(MetricNames.ValidationLoss));
    }

    [Theory]
    [InlineData("", "empty file")]
    [InlineData("epoch,loss\n", "no rows")]
    [InlineData("epoch,loss\n1,0.5\n2\n", "line 3: 1 fields, the header has 2")]
    [InlineData("epoch,loss\n1,abc\n", "line 2: column 'loss' holds 'abc'")]
    [InlineData("epoch,loss\n,0.5\n", "line 2: column 'epoch' holds ''")]
    [InlineData("epoch,loss,loss\n1,2,3\n", "line 1: a column name repeats")]
    [InlineData("epoch,,exact\n1,2,3\n", "line 1: empty column name")]
    public void GivenABadHistory_WhenRead_ThenTheErrorNamesTheFileAndTheFault(string text, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => TrainingHistory.Parse(new StringReader(text), "bad.csv"));

        Assert.StartsWith("bad.csv: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenTwoHistories_WhenPlottedToPng_ThenItIsAPngOfThePageSizeWithDarkAndColouredPixels()
    {
        string a = WriteFile("lstm.history.csv", GoodHistory);
        string b = WriteFile("iamtrask.history.csv", "iteration,loss\n1000,0.5\n2000,0.1\n3000,0.01\n");
        string png = PathOf("curves.png");

        var (code, output, error) = CliRunner.Run("plot", "--history", a, b, "-o", png);

        Assert.True(code == 0, error);
        Assert.Contains("2 history files", output, StringComparison.Ordinal);
        AssertPicture(png, 1000, 400);
    }

    [Fact]
    public void GivenAHistory_WhenPlottedToSvg_ThenItParsesWithTheTitlesAndTheAxisName()
    {
        string a = WriteFile("run.csv", GoodHistory);
        string svg = PathOf("curves.svg");

        var (code, _, error) = CliRunner.Run("plot", "--history", a, "-o", svg);

        Assert.True(code == 0, error);
        var texts = SvgTexts(svg);
        Assert.Contains("Loss", texts);
        Assert.Contains("Accuracy on the training pairs", texts);
        Assert.Contains("epoch", texts);
    }

    [Theory]
    [InlineData("epoch,loss\n1,x\n", "line 2")]
    [InlineData("epoch,lr\n1,0.1\n", "none of the columns")]
    public void GivenABadHistoryFile_WhenPlotted_ThenOneLineAndExitTwoAndNoPicture(string text, string expected)
    {
        string bad = WriteFile("bad.csv", text), png = PathOf("never.png");

        var (code, _, error) = CliRunner.Run("plot", "--history", bad, "-o", png);

        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.False(File.Exists(png));
    }

    [Theory]
    [InlineData("plot", "--history", "/nonexistent/h.csv", "-o", "c.png")]
    [InlineData("plot", "--history", "HISTORY", "-o", "c.jpg")]
    [InlineData("plot", "--history", "HISTORY", "--model", "m.carry")]
    [InlineData("plot")]
    [InlineData("inspect", "--model", "MODEL")]
    [InlineData("inspect", "--model", "MODEL", "1")]
    [InlineData("inspect", "--model", "MODEL", "1", "2", "--states")]
    [InlineData("inspect", "--model", "MODEL", "1", "-2")]
    [InlineData("inspect", "--model", "MODEL", "1", "2", "-o", "steps.bmp")]
    [InlineData("inspect", "--model", "MODEL", "--states", "--samples", "0")]
    [InlineData("inspect", "--model", "/nonexistent/m.carry", "1", "2")]
    public void GivenBadInput_WhenDrawing_ThenOneLineAndExitTwo(params string[] args)
    {
        string history = WriteFile("h.csv", GoodHistory);
        string model = args.Contains("MODEL") ? TrainTiny("elman", "aligned") : "";
        args = args.Select(a => a == "HISTORY" ? history : a == "MODEL" ? model : a).ToArray();

        var (code, _, error) = CliRunner.Run(args);

        Assert.Equal(2, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("carry: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenAConcatModel_WhenAnOperandIsWiderThanItsBits_ThenInspectSaysSoAndExitsTwo()
    {
        string model = TrainTiny("lstm", "concat");

        var (code, _, error) = CliRunner.Run("inspect", "--model", model, "8", "1", "-o", PathOf("s.png"));

        Assert.Equal(2, code);
        Assert.Contains("3-bit", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("elman", "aligned", "hidden state h")]
    [InlineData("jordan", "aligned", "output y (fed back)")]
    [InlineData("gru", "concat", "hidden state h")]
    [InlineData("lstm", "concat", "forget gate f")]
    public void GivenAModel_WhenOneAdditionIsInspected_ThenTheSvgHasAPanelPerQuantityAndTheBitsRows(string cell, string encoding, string panel)
    {
        string model = TrainTiny(cell, encoding), svg = PathOf("steps.svg");

        var (code, output, error) = CliRunner.Run("inspect", "--model", model, "5", "3", "-o", svg);

        Assert.True(code == 0, error);
        Assert.Contains("traced 5 + 3", output, StringComparison.Ordinal);
        var texts = SvgTexts(svg);
        Assert.Contains(texts, t => t.EndsWith(panel, StringComparison.Ordinal));
        Assert.Contains("carry in", texts);
        Assert.Contains("target (a+b)", texts);
        Assert.Contains(texts, t => t.StartsWith("5 + 3 = 8", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("lstm", "aligned", "carry into the step = 1")]
    [InlineData("jordan", "aligned", "carry into the step = 1")]
    [InlineData("gru", "concat", "step 0: reads a2")]
    public void GivenAModel_WhenStatesAreProjected_ThenThePngDecodesAndTheSvgHasTheLegend(string cell, string encoding, string legend)
    {
        string model = TrainTiny(cell, encoding), png = PathOf("states.png"), svg = PathOf("states.svg");

        var (code, output, error) = CliRunner.Run("inspect", "--model", model, "--states", "--samples", "30", "-o", png);
        var (svgCode, _, svgError) = CliRunner.Run("inspect", "--model", model, "--states", "--samples", "30", "-o", svg);

        Assert.True(code == 0, error);
        Assert.True(svgCode == 0, svgError);
        Assert.Contains("projected", output, StringComparison.Ordinal);
        AssertPicture(png, 600, 500);
        Assert.Contains(legend, SvgTexts(svg));
        Assert.Contains(SvgTexts(svg), t => t.StartsWith("PC1 (", StringComparison.Ordinal));
        string state = cell == "jordan" ? "jordan y:" : $"{cell} h:"; // a Jordan layer's carried state is its output y
        Assert.Contains(SvgTexts(svg), t => t.StartsWith(state, StringComparison.Ordinal));
    }

    [Fact]
    public void GivenCurvesAndSnapshotFlags_WhenTrained_ThenTheCurvesAndOneProjectionPerEpochAreDrawn()
    {
        string model = PathOf("watched.carry"), curves = PathOf("watched.svg"), folder = PathOf("snapshots");

        var (code, output, error) = CliRunner.Run("train", "--cell", "gru", "--encoding", "aligned", "--units", "4", "--epochs", "2", "--bits", "3",
            "--out", model, "--curves", curves, "--epochs-snapshots", folder);

        Assert.True(code == 0, error);
        Assert.Contains("drew the curves", output, StringComparison.Ordinal);
        Assert.Contains("Accuracy on the training pairs", SvgTexts(curves));
        Assert.Equal(["epoch-001.png", "epoch-002.png"], Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        AssertPicture(Path.Combine(folder, "epoch-002.png"), 600, 500);
    }

    [Fact]
    public void GivenCurvesWithAnUnknownExtension_WhenTrainIsAsked_ThenItRefusesBeforeTraining()
    {
        var (code, output, error) = CliRunner.Run("train", "--units", "4", "--epochs", "1", "--bits", "3", "--out", PathOf("m.carry"), "--curves", PathOf("c.gif"));

        Assert.Equal(2, code);
        Assert.Contains(".png or .svg", error, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch 1", output, StringComparison.Ordinal);
    }

    private string TrainTiny(string cell, string encoding)
    {
        string path = PathOf($"{cell}-{encoding}.carry");
        if (File.Exists(path)) return path;
        var (code, _, error) = CliRunner.Run("train", "--cell", cell, "--encoding", encoding, "--units", "4", "--epochs", "1", "--bits", "3", "--out", path);
        Assert.True(code == 0, $"train exited {code}: {error}");
        return path;
    }

    private static List<string> SvgTexts(string path)
    {
        var doc = XDocument.Load(path);
        Assert.Equal(Svg + "svg", doc.Root!.Name);
        return doc.Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
    }

    /// <summary>A PNG: signature, IHDR with at least the given size, IEND last, and it decodes to that size with dark and coloured pixels.</summary>
    private static void AssertPicture(string path, int minWidth, int minHeight)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", Encoding.ASCII.GetString(bytes, 12, 4));
        int width = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), height = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
        Assert.InRange(width, minWidth, 4000);
        Assert.InRange(height, minHeight, 4000);
        Assert.Equal("IEND", Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4));
        using var bitmap = SkiaSharp.SKBitmap.Decode(bytes);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        int dark = 0, coloured = 0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                var p = bitmap.GetPixel(x, y);
                dark += p.Red < 80 && p.Green < 80 && p.Blue < 80 ? 1 : 0;
                coloured += Math.Max(p.Red, Math.Max(p.Green, p.Blue)) - Math.Min(p.Red, Math.Min(p.Green, p.Blue)) > 60 ? 1 : 0;
            }
        }
        Assert.True(dark > 200, $"{dark} dark pixels: no text or axes");
        Assert.True(coloured > 200, $"{coloured} coloured pixels: no data drawn");
    }
}
