using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>Loading a model for <c>add</c> and <c>eval</c>: in its stored precision, and only if it was trained for arithmetic.</summary>
internal static class ModelArgument
{
    /// <summary>
    /// Loads <paramref name="path"/> and checks that it names a task. Calls <paramref name="asFloat"/>
    /// for a model stored in single precision and <paramref name="asDouble"/> otherwise.
    /// </summary>
    /// <exception cref="UsageException">No path, or the model has no arithmetic task.</exception>
    /// <exception cref="IOException">Missing, unreadable or corrupt file (<see cref="ModelFormatException"/>).</exception>
    public static int Run(string? path, Func<LoadedModel<double>, TaskInfo, int> asDouble, Func<LoadedModel<float>, TaskInfo, int> asFloat)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException("--model: give the .carry file to use.");
        if (Directory.Exists(path)) throw new UsageException($"{path}: is a folder, not a model file.");
        var loaded = ModelFile.Load<double>(path);
        var task = loaded.Metadata.Task
            ?? throw new UsageException($"{path}: the model was not trained for arithmetic (its file names no task encoding), so it cannot add.");
        return loaded.Metadata.DType == "F32" ? asFloat(ModelFile.Load<float>(path), task) : asDouble(loaded, task);
    }
}
