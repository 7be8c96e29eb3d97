using System.Numerics;

namespace Carry.Analysis;

/// <summary>One extraction: the machine as quantised, the minimal machine, and how it was found.</summary>
/// <param name="Raw">The machine over quantisation cells, before minimisation.</param>
/// <param name="Minimal">The minimal equivalent machine.</param>
/// <param name="Levels">Quantisation levels per state dimension, q.</param>
/// <param name="Representatives">The hidden state first seen in each raw state <c>[Q_raw, S]</c>.</param>
/// <param name="RawToMinimal">The minimal state each raw state belongs to.</param>
public sealed record ExtractedMachine(MealyMachine Raw, MealyMachine Minimal, int Levels, double[] Representatives, int[] RawToMinimal);

/// <summary>
/// Extracts a Mealy machine from an aligned adder by state-space quantisation, after Omlin &amp;
/// Giles, "Extraction of rules from discrete-time recurrent neural networks", <i>Neural
/// Networks</i> 9(1), 41–52 (1996): each state dimension's observed range is cut into q equal
/// intervals; a breadth-first walk from the zero state feeds every symbol to the network, and a
/// hidden state that falls into an unvisited cell becomes a new machine state (represented by that
/// first state, whose successors are explored in turn), one that falls into a visited cell goes to
/// that cell's state. The output of each transition is the network's rounded output. Adapted to
/// Mealy machines only in that outputs sit on transitions, not on states. The result is minimised
/// (<see cref="MealyMachine.Minimize"/>); q grows from 2 until the machine agrees with the
/// network on a check sample, as Omlin &amp; Giles choose the quantisation.
/// </summary>
public static class MachineExtraction
{
    /// <summary>Largest raw machine explored for one q before trying the next.</summary>
    public const int MaxRawStates = 20_000;

    /// <summary>
    /// Extracts with <paramref name="levels"/> intervals per dimension; the range of each
    /// dimension is taken from <paramref name="sample"/> <c>[N, S]</c> (reachable states).
    /// Returns null when the walk exceeds <see cref="MaxRawStates"/> states.
    /// </summary>
    public static ExtractedMachine? Extract<T>(AdderNetwork<T> network, int levels, ReadOnlySpan<T> sample) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfLessThan(levels, 2);
        int s = network.StateSize;
        var (low, high) = Range(sample, s);
        var cells = new Dictionary<string, int>();
        var reps = new List<T[]>();
        var next = new List<int>();
        var output = new List<byte>();
        var start = network.InitialState();
        cells[Cell(start, low, high, levels)] = 0;
        reps.Add(start);
        var half = T.CreateChecked(0.5);
        for (int done = 0; done < reps.Count;)
        {
            int batch = Math.Min(reps.Count - done, 4096);
            var states = new T[batch * 4 * s]; // [4B, S]: each representative once per symbol
            var symbols = new byte[batch * 4];
            for (int i = 0; i < batch * 4; i++)
            {
                reps[done + (i / 4)].CopyTo(states.AsSpan(i * s, s));
                symbols[i] = (byte)(i % 4);
            }
            var outs = new T[batch * 4];
            network.Step(states, symbols, states, outs);
            for (int i = 0; i < batch * 4; i++)
            {
                var h = states.AsSpan(i * s, s);
                string key = Cell(h, low, high, levels);
                if (!cells.TryGetValue(key, out int q))
                {
                    if (reps.Count >= MaxRawStates) return null;
                    cells[key] = q = reps.Count;
                    reps.Add(h.ToArray());
                }
                next.Add(q);
                output.Add(outs[i] >= half ? (byte)1 : (byte)0);
            }
            done += batch;
        }
        var raw = new MealyMachine(reps.Count, [.. next], [.. output]);
        var minimal = raw.Minimize();
        return new ExtractedMachine(raw, minimal, levels, Flatten(reps), MapToMinimal(raw, minimal));
    }

    /// <summary>The minimal state of each raw state: walk both machines in step from their starts.</summary>
    private static int[] MapToMinimal(MealyMachine raw, MealyMachine minimal)
    {
        var map = new int[raw.States];
        Array.Fill(map, -1);
        map[0] = 0;
        var queue = new Queue<int>([0]);
        while (queue.Count > 0)
        {
            int q = queue.Dequeue();
            for (int s = 0; s < 4; s++)
            {
                int r = raw.Next(q, s);
                if (map[r] >= 0) continue;
                map[r] = minimal.Next(map[q], s);
                queue.Enqueue(r);
            }
        }
        return map;
    }

    private static (double[] Low, double[] High) Range<T>(ReadOnlySpan<T> sample, int s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var low = new double[s];
        var high = new double[s];
        Array.Fill(low, double.PositiveInfinity);
        Array.Fill(high, double.NegativeInfinity);
        for (int i = 0; i < sample.Length; i++)
        {
            double v = double.CreateChecked(sample[i]);
            low[i % s] = Math.Min(low[i % s], v);
            high[i % s] = Math.Max(high[i % s], v);
        }
        return (low, high);
    }

    private static string Cell<T>(ReadOnlySpan<T> h, double[] low, double[] high, int levels) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<char> key = stackalloc char[h.Length];
        for (int j = 0; j < h.Length; j++)
        {
            double width = high[j] - low[j];
            int bin = width > 0 ? (int)Math.Floor((double.CreateChecked(h[j]) - low[j]) / width * levels) : 0;
            key[j] = (char)('A' + Math.Clamp(bin, 0, levels - 1));
        }
        return new string(key);
    }

    private static double[] Flatten<T>(List<T[]> rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int s = rows[0].Length;
        var flat = new double[rows.Count * s];
        for (int i = 0; i < rows.Count; i++)
        {
            for (int j = 0; j < s; j++) flat[(i * s) + j] = double.CreateChecked(rows[i][j]);
        }
        return flat;
    }
}
