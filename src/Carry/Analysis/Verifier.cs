using System.Diagnostics;
using System.Globalization;
using System.Numerics;

namespace Carry.Analysis;

/// <summary>The three answers of <see cref="Verifier.Run{T}"/>.</summary>
public enum Verdict
{
    /// <summary>Every addition of every width is right: an invariant was found and checked soundly.</summary>
    Proved,
    /// <summary>An addition the network gets wrong was found (and confirmed).</summary>
    Counterexample,
    /// <summary>Neither: the proof failed somewhere or the time ran out.</summary>
    Unknown,
}

/// <summary>Options of <see cref="Verifier.Run{T}"/>.</summary>
public sealed record VerifyOptions
{
    /// <summary>Time for everything (default 5 minutes).</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest input history k that splits the regions (default 8: up to 2·4⁸ regions).</summary>
    public int MaxHistory { get; init; } = 8;

    /// <summary>Share of the budget for the counterexample search that runs first (default 0.2).</summary>
    public double SearchShare { get; init; } = 0.2;

    /// <summary>Seed of the random parts.</summary>
    public ulong Seed { get; init; }
}

/// <summary>One proof attempt: regions split by (carry, last k inputs).</summary>
/// <param name="History">k.</param>
/// <param name="Regions">Regions in the partition, 2·4^k.</param>
/// <param name="Reached">Regions that hold some state.</param>
/// <param name="Updates">Times a region grew to take in an image.</param>
/// <param name="Proved">Whether this attempt proved the network.</param>
/// <param name="Failure">Where it failed, in words (null when proved).</param>
/// <param name="SampledWidth">Mean width per state number of the regions as first seeded from sampled states.</param>
/// <param name="FinalWidth">Mean width per state number of the regions when the attempt ended.</param>
/// <param name="Elapsed">Wall time of the attempt.</param>
/// <param name="FailedRegion">The region whose check failed (carry · 2·4^k + history code), or −1.</param>
/// <param name="FailedSymbol">The input on which it failed, or −1.</param>
public sealed record ProofAttempt(int History, int Regions, int Reached, long Updates, bool Proved, string? Failure, double SampledWidth, double FinalWidth, TimeSpan Elapsed,
    int FailedRegion = -1, int FailedSymbol = -1);

/// <summary>
/// Why boxes fail, measured on reachable states: the box gain of a step (‖|J|‖∞ of the step's
/// Jacobian with respect to the state, by central differences: how much one step can widen a box
/// in the worst unit; above 1 a box grows), and, for the region where the last attempt failed,
/// the outputs of the sampled states in it against the interval the proof had to use.
/// </summary>
/// <param name="MedianGain">Median of ‖|J|‖∞ over the sampled states.</param>
/// <param name="MinGain">Smallest ‖|J|‖∞ over the sampled states.</param>
/// <param name="SampledOutputs">Outputs of the sampled states of the failing region on the failing input (null if none sampled there).</param>
public sealed record ProofObstacle(double MedianGain, double MinGain, Interval? SampledOutputs);

/// <summary>What <see cref="Verifier.Run{T}"/> answered and why.</summary>
/// <param name="Verdict">Proved, counterexample or unknown.</param>
/// <param name="Counterexample">The failing addition when the verdict says so.</param>
/// <param name="Attempts">Each proof attempt, in order.</param>
/// <param name="Search">The counterexample search.</param>
/// <param name="OutOfTime">True when the budget ran out before an answer.</param>
/// <param name="Obstacle">What stood in the way, measured (null unless unknown).</param>
public sealed record VerifyResult(Verdict Verdict, Counterexample? Counterexample, IReadOnlyList<ProofAttempt> Attempts, SearchResult Search, bool OutOfTime, ProofObstacle? Obstacle = null);

