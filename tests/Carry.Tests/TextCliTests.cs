using System.Text;

namespace Carry.Tests;

/// <summary><c>carry train text</c>, <c>carry sample</c> and <c>carry poems</c> through the command line.</summary>
[Collection("Console")]
public sealed class TextCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-textcli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("empty.txt", new byte[0], "the corpus is empty")]
    [InlineData("binary.bin", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x00, 0x01 }, "binary")]
    [InlineData("latin1.txt", new byte[] { 0x63, 0x61, 0x66, 0xE9, 0x0A }, "not valid UTF-8")]
    [InlineData("short.txt", new byte[] { 0x61, 0x62, 0x63 }, "too short")]
    public void GivenABadCorpus_WhenTrainTextRuns_ThenOneLineNamesTheFileAndTheExitCodeIs2(string name, byte[] bytes, string reason)
    {
        string path = Write(name, bytes);
        var (code, output, error) = CliRunner.Run("train", "text", "--corpus", path, "--out", Path.Combine(_dir, "m.carry"));
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains(path, error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "m.carry")));
    }

    [Fact]
    public void GivenASmallCorpus_WhenTrainedAndSampled_ThenLossesArePrintedInNatsAndBitsAndTheSameSeedGivesTheSameText()
    {
        string corpus = Write("cats.txt", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the cat sat on the mat.\n", 40))));
        string model = Path.Combine(_dir, "cats.carry");
        var (code, output, error) = CliRunner.Run("train", "text", "--corpus", corpus, "--out", model, "--hidden", "16", "--seq", "10", "--batch", "4", "--epochs", "2", "--eval-every", "5");
        Assert.True(code == 0, error);
        Assert.Matches(@"step 5 \(epoch 1, 5/\d+\)  train \d\.\d{4} nats/char \(\d\.\d{4} bits/char\)  val \d\.\d{4} nats/char \(\d\.\d{4} bits/char\)", output);
        Assert.Matches(@"epoch 2  train \d\.\d{4} nats/char .* val \d\.\d{4} nats/char", output);
        string history = File.ReadAllText(model + ".history.csv");
        Assert.StartsWith("epoch,loss,val_loss,", history, StringComparison.Ordinal);
        Assert.StartsWith("iteration,loss,val_loss,seconds\n5,", File.ReadAllText(model + ".steps.csv"), StringComparison.Ordinal);

        var first = CliRunner.Run("sample", "--model", model, "--length", "120", "--seed", "3");
        var again = CliRunner.Run("sample", "--model", model, "--length", "120", "--seed", "3");
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(120, first.Out.EnumerateRunes().Count()); // nothing on stdout but the characters
        Assert.Equal(first.Out, again.Out);
        Assert.NotEqual(first.Out, CliRunner.Run("sample", "--model", model, "--length", "120", "--seed", "4").Out);
        Assert.All(first.Out.EnumerateRunes(), r => Assert.Contains(r.ToString(), "the cat sat on mat.\n"));

        var bad = CliRunner.Run("sample", "--model", model, "--prime", "dog");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("'d' (U+0064) is not one of the model's", bad.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--rms-decay", "1.5", "--rms-decay: The RMSprop decay must be in [0, 1).")]
    [InlineData("--hidden", "0", "--hidden: ")]
    [InlineData("--minutes", "-1", "--minutes must be a number ≥ 0, not -1")]
    [InlineData("--preset", "hamlet", "--preset must be shakespeare or tang, not 'hamlet'")]
    public void GivenABadFlag_WhenTrainTextRuns_ThenOneLineNamesTheFlagAndTheExitCodeIs2(string flag, string value, string message)
    {
        string corpus = Write("cats.txt", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the cat sat on the mat.\n", 40))));
        var (code, output, error) = CliRunner.Run("train", "text", "--corpus", corpus, "--out", Path.Combine(_dir, "m.carry"), flag, value);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenAModelOfNumbers_WhenSampled_ThenItIsRefusedWithExit2()
    {
        string model = Path.Combine(_dir, "adder.carry");
        Assert.Equal(0, CliRunner.Run("train", "quick", "--out", model).ExitCode);
        var (code, _, error) = CliRunner.Run("sample", "--model", model);
        Assert.Equal(2, code);
        Assert.Contains("was not trained on text", error, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenASampleFile_WhenPoemsScoresIt_ThenItPrintsTheShareOfWellFormedLines()
    {
        string good = "秦川雄帝宅，函谷壯皇居。綺殿千尋起，離宮百雉餘。";
        string path = Write("sample.txt", Encoding.UTF8.GetBytes($"居。\n{good}\n{good}\n秦川雄帝宅，\n{good}\n秦川"));
        var (code, output, _) = CliRunner.Run("poems", "--file", path);
        Assert.Equal(0, code);
        Assert.Equal("well-formed 3 of 4 poems (75.0%; first and last line dropped)\n", output.ReplaceLineEndings("\n"));
    }
}
