using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using System.Text.Json.Serialization;
using Carry.Layers;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>What <c>--checkpoint</c>, <c>--checkpoint-every</c> and <c>--resume</c> asked for.</summary>
/// <param name="Path">Where to write checkpoints; null for none.</param>
/// <param name="EverySteps">Also write one every this many optimizer steps (0: at epoch ends only).</param>
/// <param name="Resume">The checkpoint to continue from; null to start a new run.</param>
internal sealed record CheckpointRequest(string? Path, int EverySteps, string? Resume)
{
    /// <summary>No checkpoints, no resume.</summary>
    public static CheckpointRequest None { get; } = new(null, 0, null);
}

/// <summary>The checkpoint flags of <c>carry train</c> and its presets, validated.</summary>
internal sealed class CheckpointFlags
{
    private readonly Option<string?> _checkpoint = new("--checkpoint")
    {
        Description = "Write a checkpoint (model, optimizer, position, random generators) to this file after every epoch, and on Ctrl-C.",
    };

    private readonly Option<int> _every = new("--checkpoint-every")
    {
        Description = "Also write the checkpoint every N optimizer steps (needs --checkpoint; 0: epoch ends only).",
        DefaultValueFactory = _ => 0,
    };

    private readonly Option<string?> _resume = new("--resume")
    {
        Description = "Continue the run saved in this checkpoint, with its settings and output file (checkpoints keep going to it unless --checkpoint says otherwise).",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_checkpoint);
        command.Options.Add(_every);
        command.Options.Add(_resume);
    }

    /// <summary>Reads and validates the flags; with <c>--resume</c>, no training flag may be given (the checkpoint holds them).</summary>
    /// <exception cref="UsageException">A bad value or a conflict.</exception>
    /// <param name="parse">The parsed command line.</param>
    /// <param name="mayChangeOnResume">Flags that may still be given with <c>--resume</c> (a time budget, say).</param>
    public CheckpointRequest Read(ParseResult parse, params Option[] mayChangeOnResume)
    {
        string? path = parse.GetValue(_checkpoint);
        int every = parse.GetValue(_every);
        string? resume = parse.GetValue(_resume);
        if (every < 0) throw new UsageException($"--checkpoint-every must be 0 or more steps, not {every}");
        if (path is not null) OutputPath.Check("--checkpoint", path);
        if (resume is not null)
        {
            if (string.IsNullOrWhiteSpace(resume)) throw new UsageException("--resume needs a checkpoint file");
            if (!File.Exists(resume)) throw new UsageException($"--resume {resume}: no such checkpoint file");
            var own = new HashSet<string>(mayChangeOnResume.Select(o => o.Name), StringComparer.Ordinal) { _checkpoint.Name, _every.Name, _resume.Name };
            var given = parse.CommandResult.Children.OfType<OptionResult>()
                .Where(r => !r.Implicit && !own.Contains(r.Option.Name))
                .Select(r => r.Option.Name)
                .ToList();
            if (given.Count > 0)
            {
                throw new UsageException($"--resume continues the checkpoint's run with its own settings; drop {string.Join(", ", given)}");
            }
            path ??= resume;
        }
        else if (every > 0 && path is null)
        {
            throw new UsageException("--checkpoint-every needs --checkpoint FILE");
        }
        return new CheckpointRequest(path, every, resume);
    }
}

/// <summary>
/// What a <c>carry train</c> checkpoint stores besides what the fit loop keeps (model, optimizer,
/// position, generators, history, best epoch): the run's settings, so that <c>--resume</c> needs
/// no flags. Serialised as the checkpoint's <c>settings</c> string.
/// </summary>
internal static class TrainRunRecord
{
    private static readonly JsonSerializerOptions Json = CarryJson.Resolving(new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter<Initialization>(JsonNamingPolicy.CamelCase) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    }, CliJson.Default);

    /// <summary>The settings string: preset name, settings, checkpoint interval.</summary>
    public static string Settings(string preset, TrainSettings settings, int everySteps)
        => JsonSerializer.Serialize(new RunSettings(preset, settings, everySteps), Json.For<RunSettings>());

    /// <summary>Reads a checkpoint's settings string.</summary>
    /// <exception cref="ModelFormatException">It is not one <c>carry train</c> wrote.</exception>
    public static (string Preset, TrainSettings Settings, int EverySteps) ReadSettings(string json, string path)
    {
        RunSettings? run;
        try
        {
            run = JsonSerializer.Deserialize(json, Json.For<RunSettings>());
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException)
        {
            throw new ModelFormatException(path, $"the checkpoint's training settings are not valid: {e.Message}");
        }
        if (run?.Settings is null || string.IsNullOrEmpty(run.Preset)) throw new ModelFormatException(path, "the checkpoint holds no training settings of 'carry train'.");
        return (run.Preset, run.Settings, run.EverySteps);
    }
}

/// <summary>A <c>carry train</c> checkpoint's <c>settings</c>.</summary>
internal sealed record RunSettings(string Preset, TrainSettings Settings, int EverySteps);
