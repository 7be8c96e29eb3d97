using System.Diagnostics;
using System.Globalization;

/// <summary>Stopwatch medians and the tab-separated report lines that bench/compare.sh reads.</summary>
internal static class Timing
{
    /// <summary>Runs <paramref name="action"/> <paramref name="reps"/> times; the median wall seconds and the median CPU seconds (all threads).</summary>
    public static (double Wall, double Cpu) Median(int reps, Action action)
    {
        var times = new double[reps];
        var cpu = new double[reps];
        using var process = Process.GetCurrentProcess();
        for (int r = 0; r < reps; r++)
        {
            process.Refresh();
            var cpuStart = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            action();
            times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            process.Refresh();
            cpu[r] = (process.TotalProcessorTime - cpuStart).TotalSeconds;
        }
        Array.Sort(times);
        Array.Sort(cpu);
        return (times[reps / 2], cpu[reps / 2]);
    }

    /// <summary>One line: name, value (4 significant digits), unit.</summary>
    public static void Report(string name, double value, string unit) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}\t{value:G4}\t{unit}"));
}
