namespace Carry.Cli.Commands;

/// <summary>The one check of a file the command will write (<c>--out</c>, <c>--checkpoint</c>, <c>--history</c>), made before any work.</summary>
internal static class OutputPath
{
    /// <summary>Throws <see cref="UsageException"/> when <paramref name="path"/> is empty, a folder, or in a folder that does not exist.</summary>
    /// <param name="flag">The flag that named the file (<c>--out</c>).</param>
    /// <param name="path">The file.</param>
    public static void Check(string flag, string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new UsageException($"{flag} needs a file name");
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new UsageException($"{flag} {path}: is a folder, not a file");
        string? folder = Path.GetDirectoryName(full);
        if (folder is not null && !Directory.Exists(folder)) throw new UsageException($"{flag} {path}: the folder '{folder}' does not exist");
    }
}
