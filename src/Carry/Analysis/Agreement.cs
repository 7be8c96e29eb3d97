using System.Diagnostics;
using System.Numerics;
using Carry.Numerics;

namespace Carry.Analysis;

/// <summary>
/// How a network compares with a machine on a set of input sequences. Every step of every
/// sequence counts once (a trie node is one step: the last of its prefix).
/// </summary>
/// <param name="Steps">Steps checked.</param>
/// <param name="Planned">Steps the check set out to do (less than <paramref name="Steps"/> means the budget ran out).</param>
/// <param name="Disagreements">Steps where the network's rounded output differs from the machine's.</param>
/// <param name="Wrong">Steps where the network's output differs from the true sum bit (the full adder's).</param>
/// <param name="FirstDisagreement">The shortest sequence found whose last step disagrees with the machine, or null.</param>
/// <param name="FirstWrong">The shortest sequence found whose last step is a wrong sum bit, or null.</param>
/// <param name="Elapsed">Wall time of the check.</param>
/// <param name="Processor">Processor time the process spent meanwhile (every thread, the collector's too).</param>
public sealed record AgreementResult(long Steps, long Planned, long Disagreements, long Wrong, byte[]? FirstDisagreement, byte[]? FirstWrong, TimeSpan Elapsed, TimeSpan Processor)
{
    /// <summary>True when the check ran to the end.</summary>
    public bool Complete => Steps == Planned;
}

/// <summary>
/// Checks a network against a machine: on every input sequence up to a length (one prefix trie,
/// stepped a level at a time in batches, deeper levels depth-first in chunks so memory stays
/// small), and on long random sequences.
/// </summary>
public static class Agreement
{
    /// <summary>Rows stepped in one batch: large enough to amortise a call, small enough for the cache.</summary>
    public const int StepRows = 1 << 13;

    /// <summary>Rows at the deepest level of one depth-first chunk of the trie.</summary>
    public const int ChunkRows = 1 << 16;

    /// <summary>Number of trie nodes (steps) over all sequences of length 1..<paramref name="depth"/>: (4^(d+1) − 4) / 3.</summary>
    public static long TrieSteps(int depth) => ((1L << (2 * (depth + 1))) - 4) / 3;

