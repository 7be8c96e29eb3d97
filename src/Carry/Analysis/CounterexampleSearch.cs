using System.Diagnostics;
using System.Numerics;
using Carry.Arithmetic;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Analysis;

/// <summary>An addition the network gets wrong, confirmed by <see cref="Addition.Add{T}"/>: it answers <paramref name="Got"/>.</summary>
public sealed record Counterexample(BigInteger A, BigInteger B, BigInteger Got)
{
    /// <summary>Operand width in bits (the longer operand).</summary>
    public long Width => Math.Max(A.GetBitLength(), B.GetBitLength());
}

/// <summary>How far the search went and what it found.</summary>
/// <param name="Shortest">The narrowest confirmed counterexample, or null.</param>
/// <param name="StructuredDone">Structured additions run (long carry chains and the like).</param>
/// <param name="StructuredPlanned">Structured additions planned.</param>
/// <param name="StructuredWidest">The widest structured addition run, in bits.</param>
/// <param name="GuidedRounds">Rounds of the guided (beam) search finished.</param>
/// <param name="GuidedSteps">Network steps the guided search took.</param>
/// <param name="Failures">Failing steps seen (before confirmation).</param>
public sealed record SearchResult(Counterexample? Shortest, int StructuredDone, int StructuredPlanned, int StructuredWidest, int GuidedRounds, long GuidedSteps, long Failures);

/// <summary>
/// Looks for additions a network gets wrong, beyond random sampling:
/// <list type="number">
/// <item>Structured additions at widths 1…65,536 bits: the long carry chains that a learned carry
/// must hold (all ones plus one, all ones plus all ones, a number plus its complement plus one),
/// alternating bit patterns, and the symmetric inputs <c>a = b</c> on which learned adders are
/// known to fail.</item>
/// <item>A guided beam search: from the zero state, every sequence in the beam is extended by the
/// four bit pairs and the beam keeps those whose hidden state lies furthest (in standard
/// deviations, per unit) from the typical states of its machine state — following the states
/// drifting away from the machine's, where a wrong bit is most likely.</item>
/// </list>
/// Every failing step found is confirmed on <see cref="Addition.Add{T}"/> (the whole-sequence path
/// <c>carry add</c> uses) before it is reported.
/// </summary>
public static class CounterexampleSearch
{
    /// <summary>Widest structured addition, in bits.</summary>
    public const int MaxStructuredWidth = 1 << 16;

    /// <summary>Sequences kept in the beam.</summary>
    public const int BeamWidth = 256;

    /// <summary>Failing sequences a beam round keeps for confirmation.</summary>
    private const int MaxTraces = 8;

    /// <summary>Steps per beam round.</summary>
    public const int BeamDepth = 2048;

