using System.Diagnostics;
using System.Numerics;
using Carry.Numerics;

namespace Carry.Analysis;

/// <summary>Options of <see cref="Explainer.Run{T}"/>.</summary>
public sealed record ExplainOptions
{
    /// <summary>Time for the whole analysis (default 5 minutes); most of it goes to the counterexample search.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Every input sequence up to this many steps is checked (default 12: 22,369,620 steps).</summary>
    public int ExhaustiveDepth { get; init; } = 12;

    /// <summary>Random sequences checked (default 100).</summary>
    public int RandomSequences { get; init; } = 100;

    /// <summary>Steps of each random sequence (default 10,000).</summary>
    public int RandomSteps { get; init; } = 10_000;

    /// <summary>Seed of every random choice (default 0).</summary>
    public ulong Seed { get; init; }

    /// <summary>Largest quantisation tried, q (default 8).</summary>
    public int MaxLevels { get; init; } = 8;

    /// <summary>Checks the values; throws <see cref="ArgumentOutOfRangeException"/>.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Budget, TimeSpan.Zero, nameof(Budget));
        ArgumentOutOfRangeException.ThrowIfLessThan(ExhaustiveDepth, 1, nameof(ExhaustiveDepth));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ExhaustiveDepth, 14, nameof(ExhaustiveDepth));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RandomSequences, nameof(RandomSequences));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RandomSteps, nameof(RandomSteps));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLevels, 2, nameof(MaxLevels));
    }
}

/// <summary>Reachable hidden states from random additions: <c>States [N, S]</c>, the carry after each step, and the symbols that led there.</summary>
/// <param name="States">Hidden states <c>[sequences · steps, S]</c>, sequence-major.</param>
/// <param name="Carries">The full adder's carry after each of those steps.</param>
/// <param name="Symbols">The symbols <c>[sequences, steps]</c>.</param>
/// <param name="Steps">Steps per sequence.</param>
public sealed record StateSample(double[] States, byte[] Carries, byte[] Symbols, int Steps)
{
    /// <summary>The state of <paramref name="machine"/> after each sampled step.</summary>
    public int[] Label(MealyMachine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var labels = new int[Carries.Length];
        for (int start = 0; start < Symbols.Length; start += Steps)
        {
            int q = 0;
            for (int t = 0; t < Steps; t++)
            {
                q = machine.Next(q, Symbols[start + t]);
                labels[start + t] = q;
            }
        }
        return labels;
    }

    /// <summary>Steps <paramref name="sequences"/> random sequences of <paramref name="steps"/> symbols from the zero state.</summary>
    public static StateSample Draw<T>(AdderNetwork<T> network, int sequences, int steps, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        int s = network.StateSize;
        var random = new RandomGenerator(seed);
        var symbols = new byte[sequences * steps];
        for (int i = 0; i < symbols.Length; i++) symbols[i] = (byte)random.NextInt(4);
        var run = new SequenceRun<T>(network, null, sequences);
        var states = new double[sequences * steps * s];
        var carries = new byte[sequences * steps];
        var column = new byte[sequences];
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < sequences; i++) column[i] = symbols[(i * steps) + t];
            run.Step(column);
            for (int i = 0; i < sequences; i++)
            {
                int row = (i * steps) + t;
                carries[row] = run.Carry[i];
                for (int j = 0; j < s; j++) states[(row * s) + j] = double.CreateChecked(run.States[(i * s) + j]);
            }
        }
        return new StateSample(states, carries, symbols, steps);
    }
}

