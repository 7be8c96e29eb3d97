using System.Diagnostics;
using Carry.Serialization;
using Xunit.Abstractions;

namespace Carry.Tests;

/// <summary>
/// The CLI side of "no lost work": a training process killed with SIGKILL mid-epoch and resumed
/// from its checkpoint, or stopped with SIGINT/SIGTERM, ends with the same model as an
/// uninterrupted run; divergence exits 3 and leaves the earlier output and the last good
/// checkpoint alone; checkpoint flags are validated.
/// </summary>
[Collection("Console")]
public sealed partial class ReliabilityCliTests(ITestOutputHelper output) : IDisposable
{
    // 1,024 pairs of 5-bit numbers, batch 8: 128 steps an epoch, about a second on the test machine.
    private static readonly string[] RunFlags = Flags(5);

    // The signal tests stop a run once its first epoch has ended; eight epochs leave the signal
    // seven epochs to land in, even when a loaded machine is slow to start `kill`.
    private static readonly string[] SignalFlags = Flags(5, epochs: 40); // long enough that the signal, sent once the first epoch has ended, lands mid-run however fast an epoch is

    /// <summary>
    /// A small run at <paramref name="bits"/>: all 1,024 pairs at 5 bits; above 10 bits, 1,024
    /// fresh random pairs every epoch (so the data generator's state must survive too).
    /// </summary>
    private static string[] Flags(int bits, int epochs = 3) =>
    [
        "train", "--cell", "lstm", "--units", "12", "--bits", bits.ToString(System.Globalization.CultureInfo.InvariantCulture), "--samples-per-epoch", "1024",
        "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--batch", "8", "--dropout", "0.2", "--optimizer", "adam", "--lr", "0.01", "--seed", "7",
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("carry-rel-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static string CliDll => Path.Combine(AppContext.BaseDirectory, "Carry.Cli.dll");

    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(CliDll);
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    private static (int Code, string Out, string Error) RunChild(params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "carry did not finish in 120 s");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Waits until the checkpoint's position satisfies <paramref name="ready"/>; the file is renamed into place, so every read sees a whole one.</summary>
    private static TrainingPosition WaitForCheckpoint(Process process, string path, Func<TrainingPosition, bool> ready)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (process.HasExited) Assert.Fail($"training ended (exit {process.ExitCode}) before the checkpoint was ready: {process.StandardError.ReadToEnd()}");
            if (File.Exists(path))
            {
                var position = Checkpoint.Load<float>(path).Position;
                if (ready(position)) return position;
            }
            Thread.Sleep(5);
        }
        throw new TimeoutException("no checkpoint appeared");
    }

    /// <summary>The same run writes the same bytes: nothing of the clock goes into a model file.</summary>
    [Theory]
    [InlineData("general")]
    [InlineData("iamtrask")]
    public void GivenTwoIdenticalTrainingRuns_WhenBothSave_ThenTheFilesAreIdenticalBytes(string kind)
    {
        string[] flags = kind == "iamtrask" ? ["train", "iamtrask", "--iterations", "3000", "--print-every", "1000"] : RunFlags;
        string first = PathOf("first.carry"), second = PathOf("second.carry");
        var (code, _, error) = RunChild([.. flags, "--out", first]);
        Assert.True(code == 0, error);
        (code, _, error) = RunChild([.. flags, "--out", second]);
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.True(new FileInfo(first).Length > 500, "the model file is too small to be a trained model");
    }

    [Theory]
    [InlineData(5)]  // all pairs
    [InlineData(11)] // fresh random pairs each epoch
    public void GivenATrainingProcessKilledWithSigkillMidEpoch_WhenResumed_ThenTheFinalModelMatchesAnUninterruptedRun(int bits)
    {
        string straight = PathOf("straight.carry"), resumed = PathOf("resumed.carry"), checkpoint = PathOf("run.ckpt");
        var (code, _, error) = RunChild([.. Flags(bits), "--out", straight]);
        Assert.True(code == 0, error);

        using (var process = Start([.. Flags(bits), "--out", resumed, "--checkpoint", checkpoint, "--checkpoint-every", "5"]))
        {
            // Mid-epoch and well before the epoch's end, so the kill lands before the next epoch-end save.
            WaitForCheckpoint(process, checkpoint, p => p.Epoch == 1 && p.Step is > 0 and < 90);
            process.Kill(); // SIGKILL: no handler runs, nothing is flushed
            process.WaitForExit();
            Assert.Equal(137, process.ExitCode);
        }
        var position = Checkpoint.Load<float>(checkpoint).Position;
        output.WriteLine($"killed; the checkpoint holds epoch {position.Epoch + 1}, step {position.Step + 1}");
        Assert.True(position.Step > 0, "the surviving checkpoint should be a mid-epoch one");

        (code, string stdout, error) = RunChild("train", "--resume", checkpoint);
        Assert.True(code == 0, error);
        Assert.Contains($"resuming {checkpoint} at epoch {position.Epoch + 1}, step {position.Step + 1}", stdout, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(straight), File.ReadAllBytes(resumed)); // the whole file: no wall-clock time in it
        Assert.Equal(HistoryWithoutSeconds(straight), HistoryWithoutSeconds(resumed));
    }

    /// <summary>The history CSV written beside a model, every column but the wall-clock one.</summary>
    private static string[] HistoryWithoutSeconds(string model)
    {
        var lines = File.ReadAllLines(model + ".history.csv");
        int seconds = Array.IndexOf(lines[0].Split(','), "seconds");
        Assert.True(seconds > 0, $"no seconds column in {lines[0]}");
        Assert.True(lines.Length > 2, "the history should have a row per epoch");
        return lines.Select(line => string.Join(',', line.Split(',').Where((_, i) => i != seconds))).ToArray();
    }

