namespace Carry.Analysis;

/// <summary>
/// A deterministic Mealy machine over the four bit pairs of an aligned addition: from state q,
/// symbol s (<c>a + 2b</c>) leads to <c>Next[q, s]</c> and emits <c>Output[q, s]</c> (the sum bit).
/// State 0 is the start. The full adder is the two-state machine of carry 0 and carry 1.
/// </summary>
public sealed class MealyMachine
{
    private readonly int[] _next;   // [Q, 4]
    private readonly byte[] _output; // [Q, 4]

    /// <summary>A machine of <paramref name="states"/> states from its tables <c>[Q, 4]</c> (row = state, column = symbol).</summary>
    public MealyMachine(int states, int[] next, byte[] output)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(states);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(output);
        if (next.Length != states * AdderNetwork<float>.Symbols || output.Length != next.Length)
        {
            throw new ArgumentException($"A machine of {states} states needs tables of {states * 4} entries.", nameof(next));
        }
        if (next.Any(q => q < 0 || q >= states)) throw new ArgumentException("A transition leads outside the machine.", nameof(next));
        if (output.Any(o => o > 1)) throw new ArgumentException("Outputs are bits.", nameof(output));
        States = states;
        _next = (int[])next.Clone();
        _output = (byte[])output.Clone();
    }

    /// <summary>Number of states, Q.</summary>
    public int States { get; }

    /// <summary>The state after <paramref name="symbol"/> from <paramref name="state"/>.</summary>
    public int Next(int state, int symbol) => _next[(state * 4) + symbol];

    /// <summary>The bit emitted on <paramref name="symbol"/> from <paramref name="state"/>.</summary>
    public int Output(int state, int symbol) => _output[(state * 4) + symbol];

    /// <summary>The full adder: state = carry, symbol (a, b); next carry = majority(a, b, c), output a ⊕ b ⊕ c.</summary>
    public static MealyMachine FullAdder()
    {
        var next = new int[8];
        var output = new byte[8];
        for (int c = 0; c < 2; c++)
        {
            for (int s = 0; s < 4; s++)
            {
                int sum = AdderNetwork<float>.BitA(s) + AdderNetwork<float>.BitB(s) + c;
                next[(c * 4) + s] = sum >> 1;
                output[(c * 4) + s] = (byte)(sum & 1);
            }
        }
        return new MealyMachine(2, next, output);
    }

    /// <summary>
    /// The minimal equivalent machine: unreachable states dropped, then Moore's partition
    /// refinement (states split by their four outputs, then by the blocks their successors lie in,
    /// until nothing splits; Hopcroft &amp; Ullman, <i>Introduction to Automata Theory</i>, §3.4).
    /// States are numbered in breadth-first order from the start, so equal machines print alike.
    /// </summary>
    public MealyMachine Minimize()
    {
        var block = new int[States];
        for (int q = 0; q < States; q++) block[q] = _output[q * 4] | (_output[(q * 4) + 1] << 1) | (_output[(q * 4) + 2] << 2) | (_output[(q * 4) + 3] << 3);
        int count = Renumber(block);
        while (true)
        {
            var signature = new Dictionary<(int, int, int, int, int), int>();
            var refined = new int[States];
            for (int q = 0; q < States; q++)
            {
                var key = (block[q], block[Next(q, 0)], block[Next(q, 1)], block[Next(q, 2)], block[Next(q, 3)]);
                if (!signature.TryGetValue(key, out int b)) signature[key] = b = signature.Count;
                refined[q] = b;
            }
            block = refined;
            if (signature.Count == count) break;
            count = signature.Count;
        }
        return Quotient(block);
    }

    /// <summary>True when both machines emit the same bits on every input sequence (a breadth-first walk over pairs of states).</summary>
    public bool EquivalentTo(MealyMachine other) => FirstDifference(other) is null;

    /// <summary>The shortest input sequence on which the machines' outputs differ, or null when they are equivalent.</summary>
    public byte[]? FirstDifference(MealyMachine other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var seen = new Dictionary<(int, int), (int, int, byte)?> { [(0, 0)] = null };
        var queue = new Queue<(int, int)>();
        queue.Enqueue((0, 0));
        while (queue.Count > 0)
        {
            var (p, q) = queue.Dequeue();
            for (byte s = 0; s < 4; s++)
            {
                if (Output(p, s) != other.Output(q, s)) return PathTo(seen, (p, q), s);
                var pair = (Next(p, s), other.Next(q, s));
                if (seen.ContainsKey(pair)) continue;
                seen[pair] = (p, q, s);
                queue.Enqueue(pair);
            }
        }
        return null;
    }

    /// <summary>Runs the machine over <paramref name="symbols"/> from the start and writes each step's output.</summary>
    public void Run(ReadOnlySpan<byte> symbols, Span<byte> outputs)
    {
        int q = 0;
        for (int t = 0; t < symbols.Length; t++)
        {
            outputs[t] = (byte)Output(q, symbols[t]);
            q = Next(q, symbols[t]);
        }
    }

    private static byte[] PathTo(Dictionary<(int, int), (int, int, byte)?> seen, (int, int) at, byte last)
    {
        var path = new List<byte> { last };
        while (seen[at] is (int p, int q, byte s))
        {
            path.Add(s);
            at = (p, q);
        }
        path.Reverse();
        return [.. path];
    }

    /// <summary>The machine whose states are the blocks of <paramref name="block"/> (a congruence), reachable part only, in breadth-first order.</summary>
    private MealyMachine Quotient(int[] block)
    {
        var order = new Dictionary<int, int> { [block[0]] = 0 };
        var representative = new List<int> { 0 };
        for (int i = 0; i < representative.Count; i++)
        {
            for (int s = 0; s < 4; s++)
            {
                int target = Next(representative[i], s);
                if (order.TryAdd(block[target], order.Count)) representative.Add(target);
            }
        }
        int n = representative.Count;
        var next = new int[n * 4];
        var output = new byte[n * 4];
        for (int i = 0; i < n; i++)
        {
            for (int s = 0; s < 4; s++)
            {
                next[(i * 4) + s] = order[block[Next(representative[i], s)]];
                output[(i * 4) + s] = (byte)Output(representative[i], s);
            }
        }
        return new MealyMachine(n, next, output);
    }

    private static int Renumber(int[] block)
    {
        var names = new Dictionary<int, int>();
        for (int i = 0; i < block.Length; i++)
        {
            if (!names.TryGetValue(block[i], out int b)) names[block[i]] = b = names.Count;
            block[i] = b;
        }
        return names.Count;
    }
}
