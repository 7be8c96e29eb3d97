using System.CommandLine;

namespace Carry.Cli.Commands;

/// <summary><c>carry train</c>: the presets (<c>iamtrask</c>, <c>keras</c>, ...) as subcommands, and the general form.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var train = new Command("train", "Train a model: a preset that reproduces an experiment, or the general form.");
        train.Subcommands.Add(IamtraskCommand.Create());
        return train;
    }
}