    /// <summary>Runs the search until it is done or <paramref name="deadline"/> passes on <paramref name="clock"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="sample">Reachable states <c>[N, S]</c> with the full adder's carry after each (<paramref name="carries"/> <c>[N]</c>), for the drift measure.</param>
    /// <param name="carries">The carry of each sample row.</param>
    /// <param name="known">Failing sequences found by other checks, confirmed alongside.</param>
    /// <param name="seed">Seed of the random parts.</param>
    /// <param name="clock">Running clock.</param>
    /// <param name="deadline">When to stop.</param>
    public static SearchResult Run<T>(AdderNetwork<T> network, ReadOnlySpan<T> sample, ReadOnlySpan<byte> carries, IEnumerable<byte[]> known, ulong seed, Stopwatch clock, TimeSpan deadline)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(known);
        var found = new List<byte[]>(known);
        var random = new RandomGenerator(seed);
        long failures = 0;
        var widths = StructuredWidths();
        int planned = widths.Sum(w => Structured(w, random).Count), done = 0, widest = 0;
        foreach (int w in widths)
        {
            if (clock.Elapsed > deadline) break;
            var pairs = Structured(w, random);
            failures += RunPairs(network, pairs, w + 1, found);
            done += pairs.Count;
            widest = w;
        }
        var drift = DriftMeasure.Create(sample, carries, network.StateSize);
        int rounds = 0;
        long guidedSteps = 0;
        while (clock.Elapsed <= deadline)
        {
            var (steps, fails, complete) = BeamRound(network, drift, rounds == 0 ? 0 : 0.2, random, found, clock, deadline);
            guidedSteps += steps;
            failures += fails;
            if (complete) rounds++;
        }
        return new SearchResult(Shortest(network, found), done, planned, widest, rounds, guidedSteps, failures);
    }

    /// <summary>Widths of the structured additions: 1…64, then 1, 1.5 × each power of two up to <see cref="MaxStructuredWidth"/>.</summary>
    public static List<int> StructuredWidths()
    {
        var widths = Enumerable.Range(1, 64).ToList();
        for (int w = 64; w <= MaxStructuredWidth; w *= 2)
        {
            if (w > 64) widths.Add(w);
            if (w + (w / 2) <= MaxStructuredWidth) widths.Add(w + (w / 2));
        }
        return widths;
    }

    /// <summary>The structured additions of width <paramref name="w"/> (operands below 2^w).</summary>
    public static List<(BigInteger A, BigInteger B)> Structured(int w, RandomGenerator random)
    {
        ArgumentNullException.ThrowIfNull(random);
        BigInteger ones = (BigInteger.One << w) - 1, top = BigInteger.One << (w - 1);
        BigInteger alternate = ones / 3, alternateHigh = ones - alternate; // 0101…01 and 1010…10
        BigInteger r = RandomBits.Next(w, random);
        return
        [
            (ones, 1), (1, ones),              // all ones plus one: a carry through every bit
            (ones, ones),                      // symmetric, carry generated at every bit
            (alternate, alternateHigh),        // no carry: all ones out
            (alternate, alternate), (alternateHigh, alternateHigh), // symmetric alternating
            (ones - 1, 2),                     // chain starting one bit up
            (top, top),                        // one carry, at the top
            (r, r),                            // symmetric random
            (r, ones - r),                     // complement: all ones, no carry
            (r, ones - r + 1),                 // complement plus one: a carry through a random propagate chain
            (ones, 0),
        ];
    }

    /// <summary>Runs pairs of one width side by side and adds the failing prefixes to <paramref name="found"/>; returns the failing steps.</summary>
    private static long RunPairs<T>(AdderNetwork<T> network, List<(BigInteger A, BigInteger B)> pairs, int steps, List<byte[]> found)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = pairs.Count;
        var run = new SequenceRun<T>(network, null, n);
        var symbols = new byte[n * steps]; // [N, steps]
        for (int i = 0; i < n; i++) Encode(pairs[i].A, pairs[i].B, symbols.AsSpan(i * steps, steps));
        var column = new byte[n];
        var failedAt = new int[n];
        long failures = 0;
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < n; i++) column[i] = symbols[(i * steps) + t];
            run.Step(column);
            for (int i = 0; i < n; i++)
            {
                if (run.Bit[i] == run.SumBit[i]) continue;
                failures++;
                if (failedAt[i] == 0) failedAt[i] = t + 1;
            }
        }
        for (int i = 0; i < n; i++)
        {
            if (failedAt[i] > 0) found.Add(symbols.AsSpan(i * steps, failedAt[i]).ToArray()); // the prefix up to the first wrong bit: the outputs before it are the same (causal)
        }
        return failures;
    }

    /// <summary>Symbols of an addition over <c>steps</c> steps: bit t of a and b at step t.</summary>
    public static void Encode(BigInteger a, BigInteger b, Span<byte> symbols)
    {
        byte[] aBytes = a.ToByteArray(isUnsigned: true, isBigEndian: false), bBytes = b.ToByteArray(isUnsigned: true, isBigEndian: false);
        for (int t = 0; t < symbols.Length; t++) symbols[t] = (byte)(BitOf(aBytes, t) | (BitOf(bBytes, t) << 1));
    }

    /// <summary>The operands a sequence of symbols spells, least significant first.</summary>
    public static (BigInteger A, BigInteger B) Operands(ReadOnlySpan<byte> symbols)
    {
        var a = new byte[(symbols.Length / 8) + 2];
        var b = new byte[a.Length];
        for (int t = 0; t < symbols.Length; t++)
        {
            a[t / 8] |= (byte)(AdderNetwork<float>.BitA(symbols[t]) << (t % 8));
            b[t / 8] |= (byte)(AdderNetwork<float>.BitB(symbols[t]) << (t % 8));
        }
        return (new BigInteger(a, isUnsigned: true), new BigInteger(b, isUnsigned: true));
    }

    private static int BitOf(byte[] bytes, int t) => t / 8 < bytes.Length ? (bytes[t / 8] >> (t % 8)) & 1 : 0;

    /// <summary>
    /// The narrowest failing addition among <paramref name="sequences"/>, confirmed on the model's
    /// whole-sequence path. A failing step on trailing (0, 0) pairs past the carry step is no
    /// failing addition (<c>carry add</c> never runs it), so it is not confirmed.
    /// </summary>
    public static Counterexample? Shortest<T>(AdderNetwork<T> network, IEnumerable<byte[]> sequences) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(sequences);
        var task = new TaskInfo(AlignedEncoding.Name, 8);
        var candidates = sequences.Select(s => Operands(s)).Distinct()
            .OrderBy(p => Math.Max(p.A.GetBitLength(), p.B.GetBitLength())).ThenBy(p => p.A + p.B).ThenBy(p => p.A).Take(64);
        foreach (var (a, b) in candidates)
        {
            var answer = Addition.Add(network.Model, task, a, b);
            if (answer.Sum != a + b) return new Counterexample(a, b, answer.Sum);
        }
        return null;
    }

    /// <summary>One round of the beam search; returns (steps, failing steps, whether it reached <see cref="BeamDepth"/>).</summary>
    private static (long Steps, long Failures, bool Complete) BeamRound<T>(AdderNetwork<T> network, DriftMeasure drift, double noise, RandomGenerator random, List<byte[]> found, Stopwatch clock, TimeSpan deadline)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int s = network.StateSize, width = 1;
        var states = network.InitialState();
        var carry = new byte[1];
        var parents = new List<int[]>();  // per depth: the parent row of each kept row
        var symbols = new List<byte[]>(); // per depth: the symbol that led to each kept row
        long steps = 0, failures = 0;
        var half = T.CreateChecked(0.5);
        for (int depth = 0; depth < BeamDepth && clock.Elapsed <= deadline; depth++)
        {
            int n = width * 4;
            var next = new T[n * s];
            var sym = new byte[n];
            var outputs = new T[n];
            for (int i = 0; i < n; i++)
            {
                states.AsSpan((i >> 2) * s, s).CopyTo(next.AsSpan(i * s, s));
                sym[i] = (byte)(i & 3);
            }
            network.Step(next, sym, next, outputs);
            steps += n;
            var score = new double[n];
            var childCarry = new byte[n];
            for (int i = 0; i < n; i++)
            {
                int sum = AdderNetwork<T>.BitA(sym[i]) + AdderNetwork<T>.BitB(sym[i]) + carry[i >> 2];
                childCarry[i] = (byte)(sum >> 1);
                if ((outputs[i] >= half ? 1 : 0) != (sum & 1))
                {
                    failures++;
                    if (failures <= MaxTraces) found.Add(Trace(parents, symbols, i >> 2, sym[i]));
                }
                // Later rounds jitter the score so that the beam follows other states.
                score[i] = drift.Distance(next.AsSpan(i * s, s), childCarry[i]) * (1 + (noise * random.NextDouble()));
            }
            if (failures > 0) return (steps, failures, true); // deeper failures are longer: this round is done
            var keep = Enumerable.Range(0, n).OrderByDescending(i => score[i]).Take(BeamWidth).ToArray();
            width = keep.Length;
            states = new T[width * s];
            carry = new byte[width];
            var parent = new int[width];
            var kept = new byte[width];
            for (int k = 0; k < width; k++)
            {
                next.AsSpan(keep[k] * s, s).CopyTo(states.AsSpan(k * s, s));
                carry[k] = childCarry[keep[k]];
                parent[k] = keep[k] >> 2;
                kept[k] = sym[keep[k]];
            }
            parents.Add(parent);
            symbols.Add(kept);
        }
        return (steps, failures, parents.Count == BeamDepth);
    }

    /// <summary>The symbols from the start to row <paramref name="row"/> of the last kept level, then <paramref name="last"/>.</summary>
    private static byte[] Trace(List<int[]> parents, List<byte[]> symbols, int row, byte last)
    {
        var path = new byte[parents.Count + 1];
        path[^1] = last;
        for (int d = parents.Count - 1; d >= 0; d--)
        {
            path[d] = symbols[d][row];
            row = parents[d][row];
        }
        return path;
    }

    /// <summary>How far a state lies from the typical states of its carry: Σ_j ((h_j − μ_cj) / σ_cj)².</summary>
    private sealed class DriftMeasure
    {
        private readonly double[] _mean, _scale; // [2, S]: per carry, per unit
        private readonly int _s;

        private DriftMeasure(double[] mean, double[] scale, int s)
        {
            _mean = mean;
            _scale = scale;
            _s = s;
        }

        public static DriftMeasure Create<T>(ReadOnlySpan<T> sample, ReadOnlySpan<byte> carries, int s) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var sum = new double[2 * s];
            var square = new double[2 * s];
            var count = new int[2];
            for (int i = 0; i < carries.Length; i++)
            {
                int c = carries[i];
                count[c]++;
                for (int j = 0; j < s; j++)
                {
                    double v = double.CreateChecked(sample[(i * s) + j]);
                    sum[(c * s) + j] += v;
                    square[(c * s) + j] += v * v;
                }
            }
            var mean = new double[2 * s];
            var scale = new double[2 * s];
            for (int k = 0; k < 2 * s; k++)
            {
                int n = Math.Max(1, count[k / s]);
                mean[k] = sum[k] / n;
                double variance = Math.Max(0, (square[k] / n) - (mean[k] * mean[k]));
                scale[k] = 1 / Math.Max(Math.Sqrt(variance), 1e-3);
            }
            return new DriftMeasure(mean, scale, s);
        }

        public double Distance<T>(ReadOnlySpan<T> h, int carry) where T : unmanaged, IFloatingPointIeee754<T>
        {
            double d = 0;
            for (int j = 0; j < _s; j++)
            {
                double z = (double.CreateChecked(h[j]) - _mean[(carry * _s) + j]) * _scale[(carry * _s) + j];
                d += z * z;
            }
            return d;
        }
    }
}
