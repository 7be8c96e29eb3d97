using System.Diagnostics;
using Carry.Training;

namespace Carry.Tests;

/// <summary>The clock behind the sweep's budget: the calling thread's processor time, not the wall's.</summary>
public sealed class ThreadClockTests
{
    [Fact]
    public void GivenLinux_WhenAThreadSleepsAndThenWorks_ThenOnlyTheWorkCounts()
    {
        var clock = new ThreadClock();
        Assert.Equal(OperatingSystem.IsLinux(), clock.IsProcessorTime);
        if (!clock.IsProcessorTime) return; // elsewhere it is a stopwatch, which the sweep tests use

        double start = clock.Seconds;
        Thread.Sleep(300);
        double slept = clock.Seconds - start;
        double x = 0;
        var spin = Stopwatch.StartNew();
        while (spin.ElapsedMilliseconds < 200) x += Math.Sqrt(x + 1);
        double worked = clock.Seconds - start - slept;

        Assert.InRange(slept, 0, 0.05); // 300 ms asleep cost (almost) no processor time
        Assert.True(worked > 0, $"200 ms of arithmetic counted {worked} s ({x})");
        Assert.True(worked <= spin.Elapsed.TotalSeconds + 0.01, "a thread cannot run longer than the wall clock");
    }
}