    /// <summary>
    /// Every sequence of length 1..<paramref name="depth"/> (e.g. 12: 22,369,620 steps). Stops early,
    /// with a partial count, once <paramref name="deadline"/> has passed.
    /// </summary>
    public static AgreementResult Exhaustive<T>(AdderNetwork<T> network, MealyMachine machine, int depth, Stopwatch clock, TimeSpan deadline)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(depth, 14);
        var started = clock.Elapsed;
        var processor = Environment.CpuUsage.TotalTime;
        var tally = new Tally();
        var stepper = new BatchStepper<T>(network);
        var level = TrieLevel<T>.Root(network);
        int top = Math.Min(depth, 6);
        for (int d = 1; d <= top; d++)
        {
            var child = new TrieLevel<T>(level.Count * 4, network.StateSize);
            level.ExpandInto(child, stepper, machine);
            level = child;
            tally.Add(level, d);
        }
        int below = depth - top;
        int chunk = Math.Max(1, ChunkRows >> (2 * below));
        // The chunks are independent: each core takes every workers-th chunk with its own copy of the network.
        int workers = below > 0 ? Math.Clamp(Environment.ProcessorCount, 1, 2) : 1;
        var parts = new Tally[workers];
        Parallel.For(0, workers, w =>
        {
            var mine = new Tally();
            var net = w == 0 ? network : network.Clone();
            var chunkStepper = new BatchStepper<T>(net);
            var levels = new TrieLevel<T>[below + 1]; // reused for every chunk: no allocation in the loop
            for (int d = 0; d <= below; d++) levels[d] = new TrieLevel<T>(chunk << (2 * d), net.StateSize);
            for (int start = w * chunk; start < level.Count && below > 0; start += workers * chunk)
            {
                if (clock.Elapsed > deadline) break;
                level.CopyRows(start, Math.Min(chunk, level.Count - start), levels[0]);
                for (int d = 1; d <= below; d++)
                {
                    levels[d - 1].ExpandInto(levels[d], chunkStepper, machine);
                    mine.Add(levels[d], top + d);
                }
            }
            parts[w] = mine;
        });
        foreach (var part in parts) tally.Merge(part);
        return new AgreementResult(tally.Steps, TrieSteps(depth), tally.Disagreements, tally.Wrong, tally.FirstDisagreement, tally.FirstWrong, clock.Elapsed - started,
            Environment.CpuUsage.TotalTime - processor);
    }

    /// <summary>
    /// <paramref name="sequences"/> random sequences of <paramref name="steps"/> steps each (uniform
    /// symbols from <paramref name="seed"/>), stepped side by side; stops early after <paramref name="deadline"/>.
    /// </summary>
    public static AgreementResult Random<T>(AdderNetwork<T> network, MealyMachine machine, int sequences, int steps, ulong seed, Stopwatch clock, TimeSpan deadline)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(machine);
        var started = clock.Elapsed;
        var processor = Environment.CpuUsage.TotalTime;
        var random = new RandomGenerator(seed);
        var inputs = new byte[sequences * steps]; // [N, steps]
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (byte)random.NextInt(4);
        var run = new SequenceRun<T>(network, machine, sequences);
        long disagree = 0, wrong = 0, done = 0;
        var column = new byte[sequences];
        byte[]? firstDisagreement = null, firstWrong = null;
        for (int t = 0; t < steps && clock.Elapsed <= deadline; t++)
        {
            for (int i = 0; i < sequences; i++) column[i] = inputs[(i * steps) + t];
            run.Step(column);
            for (int i = 0; i < sequences; i++)
            {
                if (run.Bit[i] != run.MachineBit[i])
                {
                    disagree++;
                    if (firstDisagreement is null || t + 1 < firstDisagreement.Length) firstDisagreement = inputs.AsSpan(i * steps, t + 1).ToArray();
                }
                if (run.Bit[i] != run.SumBit[i])
                {
                    wrong++;
                    if (firstWrong is null || t + 1 < firstWrong.Length) firstWrong = inputs.AsSpan(i * steps, t + 1).ToArray();
                }
            }
            done += sequences;
        }
        return new AgreementResult(done, (long)sequences * steps, disagree, wrong, firstDisagreement, firstWrong, clock.Elapsed - started,
            Environment.CpuUsage.TotalTime - processor);
    }

    private sealed class Tally
    {
        public long Steps, Disagreements, Wrong;
        public byte[]? FirstDisagreement, FirstWrong;

        /// <summary>Adds another tally; the shortest sequences win, the smaller one (as base-4 numbers) among equals, so the result does not depend on which core found what.</summary>
        public void Merge(Tally other)
        {
            Steps += other.Steps;
            Disagreements += other.Disagreements;
            Wrong += other.Wrong;
            FirstDisagreement = Shorter(FirstDisagreement, other.FirstDisagreement);
            FirstWrong = Shorter(FirstWrong, other.FirstWrong);
        }

        private static byte[]? Shorter(byte[]? a, byte[]? b) =>
            a is null ? b : b is null ? a : a.Length != b.Length ? (a.Length < b.Length ? a : b) : (a.AsSpan().SequenceCompareTo(b) <= 0 ? a : b);

        public void Add<T>(TrieLevel<T> level, int depth) where T : unmanaged, IFloatingPointIeee754<T>
        {
            Steps += level.Count;
            for (int i = 0; i < level.Count; i++)
            {
                if (level.Bit[i] != level.MachineBit[i])
                {
                    Disagreements++;
                    if (FirstDisagreement is null || depth < FirstDisagreement.Length) FirstDisagreement = level.Path(i, depth);
                }
                if (level.Bit[i] != level.SumBit[i])
                {
                    Wrong++;
                    if (FirstWrong is null || depth < FirstWrong.Length) FirstWrong = level.Path(i, depth);
                }
            }
        }
    }
}