/// <summary>
/// A sound attempt to prove that an aligned adder adds correctly at every width.
/// </summary>
/// <remarks>
/// <para>The claim: for every input sequence, at every step, the network's rounded output equals
/// the full adder's. It implies every addition of every width is right.</para>
/// <para>The method: an inductive invariant made of boxes. The state space is split into regions
/// R(c, w), one per full-adder carry c and last k input symbols w (missing symbols before the start
/// count as (0,0), which leaves the carry as it is). The proof holds when (1) the zero start state
/// lies in R(0, (0,0)^k); (2) for every region and symbol s, the abstract step
/// (<see cref="IntervalNetwork.Step"/>, a sound enclosure of the network's step in its own
/// precision) maps R(c, w) into R(c', w·s) with c' the full adder's next carry; and (3) the output
/// interval it computes lies on the side of 0.5 that the full adder's sum bit asks for (≥ 0.5 for
/// 1, &lt; 0.5 for 0, as <c>carry add</c> rounds). By induction over the steps, every state the
/// network reaches after any input lies in the region of its carry and history, and every output
/// bit is right.</para>
/// <para>Finding the boxes: seeded with the hull of the states reached by random additions (per
/// region), then grown by Kleene iteration: a region that does not hold the image of a predecessor
/// is enlarged to hold it, with widening (10% beyond the hull, and after 40 enlargements the whole
/// range of the activations) so that the iteration ends. Boxes only grow, so an output check that
/// fails stays failed: the attempt stops there and the next k is tried. A region's boxes are
/// re-examined after every enlargement, so at the fixed point every check holds for the final boxes.</para>
/// <para>Before the proof, a counterexample search (<see cref="CounterexampleSearch"/>) runs on a
/// share of the budget: a network that fails is answered with the failing pair.</para>
/// </remarks>
public static class Verifier
{
    /// <summary>Enlargements of one region before it is widened to the whole range.</summary>
    public const int UpdatesBeforeRange = 40;

