using Carry.Arithmetic;
using Carry.Layers;

namespace Carry.Tests;

/// <summary>The adder sweep behind <c>carry experiments</c>: its grid, one budgeted run, and its table.</summary>
[Collection("Console")]
public sealed class AdderSweepTests
{
    [Fact]
    public void GivenTheQuickGrid_WhenListed_ThenEveryCellAndBothEncodingsAreThereAndJordanSumOnlyAligned()
    {
        var grid = AdderSweep.Grid(quick: true);
        Assert.Equal(AdderSweep.Cells.Count + AdderSweep.Cells.Count - 1, grid.Count);
        Assert.All(AdderSweep.Cells, cell => Assert.Contains(grid, r => r.Cell == cell && r.Encoding == AlignedEncoding.Name));
        Assert.DoesNotContain(grid, r => r.Cell == "jordan-sum" && r.Encoding == ConcatEncoding.Name);
        Assert.Equal(3 * 3 * grid.Count, AdderSweep.Grid(quick: false).Count); // three widths, three seeds
    }

    [Fact]
    public void GivenAJordanSumBitAdder_WhenBuilt_ThenItsOnlyLayerIsAJordanWhoseOutputIsOneBit()
    {
        var model = AdderSweep.Model(new SweepRun("jordan-sum", AlignedEncoding.Name, 4, 8, 0));
        var jordan = Assert.IsType<Jordan<float>>(Assert.Single(model.Layers));
        Assert.Equal(1, jordan.OutputSize);
        Assert.Equal([5, 1], model.OutputShape([5, 2]));
    }

    [Fact]
    public void GivenASmallBudget_WhenAnAlignedAdderRuns_ThenItStaysWithinItAndIsTestedAtTheWiderWidths()
    {
        var result = AdderSweep.Run(new SweepRun("elman", AlignedEncoding.Name, 2, 4, 0), new SweepBudget(Epochs: 3, Seconds: 60));

        Assert.InRange(result.Epochs, 1, 3);
        Assert.Equal([4, 16, 128], result.Widths.Select(w => w.Width));
        Assert.InRange(result.BestExact, 0, 1);
        Assert.Equal(result.FirstExactEpoch is not null, result.BestExact >= 1);
        string table = AdderSweep.Markdown([result]);
        Assert.Contains("| elman | aligned | 2 | 4 | 0 |", table, StringComparison.Ordinal);
        Assert.Contains("\"widths\"", AdderSweep.Json([result]), StringComparison.Ordinal);
    }

    [Fact]
    public void GivenTwoJobs_WhenASweepRuns_ThenItsResultsAndHistoriesAreThoseOfOneJobInTheGridsOrder()
    {
        SweepRun[] runs = [new("elman", AlignedEncoding.Name, 2, 4, 0), new("gru", ConcatEncoding.Name, 2, 4, 1), new("jordan-sum", AlignedEncoding.Name, 2, 4, 2)];
        var budget = new SweepBudget(Epochs: 4, Seconds: 60);
        var finished = new List<string>();

        var one = AdderSweep.RunAll(runs, budget, jobs: 1);
        var two = AdderSweep.RunAll(runs, budget, jobs: 2, r => finished.Add(r.Name));

        Assert.Equal(runs, two.Select(r => r.Run));
        Assert.Equal(["elman-aligned-2bit-seed0", "gru-concat-2bit-seed1", "jordan-sum-aligned-2bit-seed2"], finished.Order());
        for (int i = 0; i < runs.Length; i++)
        {
            Assert.Equal(one[i].Epochs, two[i].History.Count);
            Assert.Equal(one[i].History.Select(e => e.Loss), two[i].History.Select(e => e.Loss)); // same training, bit for bit
            Assert.Equal(one[i].BestExact, two[i].BestExact);
        }
    }

    [Fact]
    public void GivenACancelledToken_WhenASweepRuns_ThenNoAdderIsReported()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Empty(AdderSweep.RunAll([new("elman", AlignedEncoding.Name, 2, 4, 0)], new SweepBudget(4, 60), jobs: 2, cancellationToken: cancelled.Token));
    }

    [Theory]
    [InlineData("--jobs: 0 is not a number of adders", "--jobs", "0")]
    [InlineData("--cells: unknown cell 'rnn'", "--cells", "rnn")]
    [InlineData("--seeds: 'x' is not a seed", "--seeds", "x")]
    public void GivenBadSweepFlags_WhenRunningExperiments_ThenOneLineAndExit2(string expected, params string[] flags)
    {
        var (code, _, error) = CliRunner.Run(["experiments", "--quick", .. flags]);

        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }
}