/// <summary>One level of the prefix trie: a row per sequence, with the network's and both machines' states after it.</summary>
internal sealed class TrieLevel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly T[] States;       // [N, S]
    public readonly int[] Machine;    // [N] extracted machine's state
    public readonly byte[] Carry;     // [N] full adder's state
    public readonly long[] Prefix;    // [N] the sequence as a base-4 number, first symbol most significant
    public readonly byte[] Bit, MachineBit, SumBit; // [N] outputs at the last step

    public TrieLevel(int capacity, int s)
    {
        States = new T[capacity * s];
        Machine = new int[capacity];
        Carry = new byte[capacity];
        Prefix = new long[capacity];
        Bit = new byte[capacity];
        MachineBit = new byte[capacity];
        SumBit = new byte[capacity];
        Count = capacity;
    }

    public int Count { get; private set; }

    public static TrieLevel<T> Root(AdderNetwork<T> network) => new(1, network.StateSize);

    public void CopyRows(int start, int count, TrieLevel<T> into)
    {
        int s = States.Length / Machine.Length;
        States.AsSpan(start * s, count * s).CopyTo(into.States);
        Machine.AsSpan(start, count).CopyTo(into.Machine);
        Carry.AsSpan(start, count).CopyTo(into.Carry);
        Prefix.AsSpan(start, count).CopyTo(into.Prefix);
        into.Count = count;
    }

    /// <summary>Every row followed by each of the four symbols, stepped in batches, written into <paramref name="child"/>.</summary>
    public void ExpandInto(TrieLevel<T> child, BatchStepper<T> stepper, MealyMachine machine)
    {
        int n = Count * 4, s = States.Length / Machine.Length;
        child.Count = n;
        var symbols = new byte[n];
        for (int i = 0; i < n; i++)
        {
            int p = i >> 2, sym = i & 3;
            States.AsSpan(p * s, s).CopyTo(child.States.AsSpan(i * s, s));
            symbols[i] = (byte)sym;
            child.Prefix[i] = (Prefix[p] << 2) | (uint)sym;
            child.Machine[i] = machine.Next(Machine[p], sym);
            child.MachineBit[i] = (byte)machine.Output(Machine[p], sym);
            int sum = AdderNetwork<T>.BitA(sym) + AdderNetwork<T>.BitB(sym) + Carry[p];
            child.Carry[i] = (byte)(sum >> 1);
            child.SumBit[i] = (byte)(sum & 1);
        }
        stepper.Step(child.States.AsSpan(0, n * s), symbols, child.Bit);
    }

    /// <summary>The symbols of row <paramref name="i"/>, first to last.</summary>
    public byte[] Path(int i, int depth)
    {
        var path = new byte[depth];
        for (int t = depth - 1; t >= 0; t--) path[t] = (byte)((Prefix[i] >> (2 * (depth - 1 - t))) & 3);
        return path;
    }
}

/// <summary>Steps any number of rows in place, <see cref="Agreement.StepRows"/> at a time through buffers it reuses, and writes the rounded bits.</summary>
internal sealed class BatchStepper<T>(AdderNetwork<T> network) where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _states = new T[Agreement.StepRows * network.StateSize]; // [B, S]
    private readonly T[] _outputs = new T[Agreement.StepRows];

    public void Step(Span<T> states, ReadOnlySpan<byte> symbols, Span<byte> bits)
    {
        int s = network.StateSize, n = symbols.Length;
        var half = T.CreateChecked(0.5);
        for (int start = 0; start < n; start += Agreement.StepRows)
        {
            int m = Math.Min(Agreement.StepRows, n - start);
            var rows = states.Slice(start * s, m * s);
            T[] buffer = m == Agreement.StepRows ? _states : new T[m * s];
            T[] outputs = m == Agreement.StepRows ? _outputs : new T[m];
            rows.CopyTo(buffer);
            network.Step(buffer, symbols.Slice(start, m), buffer, outputs);
            buffer.AsSpan(0, m * s).CopyTo(rows);
            for (int i = 0; i < m; i++) bits[start + i] = outputs[i] >= half ? (byte)1 : (byte)0;
        }
    }
}

/// <summary>A batch of sequences stepped together, with the extracted machine and the full adder alongside.</summary>
internal sealed class SequenceRun<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly AdderNetwork<T> _network;
    private readonly MealyMachine? _machine;
    private readonly int[] _machineState;
    private readonly T[] _outputs;

    public SequenceRun(AdderNetwork<T> network, MealyMachine? machine, int count)
    {
        _network = network;
        _machine = machine;
        States = new T[count * network.StateSize];
        _machineState = new int[count];
        Carry = new byte[count];
        Bit = new byte[count];
        MachineBit = new byte[count];
        SumBit = new byte[count];
        _outputs = new T[count];
    }

    public T[] States { get; }      // [N, S]
    public byte[] Carry { get; }    // [N] full adder state after the step
    public byte[] Bit { get; }      // [N] network's bit at the last step
    public byte[] MachineBit { get; }
    public byte[] SumBit { get; }
    public ReadOnlySpan<T> Outputs => _outputs;

    public void Step(ReadOnlySpan<byte> symbols)
    {
        _network.Step(States, symbols, States, _outputs);
        var half = T.CreateChecked(0.5);
        for (int i = 0; i < symbols.Length; i++)
        {
            int sym = symbols[i];
            Bit[i] = _outputs[i] >= half ? (byte)1 : (byte)0;
            if (_machine is not null)
            {
                MachineBit[i] = (byte)_machine.Output(_machineState[i], sym);
                _machineState[i] = _machine.Next(_machineState[i], sym);
            }
            int sum = AdderNetwork<T>.BitA(sym) + AdderNetwork<T>.BitB(sym) + Carry[i];
            Carry[i] = (byte)(sum >> 1);
            SumBit[i] = (byte)(sum & 1);
        }
    }
}
