using System.Globalization;
using System.Text;

namespace Carry.Analysis;

/// <summary>
/// A machine written out: its transition table as text, Graphviz DOT, Mermaid and SVG (drawn here,
/// states on a circle, so that nobody needs Graphviz). Inputs are written <c>a,b</c>, transitions
/// <c>a,b / sum</c>. States are named <c>carry 0</c>, <c>carry 1</c> when the machine is the full
/// adder (numbered from the start, breadth first), else <c>S0</c>, <c>S1</c>, ….
/// </summary>
public static class MachineText
{
    /// <summary>The input symbols in table order: (a,b) = (0,0), (1,0), (0,1), (1,1).</summary>
    public static string SymbolName(int symbol) => $"{AdderNetwork<float>.BitA(symbol)},{AdderNetwork<float>.BitB(symbol)}";

    /// <summary>The names of the states.</summary>
    public static string[] StateNames(MealyMachine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        bool full = machine.States == 2 && machine.EquivalentTo(MealyMachine.FullAdder());
        return Enumerable.Range(0, machine.States).Select(q => full ? $"carry {q}" : $"S{q}").ToArray();
    }

    /// <summary>The transition table: a row per state, a column per input, each cell <c>next / output</c>.</summary>
    public static string Table(MealyMachine machine)
    {
        var names = StateNames(machine);
        int width = Math.Max(names.Max(n => n.Length) + 4, 13);
        var text = new StringBuilder();
        text.Append("state".PadRight(width));
        for (int s = 0; s < 4; s++) text.Append(("a,b=" + SymbolName(s)).PadRight(width));
        text.AppendLine();
        for (int q = 0; q < machine.States; q++)
        {
            text.Append(names[q].PadRight(width));
            for (int s = 0; s < 4; s++) text.Append($"{names[machine.Next(q, s)]} / {machine.Output(q, s)}".PadRight(width));
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>Graphviz DOT: <c>dot -Tpng NAME.machine.dot -o machine.png</c>.</summary>
    public static string Dot(MealyMachine machine, string title)
    {
        var names = StateNames(machine);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"digraph \"{title}\" {{");
        text.AppendLine("  rankdir=LR;");
        text.AppendLine("  node [shape=circle];");
        text.AppendLine("  start [shape=point];");
        text.AppendLine("  start -> q0;");
        for (int q = 0; q < machine.States; q++) text.AppendLine(CultureInfo.InvariantCulture, $"  q{q} [label=\"{names[q]}\"];");
        foreach (var (from, to, labels) in Edges(machine))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  q{from} -> q{to} [label=\"{string.Join("\\n", labels)}\"];");
        }
        text.AppendLine("}");
        return text.ToString();
    }

    /// <summary>Mermaid <c>stateDiagram-v2</c>, which GitHub renders in Markdown.</summary>
    public static string Mermaid(MealyMachine machine)
    {
        var names = StateNames(machine);
        var text = new StringBuilder();
        text.AppendLine("stateDiagram-v2");
        for (int q = 0; q < machine.States; q++) text.AppendLine(CultureInfo.InvariantCulture, $"    q{q} : {names[q]}");
        text.AppendLine("    [*] --> q0");
        foreach (var (from, to, labels) in Edges(machine))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"    q{from} --> q{to} : {string.Join("; ", labels)}");
        }
        return text.ToString();
    }

    /// <summary>The transitions grouped by (from, to), each with its labels <c>a,b / out</c>.</summary>
    public static List<(int From, int To, List<string> Labels)> Edges(MealyMachine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var edges = new List<(int, int, List<string>)>();
        for (int q = 0; q < machine.States; q++)
        {
            for (int s = 0; s < 4; s++)
            {
                int to = machine.Next(q, s);
                string label = $"{SymbolName(s)} / {machine.Output(q, s)}";
                int at = edges.FindIndex(e => e.Item1 == q && e.Item2 == to);
                if (at >= 0) edges[at].Item3.Add(label);
                else edges.Add((q, to, [label]));
            }
        }
        return edges;
    }
}
