using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Carry.Cli;
using Carry.Serialization;

namespace Carry.Tests;

/// <summary>Runs <c>carry</c> in-process with stdout and stderr captured. Tests that swap the console share one collection so they never overlap.</summary>
internal static class CliRunner
{
    public static (int ExitCode, string Out, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var oldOut = Console.Out;
        var oldError = Console.Error;
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int code = CarryCommand.Run(args);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }
}

[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>Experiment B's verbs: train, summary, plot, predict, and their answers to bad input.</summary>
[Collection("Console")]
public sealed class ExperimentBCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-expb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private string TrainTiny(string name = "tiny.carry", params string[] extra)
    {
        string path = PathOf(name);
        var (code, output, error) = CliRunner.Run(["train", "--units", "8", "--epochs", "1", "--bits", "3", "--out", path, .. extra]);
        Assert.True(code == 0, $"train exited {code}: {error}");
        Assert.Contains("epoch 1/1", output, StringComparison.Ordinal);
        return path;
    }

    [Theory]
    [InlineData("train", "--bits", "0")]
    [InlineData("train", "--units", "-1")]
    [InlineData("train", "--units", "0")]
    [InlineData("train", "--batch", "0")]
    [InlineData("train", "--dropout", "1.5")]
    [InlineData("train", "--epochs", "-3")]
    [InlineData("train", "--cell", "transformer")]
    [InlineData("train", "--loss", "hinge")]
    [InlineData("train", "--optimizer", "lbfgs")]
    [InlineData("train", "--encoding", "gray")]
    [InlineData("train", "--no-such-flag")]
    [InlineData("train", "--threads", "-1")]
    [InlineData("train", "keras", "--bits", "0")]
    [InlineData("train", "keras", "--frobnicate", "3")]
    [InlineData("summary", "--model", "/nonexistent/model.carry")]
    [InlineData("predict", "--model", "/nonexistent/model.carry")]
    [InlineData("plot", "--model", "/nonexistent/model.carry", "-o", "x.svg")]
    public void GivenBadInput_WhenRun_ThenOneLineOnStderrAndExitCode2(params string[] args)
    {
        var (code, output, error) = CliRunner.Run(args);

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.StartsWith("carry: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch", output, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenATinyRun_WhenTrained_ThenTheModelLoadsWithItsTaskAndTrainingSummary()
    {
        string path = TrainTiny();

        var loaded = ModelFile.Load<float>(path);
        Assert.Equal(new TaskInfo("concat", 3), loaded.Metadata.Task);
        Assert.Equal("1", loaded.Metadata.Training["epochs"]);
        Assert.Equal("0", loaded.Metadata.Training["seed"]);
        Assert.True(double.TryParse(loaded.Metadata.Training["final_loss"], System.Globalization.CultureInfo.InvariantCulture, out var loss) && loss > 0);
        Assert.Equal([1, 4], loaded.Model.Predict(new Carry.Numerics.Tensor<float>(1, 6, 1)).Shape.ToArray());
    }

    [Fact]
    public void GivenTheSameSeed_WhenTrainedTwice_ThenTheFilesAreIdentical()
    {
        string a = TrainTiny("a.carry"), b = TrainTiny("b.carry");

        var first = ModelFile.Load<float>(a).Model.Parameters.SelectMany(p => p.Parameter.Value.Span.ToArray());
        var second = ModelFile.Load<float>(b).Model.Parameters.SelectMany(p => p.Parameter.Value.Span.ToArray());
        Assert.Equal(first, second);
    }

    [Fact]
    public void GivenOneOrTwoThreads_WhenTrained_ThenTheWeightsAreIdentical()
    {
        // 64 units: the step products are large enough to take the packed, threaded kernel.
        string one = PathOf("t1.carry"), two = PathOf("t2.carry");
        foreach (var (path, threads) in new[] { (one, "1"), (two, "2") })
        {
            var (code, _, error) = CliRunner.Run(["train", "--units", "64", "--epochs", "1", "--bits", "3", "--threads", threads, "--out", path]);
            Assert.True(code == 0, $"train --threads {threads} exited {code}: {error}");
        }

        var first = ModelFile.Load<float>(one).Model.Parameters.SelectMany(p => p.Parameter.Value.Span.ToArray());
        var second = ModelFile.Load<float>(two).Model.Parameters.SelectMany(p => p.Parameter.Value.Span.ToArray());
        Assert.Equal(first, second);
    }

    [Fact]
    public void GivenAModel_WhenSummarised_ThenCountsAreTheSumOfParameterLengths()
    {
        string path = TrainTiny("bi.carry", "--cell", "gru", "--layers", "2", "--bidirectional");
        var model = ModelFile.Load<float>(path).Model;

        var (code, output, _) = CliRunner.Run("summary", "--model", path);

        Assert.Equal(0, code);
        int total = model.Parameters.Sum(p => p.Parameter.Length);
        Assert.Contains($"Total params: {total:N0}", output, StringComparison.Ordinal);
        for (int i = 0; i < model.Layers.Count; i++)
        {
            Assert.Contains($"{model.Layers[i].ParameterCount:N0}", output, StringComparison.Ordinal);
        }
        Assert.Contains("bidirectional (Bidirectional(GRU))", output, StringComparison.Ordinal);
        Assert.Contains("(None, 6, 16)", output, StringComparison.Ordinal); // first layer returns sequences of 2·8
        Assert.Contains("(None, 4)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenTheKerasArchitecture_WhenSummarised_ThenTheLstmCountIsPyTorchs()
    {
        // LSTM(1→256): 4·256·(1+256) + 2·4·256 = 265,216 (Keras, one bias vector: 264,192); Dense(256→9): 2,313.
        var model = Carry.Cli.Commands.AdderModels.Build(new Carry.Cli.Commands.TrainSettings());
        string path = PathOf("keras.carry");
        ModelFile.Save(path, model, new ModelMetadata { Task = new TaskInfo("concat", 8) });

        var (code, output, _) = CliRunner.Run("summary", "--model", path);

        Assert.Equal(0, code);
        Assert.Matches(@"lstm \(LSTM\)\s+\(None, 256\)\s+265,216", output);
        Assert.Matches(@"dropout \(Dropout\)\s+\(None, 256\)\s+0", output);
        Assert.Matches(@"dense \(Dense\)\s+\(None, 9\)\s+2,313", output);
        Assert.Contains("Total params: 267,529", output, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenAModel_WhenPlottedToSvg_ThenItIsWellFormedXmlWithABoxPerLayer()
    {
        string model = TrainTiny(), svg = PathOf("model.svg");

        var (code, _, error) = CliRunner.Run("plot", "--model", model, "-o", svg);

        Assert.True(code == 0, error);
        var doc = XDocument.Load(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", doc.Root!.Name);
        var texts = doc.Descendants(ns + "text").Select(t => t.Value.Trim()).ToList();
        Assert.Contains("lstm: LSTM", texts);
        Assert.Contains("dropout: Dropout", texts);
        Assert.Contains("dense: Dense", texts);
        Assert.Contains("(None, 6, 1)", texts);
        Assert.Contains("(None, 4)", texts);
        Assert.Contains("sequential_input: InputLayer", texts);
        Assert.Equal(4, texts.Count(t => t == "output:")); // one box per layer, the input box first
    }

    [Fact]
    public void GivenAModel_WhenPlottedToPng_ThenItIsAPngThatDecodesToDarkLinesOnWhite()
    {
        string model = TrainTiny(), png = PathOf("model.png");

        var (code, _, error) = CliRunner.Run("plot", "--model", model, "-o", png);

        Assert.True(code == 0, error);
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", Encoding.ASCII.GetString(bytes, 12, 4));
        int width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16));
        int height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
        Assert.InRange(width, 200, 4000);
        Assert.InRange(height, 200, 4000);
        Assert.Equal("IEND", Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4));
        // It decodes to the size in its header, with dark (text and line) pixels on white.
        using var bitmap = SkiaSharp.SKBitmap.Decode(bytes);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        Assert.Equal(SkiaSharp.SKColors.White, bitmap.GetPixel(0, 0));
        int dark = 0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) dark += bitmap.GetPixel(x, y).Red < 64 ? 1 : 0;
        }
        Assert.InRange(dark, 500, width * height / 4);
    }

    [Fact]
    public void GivenATrainingPlotFlag_WhenTrained_ThenTheDiagramIsDrawnBeforeTheFirstEpoch()
    {
        string svg = PathOf("first.svg");

        var (code, output, error) = CliRunner.Run("train", "--units", "8", "--epochs", "1", "--bits", "3", "--out", PathOf("plotted.carry"), "--plot", svg);

        Assert.True(code == 0, error);
        Assert.Contains("lstm: LSTM", File.ReadAllText(svg), StringComparison.Ordinal);
        int drew = output.IndexOf($"drew the model to {svg}", StringComparison.Ordinal), epoch = output.IndexOf("epoch 1/1", StringComparison.Ordinal);
        Assert.True(drew >= 0 && epoch > drew, $"the diagram line should come before the first epoch's: {output}");
    }

    [Fact]
    public void GivenAModel_WhenPredicting_ThenItPrintsOneBlockPerSampleAndTheCount()
    {
        string model = TrainTiny();

        var (code, output, error) = CliRunner.Run("predict", "--model", model, "--samples", "7", "--seed", "3");

        Assert.True(code == 0, error);
        string[] lines = output.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(7 * 4 + 1, lines.Length);
        int correct = 0;
        for (int k = 0; k < 7; k++)
        {
            Assert.Equal(new string('=', 30), lines[4 * k]);
            var a = Regex.Match(lines[(4 * k) + 1], @"^\[([01] ){2}[01]\]: (\d+)$");
            var b = Regex.Match(lines[(4 * k) + 2], @"^\[([01] ){2}[01]\]: (\d+)$");
            var sum = Regex.Match(lines[(4 * k) + 3], @"^\[([01] ){3}[01]\]: (\d+)$");
            Assert.True(a.Success && b.Success && sum.Success, string.Join(" | ", lines.Skip(4 * k).Take(4)));
            if (int.Parse(a.Groups[2].Value) + int.Parse(b.Groups[2].Value) == int.Parse(sum.Groups[2].Value)) correct++;
        }
        Assert.Equal($"{correct}/7 correct", lines[^1]);
    }

    [Fact]
    public void GivenAnAlignedModel_WhenPredicting_ThenOperandsAreShownAtTheModelsWidth()
    {
        string model = PathOf("aligned.carry");
        var (trainCode, _, trainError) = CliRunner.Run("train", "--cell", "elman", "--encoding", "aligned", "--units", "4", "--epochs", "1", "--bits", "4", "--dropout", "0", "--out", model);
        Assert.True(trainCode == 0, trainError);

        var (code, output, error) = CliRunner.Run("predict", "--model", model, "--samples", "2");

        Assert.True(code == 0, error);
        Assert.Matches(@"^\[([01] ){3}[01]\]: \d+$", output.Split('\n')[1].TrimEnd('\r'));
        Assert.Matches(@"^\[([01] ){4}[01]\]: \d+$", output.Split('\n')[3].TrimEnd('\r'));
        Assert.EndsWith("/2 correct", output.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void GivenOperandsWiderThanTenBits_WhenTrained_ThenItTrainsOnRandomPairsAndRecordsTheWidth()
    {
        // That the pairs are drawn afresh every epoch is AdditionTask's test (TrainingLoopTests).
        string path = PathOf("wide.carry");

        var (code, output, error) = CliRunner.Run("train", "--units", "4", "--epochs", "2", "--bits", "12", "--samples-per-epoch", "256", "--out", path);

        Assert.True(code == 0, error);
        Assert.Contains("256 random pairs of 12-bit numbers per epoch", output, StringComparison.Ordinal);
        Assert.Contains("epoch 2/2", output, StringComparison.Ordinal);
        Assert.Equal(new TaskInfo("concat", 12), ModelFile.Load<float>(path).Metadata.Task);
    }

    [Fact]
    public void GivenTheFastPreset_WhenItsHelpIsShown_ThenItListsItsFlags()
    {
        var (code, output, _) = CliRunner.Run("train", "keras-fast", "--help");

        Assert.Equal(0, code);
        Assert.Contains("Flags: --cell lstm --hidden 128 --encoding concat --bits 8 --dropout 0 --loss bce --optimizer adam --lr 0.005 --schedule cosine --min-lr 0.0003 --batch 64 --epochs 40 --clip 1 --until-perfect.",
            output.ReplaceLineEndings(" "), StringComparison.Ordinal);
        Assert.Matches(@"--lr <lr>\s+Learning rate\. \[default: 0\.005\]", output);
        Assert.Matches(@"--hidden, --units <hidden>\s+Hidden units per recurrent layer\. \[default: 128\]", output);
    }

    [Fact]
    public void GivenACosineSchedule_WhenTrained_ThenTheHistoryBesideTheModelHasEveryEpochsRate()
    {
        string model = PathOf("cosine.carry");

        var (code, _, error) = CliRunner.Run("train", "--units", "4", "--epochs", "4", "--bits", "3", "--lr", "0.01", "--schedule", "cosine", "--min-lr", "0.001", "--out", model);

        Assert.True(code == 0, error);
        var lines = File.ReadAllLines(model + ".history.csv");
        var header = lines[0].Split(',');
        Assert.Equal(["epoch", "loss", "exact", "bit_accuracy", "lr", "seconds"], header[..6]);
        var rates = lines[1..].Select(l => double.Parse(l.Split(',')[4], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var cosine = new Carry.Training.CosineDecay(0.01, 4, 0.001);
        Assert.Equal(Enumerable.Range(0, 4).Select(cosine.Rate), rates);
    }

    [Fact]
    public void GivenPatienceOnExact_WhenExactStalls_ThenTrainingStopsEarlyAndSaysSo()
    {
        string model = PathOf("patient.carry"), history = PathOf("patient.csv");

        // A learning rate this small leaves exact where it starts, so patience 2 ends the run after epoch 3.
        var (code, output, error) = CliRunner.Run("train", "--units", "4", "--epochs", "20", "--bits", "3", "--lr", "1e-9",
            "--patience", "2", "--monitor", "exact", "--history", history, "--out", model);

        Assert.True(code == 0, error);
        Assert.Contains("exact has not improved for 2 epochs: stopping after 3 (--patience)", output, StringComparison.Ordinal);
        Assert.Equal(1 + 3, File.ReadAllLines(history).Length);
        Assert.False(File.Exists(model + ".history.csv"));
    }

    [Theory]
    [InlineData("unknown schedule 'linear'", "--schedule", "linear")]
    [InlineData("unknown monitor 'accuracy'", "--monitor", "accuracy")]
    [InlineData("--patience must be 0 (off) or more epochs", "--patience", "-1")]
    [InlineData("--min-lr must be between 0 and --lr", "--min-lr", "1")]
    public void GivenBadLoopFlags_WhenTraining_ThenOneLineAndExit2(string expected, params string[] flags)
    {
        var (code, _, error) = CliRunner.Run(["train", "--epochs", "1", "--bits", "3", "--out", PathOf("bad.carry"), .. flags]);

        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }
}
