using System.Diagnostics;
using System.Reflection;
using Carry.Cli;

namespace Carry.Tests;

/// <summary>The command calls itself <c>carry</c> (not the assembly's <c>Carry.Cli</c>), as the installed .NET tool's command is named.</summary>
[Collection("Console")]
public sealed class CliNameTests
{
    [Fact]
    public void GivenHelp_WhenShown_ThenTheUsageNamesCarryNotTheAssembly()
    {
        var (code, output, _) = CliRunner.Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("carry [command] [options]", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Carry.Cli", output, StringComparison.Ordinal);

        (code, output, _) = CliRunner.Run("train", "--help");
        Assert.Equal(0, code);
        Assert.Contains("carry train", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Carry.Cli", output, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenVersion_WhenTheCommandRuns_ThenItPrintsItsAssemblysVersionAndExitsZero()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Carry.Cli.dll"));
        info.ArgumentList.Add("--version");
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "carry --version did not finish");
        Assert.Equal(0, process.ExitCode);
        string expected = typeof(CarryCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(expected, output.Trim());
        Assert.StartsWith("0.", expected, StringComparison.Ordinal);
    }
}
