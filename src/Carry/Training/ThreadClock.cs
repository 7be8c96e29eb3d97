using System.Diagnostics;
using System.Globalization;

namespace Carry.Training;

/// <summary>
/// Seconds of processor time the calling thread has run, so that a time budget means the same
/// work on a busy machine as on an idle one. Read from Linux's <c>/proc/thread-self/schedstat</c>
/// (nanoseconds on a core); where that is missing, wall-clock seconds since the clock was made.
/// </summary>
public sealed class ThreadClock
{
    private const string SchedStat = "/proc/thread-self/schedstat";
    private readonly Stopwatch _wall = Stopwatch.StartNew();

    /// <summary>True when <see cref="Seconds"/> counts processor time; false when it falls back to wall-clock time.</summary>
    public bool IsProcessorTime { get; } = Read() is not null;

    /// <summary>The calling thread's processor seconds (or, see <see cref="IsProcessorTime"/>, wall seconds since this clock was made).</summary>
    public double Seconds => IsProcessorTime && Read() is { } s ? s : _wall.Elapsed.TotalSeconds;

    private static double? Read()
    {
        try
        {
            string text = File.ReadAllText(SchedStat);
            int space = text.IndexOf(' ', StringComparison.Ordinal);
            return long.TryParse(space < 0 ? text : text[..space], NumberStyles.None, CultureInfo.InvariantCulture, out long ns) ? ns / 1e9 : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
