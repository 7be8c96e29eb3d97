using System.Numerics;
using System.Text.Json;
using Carry.Arithmetic;
using Carry.Cli;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Tests;

/// <summary>
/// <c>carry train iamtrask</c>, <c>carry add</c> and <c>carry eval</c> run in-process with the
/// console captured; the "Console" collection keeps every console-swapping test apart.
/// </summary>
[Collection("Console")]
public sealed class ExperimentACliTests : IClassFixture<TrainedElman>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-expa-").FullName;
    private readonly string _elman;

    public ExperimentACliTests(TrainedElman trained)
    {
        _elman = PathOf("elman.carry");
        ModelFile.Save(_elman, trained.Double.Model, new ModelMetadata { Task = TrainedElman.Task, DType = "F64" });
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static (int ExitCode, string Out, string Error) Carry(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void GivenNoOptions_WhenTrainingIamtrask_ThenStdoutIsTheNumpyScriptsOutputByteForByteAndTheModelIsSaved()
    {
        string path = PathOf("cli.carry");
        var (code, output, error) = Carry("train", "iamtrask", "--out", path);
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllText(Fixtures.PathOf("iamtrask-seed0.txt")), output.ReplaceLineEndings("\n"));
        Assert.Contains("seed 0", error, StringComparison.Ordinal);
        var loaded = ModelFile.Load<double>(path);
        Assert.Equal(new TaskInfo("aligned", 8), loaded.Metadata.Task);
        Assert.Equal("F64", loaded.Metadata.DType);
        Assert.Equal("iamtrask", loaded.Metadata.Training["preset"]);
        Assert.Equal("50000", loaded.Metadata.Training["iterations"]);
    }

    [Fact]
    public void GivenFloatAndOtherSettings_WhenTrainingIamtrask_ThenItPrintsEveryKIterationsAndSavesAFloatModel()
    {
        string path = PathOf("small.carry");
        var (code, output, error) = Carry("train", "iamtrask", "--float", "--seed", "3", "--hidden", "8", "--lr", "0.2", "--iterations", "2000", "--bits", "6", "--print-every", "500", "--out", path);
        Assert.True(code == 0, error);
        var lines = output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(4 * 5, lines.Length);
        Assert.Matches(@"^Pred:\[[01]( [01]){5}\]$", lines[1]);
        Assert.Contains("seed 3", error, StringComparison.Ordinal);
        var loaded = ModelFile.Load<float>(path);
        Assert.Equal("F32", loaded.Metadata.DType);
        Assert.Equal(new TaskInfo("aligned", 6), loaded.Metadata.Task);
    }

    [Fact]
    public void GivenTheTrainedModel_WhenAdding_ThenItPrintsTheSumAndTheArticlesBitLines()
    {
        var (code, output, error) = Carry("add", "--model", _elman, "157", "113");
        Assert.True(code == 0, error);
        Assert.Equal("270", output.Trim());

        (code, output, _) = Carry("add", "--model", _elman, "157", "113", "--show-bits");
        Assert.Equal(0, code);
        Assert.Equal(["[1 0 0 1 1 1 0 1]: 157", "[0 1 1 1 0 0 0 1]: 113", "[1 0 0 0 0 1 1 1 0]: 270"], output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));

        var a = BigInteger.Pow(3, 20_000);
        var b = BigInteger.Pow(7, 9_000) + 12345;
        (code, output, _) = Carry("add", "--model", _elman, a.ToString(), b.ToString());
        Assert.Equal(0, code);
        Assert.Equal((a + b).ToString(), output.Trim());
    }

    [Fact]
    public void GivenTheTrainedModel_WhenEvaluatingAsJson_ThenEveryWidthIsExact()
    {
        var (code, output, error) = Carry("eval", "--model", _elman, "--widths", "4,8,16,128", "--samples", "100", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(_elman, json.RootElement.GetProperty("model").GetString());
        var results = json.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal([4, 8, 16, 128], results.Select(r => r.GetProperty("width").GetInt32()));
        Assert.Equal([256, 65536, 100, 100], results.Select(r => r.GetProperty("samples").GetInt32()));
        Assert.All(results, r => Assert.Equal(1.0, r.GetProperty("exact").GetDouble()));
        Assert.All(results, r => Assert.Equal(1.0, r.GetProperty("bitAccuracy").GetDouble()));

        (code, output, _) = Carry("eval", "--model", _elman, "--widths", "8");
        Assert.Equal(0, code);
        Assert.Contains("100.00%", output, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenAConcatModel_WhenAddingOrEvaluating_ThenItWorksAtItsWidthOnlyAndRefusesWiderOperands()
    {
        string path = PathOf("concat.carry");
        var model = new Sequential<double>(new SimpleRnn<double>(1, 6, bias: true), new Dense<double>(6, 5, Activation.Sigmoid));
        model.Initialize(Initialization.PyTorch, 1);
        ModelFile.Save(path, model, new ModelMetadata { Task = new TaskInfo(ConcatEncoding.Name, 4), DType = "F64" });

        var (code, output, error) = Carry("add", "--model", path, "15", "9");
        Assert.True(code == 0, error);
        Assert.True(BigInteger.TryParse(output.Trim(), out var sum) && sum >= 0 && sum < 32, output);

        (code, output, error) = Carry("eval", "--model", path, "--json");
        Assert.True(code == 0, error);
        using (var json = JsonDocument.Parse(output))
        {
            var only = Assert.Single(json.RootElement.GetProperty("results").EnumerateArray());
            Assert.Equal(4, only.GetProperty("width").GetInt32());
            Assert.Equal(256, only.GetProperty("samples").GetInt32());
            Assert.InRange(only.GetProperty("exact").GetDouble(), 0.0, 1.0);
        }

        AssertBadInput(Carry("add", "--model", path, "16", "1"), "4-bit");
        AssertBadInput(Carry("eval", "--model", path, "--widths", "8"), "4-bit");
    }

    [Theory]
    [InlineData("add", "--model", "{elman}", "-5", "3")]
    [InlineData("add", "--model", "{elman}", "--", "-5", "3")]
    [InlineData("add", "--model", "{elman}", "12a", "3")]
    [InlineData("add", "--model", "{elman}", "3", "1e5")]
    [InlineData("add", "--model", "{elman}", "3", "")]
    [InlineData("add", "--model", "{elman}", "3")]
    [InlineData("add", "--model", "{missing}", "1", "2")]
    [InlineData("add", "--model", "{dir}", "1", "2")]
    [InlineData("add", "--model", "{corrupt}", "1", "2")]
    [InlineData("add", "--model", "{truncated}", "1", "2")]
    [InlineData("add", "--model", "{notask}", "1", "2")]
    [InlineData("add", "--model", "{misfit}", "1", "2")]
    [InlineData("eval", "--model", "{corrupt}")]
    [InlineData("eval", "--model", "{missing}")]
    [InlineData("eval", "--model", "{notask}")]
    [InlineData("eval", "--model", "{elman}", "--widths", "8,x")]
    [InlineData("eval", "--model", "{elman}", "--widths", "0")]
    [InlineData("eval", "--model", "{elman}", "--samples", "0")]
    [InlineData("train", "iamtrask", "--hidden", "0")]
    [InlineData("train", "iamtrask", "--seed", "-1")]
    [InlineData("train", "iamtrask", "--seed", "4294967296")]
    [InlineData("train", "iamtrask", "--lr", "0")]
    [InlineData("train", "iamtrask", "--lr", "abc")]
    [InlineData("train", "iamtrask", "--iterations", "0")]
    [InlineData("train", "iamtrask", "--bits", "1")]
    [InlineData("train", "iamtrask", "--bits", "33")]
    [InlineData("train", "iamtrask", "--print-every", "0")]
    [InlineData("train", "iamtrask", "--out", "{missing}/model.carry")]
    [InlineData("train", "iamtrask", "--out", "{dir}")]
    public void GivenBadInput_WhenRunning_ThenOneLineOnStderrAndExitCodeTwo(params string[] template)
    {
        var model = new Sequential<double>(new Dense<double>(2, 1));
        ModelFile.Save(PathOf("notask.carry"), model, new ModelMetadata { DType = "F64" });
        // Three inputs per step: not the aligned encoding's two bits.
        ModelFile.Save(PathOf("misfit.carry"), new Sequential<double>(new Dense<double>(3, 1)), new ModelMetadata { Task = TrainedElman.Task, DType = "F64" });
        File.WriteAllText(PathOf("corrupt.carry"), "this is not a model");
        byte[] good = File.ReadAllBytes(_elman);
        File.WriteAllBytes(PathOf("truncated.carry"), good[..(good.Length - 9)]);
        var args = template.Select(a => a
            .Replace("{elman}", _elman, StringComparison.Ordinal)
            .Replace("{missing}", PathOf("missing.carry"), StringComparison.Ordinal)
            .Replace("{dir}", _dir, StringComparison.Ordinal)
            .Replace("{corrupt}", PathOf("corrupt.carry"), StringComparison.Ordinal)
            .Replace("{truncated}", PathOf("truncated.carry"), StringComparison.Ordinal)
            .Replace("{notask}", PathOf("notask.carry"), StringComparison.Ordinal)
            .Replace("{misfit}", PathOf("misfit.carry"), StringComparison.Ordinal)).ToArray();
        AssertBadInput(Carry(args), null);
    }

    /// <summary>A weight bit flipped after saving: one line naming the checksum, exit 2.</summary>
    [Theory]
    [InlineData("add", "--model", "{flipped}", "1", "2")]
    [InlineData("eval", "--model", "{flipped}")]
    public void GivenAModelWithAFlippedWeightBit_WhenUsed_ThenOneLineNamesTheChecksumAndExitCodeTwo(params string[] template)
    {
        byte[] bytes = File.ReadAllBytes(_elman);
        bytes[^3] ^= 0x10; // inside the last weight
        string flipped = PathOf("flipped.carry");
        File.WriteAllBytes(flipped, bytes);
        AssertBadInput(Carry(template.Select(a => a.Replace("{flipped}", flipped, StringComparison.Ordinal)).ToArray()), "SHA-256");
    }

    private static void AssertBadInput((int ExitCode, string Out, string Error) result, string? mentions)
    {
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}; stderr: {result.Error}; stdout: {result.Out}");
        string error = result.Error.ReplaceLineEndings("\n").TrimEnd('\n');
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith("carry: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.True(error.Length > "carry: ".Length + 10, error);
        if (mentions is not null) Assert.Contains(mentions, error, StringComparison.Ordinal);
    }
}