    [Theory]
    [InlineData(2)]  // SIGINT
    [InlineData(15)] // SIGTERM
    public async Task GivenASignalMidEpoch_WhenTheRunStops_ThenItWritesACheckpointExits130AndResumesToTheSameModel(int signal)
    {
        string straight = PathOf("straight.carry"), resumed = PathOf("resumed.carry"), checkpoint = PathOf("run.ckpt");
        var (code, _, error) = RunChild([.. SignalFlags, "--out", straight]);
        Assert.True(code == 0, error);

        string stderr;
        using (var process = Start([.. SignalFlags, "--out", resumed, "--checkpoint", checkpoint, "--checkpoint-every", "1000"]))
        {
            var stderrTask = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            WaitForCheckpoint(process, checkpoint, p => p.Epoch >= 1); // the first epoch has ended
            Assert.Equal(0, Kill(process.Id, signal));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            stderr = await stderrTask;
            Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}: {stderr}");
        }
        output.WriteLine(stderr);
        Assert.Matches(InterruptedLine(), stderr);
        Assert.Contains($"resume with 'carry train --resume {checkpoint}'", stderr, StringComparison.Ordinal);

        (code, _, error) = RunChild("train", "--resume", checkpoint);
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(straight), File.ReadAllBytes(resumed));
        Assert.Equal(HistoryWithoutSeconds(straight), HistoryWithoutSeconds(resumed));
    }

    [Fact]
    public void GivenAnExplodingRun_WhenItDiverges_ThenExit3NamesEpochAndStepAndLeavesTheOutputAndLastCheckpointAlone()
    {
        string model = PathOf("earlier.carry"), checkpoint = PathOf("run.ckpt");
        ModelFile.Save(model, ReliabilityFormatTests.SmallModel(), new ModelMetadata());
        byte[] before = File.ReadAllBytes(model);

        // ReLU recurrences explode: with SGD at this rate the second step's loss is NaN.
        var (code, _, error) = CliRunner.Run("train", "--cell", "elman", "--activation", "relu", "--optimizer", "sgd", "--lr", "1e7",
            "--units", "8", "--bits", "3", "--batch", "8", "--dropout", "0", "--epochs", "3", "--out", model, "--checkpoint", checkpoint, "--checkpoint-every", "1");

        Assert.Equal(3, code);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Training diverged at epoch 1, step 2: the loss is NaN.", error, StringComparison.Ordinal);
        Assert.Contains($"{model} was left as it was", error, StringComparison.Ordinal);
        Assert.Contains($"The last good checkpoint is {checkpoint}", error, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(model));
        var last = Checkpoint.Load<float>(checkpoint); // loads: every weight in it is finite
        Assert.Equal(1, last.OptimizerSteps);
        Assert.Equal((0, 1), (last.Position.Epoch, last.Position.Step));
    }

    [Theory]
    [InlineData("--checkpoint-every must be 0 or more steps, not -1", "--checkpoint", "c.ckpt", "--checkpoint-every", "-1")]
    [InlineData("--checkpoint-every needs --checkpoint FILE", "--checkpoint-every", "5")]
    [InlineData("the folder", "--checkpoint", "no/such/folder/c.ckpt")]
    [InlineData("--checkpoint and --out are the same file", "--checkpoint", "SAME")]
    [InlineData("no such checkpoint file", "--resume", "missing.ckpt")]
    [InlineData("drop --epochs", "--resume", "EXISTING", "--epochs", "5")]
    [InlineData("too short for a safetensors header", "--resume", "EMPTY")]
    [InlineData("format is 'carry', not 'carry-checkpoint'", "--resume", "MODEL")]
    [InlineData("tensor 'layers.0.weight_ih_l0' holds a non-finite value", "--resume", "NAN")]
    public void GivenBadCheckpointFlags_WhenTraining_ThenOneLineAndExit2(string expected, params string[] flags)
    {
        string existing = PathOf("ok.ckpt");
        var (code, _, error) = CliRunner.Run("train", "--units", "4", "--bits", "2", "--epochs", "1", "--out", PathOf("m.carry"), "--checkpoint", existing);
        Assert.True(code == 0, error);
        File.WriteAllBytes(PathOf("empty.ckpt"), []);
        byte[] bytes = File.ReadAllBytes(existing);
        // Plant a NaN in the first weight (the first tensor's data starts right after the header).
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, 8 + (int)BitConverter.ToUInt64(bytes, 0));
        File.WriteAllBytes(PathOf("nan.ckpt"), bytes);
        string[] args = flags.Select(f => f switch
        {
            "EXISTING" => existing,
            "EMPTY" => PathOf("empty.ckpt"),
            "MODEL" => PathOf("m.carry"),
            "NAN" => PathOf("nan.ckpt"),
            "SAME" => PathOf("n.carry"),
            "c.ckpt" or "missing.ckpt" or "no/such/folder/c.ckpt" => PathOf(f),
            _ => f,
        }).ToArray();

        string[] command = args.Contains("--resume") ? ["train", .. args] : ["train", "--units", "4", "--bits", "2", "--epochs", "1", "--out", PathOf("n.carry"), .. args];
        (code, _, error) = CliRunner.Run(command);

        Assert.Equal(2, code);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("carry: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.False(File.Exists(PathOf("n.carry")));
    }

    /// <summary>Sends <paramref name="signal"/> with the system's <c>kill</c> (.NET can only send SIGKILL itself).</summary>
    private static int Kill(int pid, int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        return kill.ExitCode;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"carry: interrupted after \d+ epochs; saved the best model .* Checkpoint written; it continues at epoch \d+, step \d+")]
    private static partial System.Text.RegularExpressions.Regex InterruptedLine();
}