/// <summary>What <see cref="Explainer.Run{T}"/> found.</summary>
/// <param name="Machine">The extracted machine (raw and minimal).</param>
/// <param name="IsFullAdder">Whether the minimal machine is equivalent to the full adder.</param>
/// <param name="LevelsTried">Quantisation levels tried, with the steps that disagreed on the quick check (−1: too many states).</param>
/// <param name="Exhaustive">Agreement on every sequence up to <see cref="ExplainOptions.ExhaustiveDepth"/> steps.</param>
/// <param name="Random">Agreement on the random long sequences.</param>
/// <param name="Search">The counterexample search.</param>
/// <param name="Sample">Reachable states, for pictures.</param>
/// <param name="Elapsed">Wall time of the whole analysis.</param>
public sealed record Explanation(ExtractedMachine Machine, bool IsFullAdder, IReadOnlyList<(int Levels, long Disagreements)> LevelsTried,
    AgreementResult Exhaustive, AgreementResult Random, SearchResult Search, StateSample Sample, TimeSpan Elapsed);

/// <summary>
/// <c>carry explain</c>'s analysis: extract the machine, compare it with the full adder, check it
/// against the network (exhaustively on short sequences, then on long random ones) and search
/// for counterexamples. The budget is split in time order: extraction until 10%, the exhaustive
/// check until 35%, the random check until 45%, the search to the end (each phase gets what the
/// ones before it left).
/// </summary>
public static class Explainer
{
    /// <summary>Runs the analysis on <paramref name="network"/>.</summary>
    /// <exception cref="NotSupportedException">No quantisation gives a machine small enough to explore.</exception>
    public static Explanation Run<T>(AdderNetwork<T> network, ExplainOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        TimeSpan At(double fraction) => options.Budget * fraction;
        var sample = StateSample.Draw(network, 256, 64, options.Seed);
        var sampleStates = sample.States.Select(T.CreateChecked).ToArray();
        var (machine, tried) = Extract(network, sampleStates, options, clock, At(0.10));
        bool full = machine.Minimal.EquivalentTo(MealyMachine.FullAdder());
        var exhaustive = Agreement.Exhaustive(network, machine.Minimal, options.ExhaustiveDepth, clock, At(0.35));
        var random = Agreement.Random(network, machine.Minimal, options.RandomSequences, options.RandomSteps, options.Seed + 1, clock, At(0.45));
        var known = new[] { exhaustive.FirstWrong, random.FirstWrong }.OfType<byte[]>();
        var search = CounterexampleSearch.Run(network, sampleStates, sample.Carries, known, options.Seed + 2, clock, options.Budget);
        return new Explanation(machine, full, tried, exhaustive, random, search, sample, clock.Elapsed);
    }

    /// <summary>
    /// Tries q = 2, 3, … until the minimal machine agrees with the network on every sequence up to
    /// 6 steps and on 64 random sequences of 256 steps (or the time is up); keeps the first that
    /// agrees, else the one that disagreed least.
    /// </summary>
    private static (ExtractedMachine Machine, List<(int, long)> Tried) Extract<T>(AdderNetwork<T> network, T[] sample, ExplainOptions options, Stopwatch clock, TimeSpan deadline)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ExtractedMachine? best = null;
        long bestMisses = long.MaxValue;
        var tried = new List<(int, long)>();
        var forever = TimeSpan.MaxValue;
        for (int q = 2; q <= options.MaxLevels; q++)
        {
            if (best is not null && clock.Elapsed > deadline) break;
            var machine = MachineExtraction.Extract(network, q, sample);
            if (machine is null)
            {
                tried.Add((q, -1));
                continue;
            }
            long misses = Agreement.Exhaustive(network, machine.Minimal, 6, clock, forever).Disagreements
                + Agreement.Random(network, machine.Minimal, 64, 256, options.Seed + 3, clock, forever).Disagreements;
            tried.Add((q, misses));
            if (misses < bestMisses)
            {
                best = machine;
                bestMisses = misses;
            }
            if (misses == 0) break;
        }
        return (best ?? throw new NotSupportedException(
            $"no quantisation from q = 2 to {options.MaxLevels} gave a machine of at most {MachineExtraction.MaxRawStates} states: the network's states are too spread for state quantisation"), tried);
    }
}