    /// <summary>Runs the search, then the proof attempts for k = 0, 1, … until one proves or the budget runs out.</summary>
    public static VerifyResult Run<T>(AdderNetwork<T> network, VerifyOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Budget, TimeSpan.Zero, nameof(options.Budget));
        var clock = Stopwatch.StartNew();
        var sample = StateSample.Draw(network, 512, 128, options.Seed);
        var sampleStates = sample.States.Select(T.CreateChecked).ToArray();
        var search = CounterexampleSearch.Run(network, sampleStates, sample.Carries, [], options.Seed + 2, clock, options.Budget * options.SearchShare);
        if (search.Shortest is { } found) return new VerifyResult(Verdict.Counterexample, found, [], search, false);
        var bounds = IntervalNetwork.Create(network);
        var attempts = new List<ProofAttempt>();
        for (int k = 0; k <= options.MaxHistory && clock.Elapsed < options.Budget; k++)
        {
            var attempt = Attempt(bounds, sample, k, clock, options.Budget);
            attempts.Add(attempt);
            if (attempt.Proved) return new VerifyResult(Verdict.Proved, null, attempts, search, false);
        }
        var obstacle = Measure(network, sample, attempts.LastOrDefault(a => a.FailedRegion >= 0));
        return new VerifyResult(Verdict.Unknown, null, attempts, search, clock.Elapsed >= options.Budget, obstacle);
    }

    /// <summary>Measures <see cref="ProofObstacle"/> on the sample.</summary>
    public static ProofObstacle Measure<T>(AdderNetwork<T> network, StateSample sample, ProofAttempt? failed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(sample);
        int s = network.StateSize, rows = Math.Min(256, sample.Carries.Length);
        var gains = new double[rows];
        var probe = new T[2 * s * s]; // [2S, S]: each state pushed up and down along one unit
        var symbols = new byte[2 * s];
        var outputs = new T[2 * s];
        const double h = 1e-3;
        for (int i = 0; i < rows; i++)
        {
            int row = i * (sample.Carries.Length / rows);
            for (int m = 0; m < 2 * s; m++)
            {
                for (int j = 0; j < s; j++) probe[(m * s) + j] = T.CreateChecked(sample.States[(row * s) + j] + (j == m / 2 ? (m % 2 == 0 ? h : -h) : 0));
                symbols[m] = sample.Symbols[row];
            }
            network.Step(probe, symbols, probe, outputs);
            var rowSums = new double[s];
            for (int k = 0; k < s; k++)
            {
                for (int j = 0; j < s; j++) rowSums[j] += Math.Abs(double.CreateChecked(probe[(2 * k * s) + j] - probe[(((2 * k) + 1) * s) + j]) / (2 * h)); // |∂h'_j/∂h_k|
            }
            gains[i] = rowSums.Max();
        }
        Array.Sort(gains);
        return new ProofObstacle(gains[rows / 2], gains[0], failed is null ? null : SampledOutputs(network, sample, failed));
    }

    private static Interval? SampledOutputs<T>(AdderNetwork<T> network, StateSample sample, ProofAttempt failed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int s = network.StateSize, k = failed.History, history = 2 << (2 * k);
        var chosen = new List<int>();
        for (int start = 0; start < sample.Symbols.Length; start += sample.Steps)
        {
            int recent = 0;
            for (int t = 0; t < sample.Steps; t++)
            {
                recent = Advance(recent, sample.Symbols[start + t], k);
                if ((sample.Carries[start + t] * history) + recent == failed.FailedRegion) chosen.Add(start + t);
            }
        }
        if (chosen.Count == 0) return null;
        var states = new T[chosen.Count * s];
        for (int i = 0; i < chosen.Count; i++)
        {
            for (int j = 0; j < s; j++) states[(i * s) + j] = T.CreateChecked(sample.States[(chosen[i] * s) + j]);
        }
        var symbols = Enumerable.Repeat((byte)failed.FailedSymbol, chosen.Count).ToArray();
        var outputs = new T[chosen.Count];
        network.Step(states, symbols, states, outputs);
        return new Interval(double.CreateChecked(outputs.Min()), double.CreateChecked(outputs.Max()));
    }

    /// <summary>One attempt with regions split by the last <paramref name="k"/> symbols.</summary>
    public static ProofAttempt Attempt(IntervalNetwork bounds, StateSample sample, int k, Stopwatch clock, TimeSpan deadline)
    {
        ArgumentNullException.ThrowIfNull(bounds);
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(clock);
        var started = clock.Elapsed;
        int s = bounds.StateSize, history = 2 << (2 * k), regions = 2 * history; // history codes: see Advance
        var boxes = new Interval[regions][];
        Seed(boxes, sample, k, s);
        double sampledWidth = MeanWidth(boxes);
        var range = bounds.Range();
        var updates = new int[regions];
        var queue = new Queue<int>();
        var queued = new bool[regions];
        for (int r = 0; r < regions; r++)
        {
            if (boxes[r] is null) continue;
            queue.Enqueue(r);
            queued[r] = true;
        }
        var image = new Interval[s];
        long total = 0;
        while (queue.Count > 0)
        {
            if ((total & 255) == 0 && clock.Elapsed > deadline) return new ProofAttempt(k, regions, Reached(boxes), total, false, "the time ran out", sampledWidth, MeanWidth(boxes), clock.Elapsed - started);
            int r = queue.Dequeue();
            queued[r] = false;
            int carry = r / history, recent = r % history;
            for (int symbol = 0; symbol < 4; symbol++)
            {
                var output = bounds.Step(boxes[r], symbol, image);
                int sum = AdderNetwork<float>.BitA(symbol) + AdderNetwork<float>.BitB(symbol) + carry;
                bool right = (sum & 1) == 1 ? output.Lo >= 0.5 : output.Hi < 0.5; // false for NaN bounds too
                if (!right || Array.Exists(image, b => double.IsNaN(b.Lo) || double.IsNaN(b.Hi)))
                {
                    string where = string.Create(CultureInfo.InvariantCulture,
                        $"from the region of carry {carry}{Recent(recent, k)} on input {MachineText.SymbolName(symbol)} the output lies in [{output.Lo:G4}, {output.Hi:G4}], which does not decide the sum bit {sum & 1}");
                    return new ProofAttempt(k, regions, Reached(boxes), total, false, where, sampledWidth, MeanWidth(boxes), clock.Elapsed - started, r, symbol);
                }
                int target = ((sum >> 1) * history) + Advance(recent, symbol, k);
                if (Grow(boxes, target, image, range, ++updates[target] > UpdatesBeforeRange))
                {
                    total++;
                    if (!queued[target])
                    {
                        queue.Enqueue(target);
                        queued[target] = true;
                    }
                }
                else
                {
                    updates[target]--;
                }
            }
        }
        return new ProofAttempt(k, regions, Reached(boxes), total, true, null, sampledWidth, MeanWidth(boxes), clock.Elapsed - started);
    }

    /// <summary>
    /// The history code after <paramref name="symbol"/>: the last min(t, k) symbols in base 4 behind
    /// a leading 1 that marks how many there are; 0 before any input (the start state's own region).
    /// Codes lie in [0, 2·4^k).
    /// </summary>
    public static int Advance(int code, int symbol, int k)
    {
        int next = (Math.Max(code, 1) << 2) | symbol;
        int full = 1 << (2 * k);
        return next >= 2 * full ? (next & (full - 1)) | full : next;
    }

    /// <summary>Per region, the hull of the sampled states in it; the start state alone in its own region (carry 0, no input yet).</summary>
    private static void Seed(Interval[][] boxes, StateSample sample, int k, int s)
    {
        int history = 2 << (2 * k);
        boxes[0] = new Interval[s]; // the zero start state: carry 0, code 0
        for (int start = 0; start < sample.Symbols.Length; start += sample.Steps)
        {
            int recent = 0;
            for (int t = 0; t < sample.Steps; t++)
            {
                int row = start + t;
                recent = Advance(recent, sample.Symbols[row], k);
                int r = (sample.Carries[row] * history) + recent;
                var box = boxes[r] ??= NewBox(sample.States.AsSpan(row * s, s));
                for (int j = 0; j < s; j++) box[j] = Interval.Hull(box[j], Interval.Point(sample.States[(row * s) + j]));
            }
        }
    }

    private static Interval[] NewBox(ReadOnlySpan<double> point)
    {
        var box = new Interval[point.Length];
        for (int j = 0; j < point.Length; j++) box[j] = Interval.Point(point[j]);
        return box;
    }

    /// <summary>Enlarges region <paramref name="target"/> to hold <paramref name="image"/> (10% beyond, or the whole range once <paramref name="toRange"/>); false when it already did.</summary>
    private static bool Grow(Interval[][] boxes, int target, Interval[] image, Interval[] range, bool toRange)
    {
        var box = boxes[target];
        if (box is null)
        {
            boxes[target] = (Interval[])image.Clone();
            return true;
        }
        bool grew = false;
        for (int j = 0; j < box.Length; j++)
        {
            var b = box[j];
            if (image[j].Lo >= b.Lo && image[j].Hi <= b.Hi) continue;
            grew = true;
            var hull = Interval.Hull(b, image[j]);
            double extra = 0.1 * hull.Width;
            double lo = image[j].Lo < b.Lo ? hull.Lo - extra : hull.Lo, hi = image[j].Hi > b.Hi ? hull.Hi + extra : hull.Hi;
            box[j] = toRange ? Interval.Hull(new(Math.Max(lo, range[j].Lo), Math.Min(hi, range[j].Hi)), range[j]) : new(Math.Max(lo, range[j].Lo), Math.Min(hi, range[j].Hi));
        }
        return grew;
    }

    private static int Reached(Interval[][] boxes) => boxes.Count(b => b is not null);

    private static double MeanWidth(Interval[][] boxes)
    {
        double sum = 0;
        long count = 0;
        foreach (var box in boxes)
        {
            if (box is null) continue;
            foreach (var b in box)
            {
                sum += b.Width;
                count++;
            }
        }
        return count == 0 ? 0 : sum / count;
    }

    private static string Recent(int code, int k)
    {
        if (code == 0) return ", before any input";
        var symbols = new List<string>();
        for (; code > 1; code >>= 2) symbols.Insert(0, MachineText.SymbolName(code & 3));
        return k == 0 ? "" : ", last inputs " + string.Join(" ", symbols);
    }
}
