using System.Security.Cryptography;

namespace Carry.Serialization;

/// <summary>
/// Writes a file so that a crash leaves either the old file or the new one, never a torn one:
/// the bytes go to a temporary file in the same folder (same file system, so the rename is
/// atomic), which is flushed to disk and then renamed over the target. If writing fails, the
/// temporary file is deleted and the target is untouched. A process killed outright (SIGKILL,
/// power loss) mid-write can leave a hidden <c>.NAME.*.tmp</c> beside the target; the target
/// itself is still the old file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> atomically to <paramref name="path"/>.</summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        // A span cannot be captured by the lambda, so write through a stream of our own.
        ArgumentException.ThrowIfNullOrEmpty(path);
        string temp = CreateTemp(path, out string full);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Writes atomically whatever <paramref name="write"/> writes to the stream it is given (so
    /// that a failure partway through — an exception from <paramref name="write"/> or from the
    /// disk — leaves <paramref name="path"/> as it was).
    /// </summary>
    /// <param name="path">The target file.</param>
    /// <param name="write">Writes the new content.</param>
    /// <param name="wrap">Wraps the temporary file's stream (tests use it to simulate a failing disk); null for none.</param>
    public static void Write(string path, Action<Stream> write, Func<Stream, Stream>? wrap = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string temp = CreateTemp(path, out string full);
        try
        {
            using (var file = new FileStream(temp, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                var stream = wrap is null ? file : wrap(file);
                write(stream);
                stream.Flush();
                file.Flush(flushToDisk: true);
                if (!ReferenceEquals(stream, file)) stream.Dispose();
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Creates an empty, uniquely named temporary file beside <paramref name="path"/>.</summary>
    private static string CreateTemp(string path, out string full)
    {
        full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new IOException($"{path}: is a folder; cannot write a file there.");
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{path}: the folder '{dir}' does not exist.");
        string name = Path.GetFileName(full);
        for (int attempt = 0; ; attempt++)
        {
            string temp = Path.Combine(dir, $".{name}.{Environment.ProcessId}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(4))}.tmp");
            try
            {
                using (new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None)) { }
                return temp;
            }
            catch (IOException) when (attempt < 8 && File.Exists(temp))
            {
                // Name taken (vanishingly unlikely): draw another.
            }
        }
    }

    private static void TryDelete(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
