using System.Text;

namespace Carry.Text;

/// <summary>
/// The symbols of a char-rnn model: Unicode scalar values (a Chinese character is one symbol,
/// not three UTF-8 bytes), sorted by value; a symbol's index is its position. Stored in a model
/// file's metadata as the symbols written one after the other (<see cref="ToText"/>).
/// </summary>
public sealed class Vocabulary
{
    private readonly Rune[] _symbols;
    private readonly Dictionary<Rune, int> _index;

    private Vocabulary(Rune[] sortedDistinct)
    {
        _symbols = sortedDistinct;
        _index = new Dictionary<Rune, int>(_symbols.Length);
        for (int i = 0; i < _symbols.Length; i++) _index.Add(_symbols[i], i);
    }

    /// <summary>The vocabulary of every distinct symbol in <paramref name="text"/>.</summary>
    public static Vocabulary FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var set = new HashSet<Rune>();
        foreach (var rune in text.EnumerateRunes()) set.Add(rune);
        var symbols = set.ToArray();
        Array.Sort(symbols);
        return new Vocabulary(symbols);
    }

    /// <summary>Reads <see cref="ToText"/>'s form back: distinct symbols in increasing order.</summary>
    /// <exception cref="FormatException">Empty, not in increasing order, or a symbol repeated.</exception>
    public static Vocabulary Parse(string symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        var list = symbols.EnumerateRunes().ToArray();
        if (list.Length < 2) throw new FormatException($"the vocabulary has {list.Length} symbols; a char-rnn model needs at least 2.");
        for (int i = 1; i < list.Length; i++)
        {
            if (list[i].Value <= list[i - 1].Value) throw new FormatException($"the vocabulary's symbols are not distinct and in increasing order (at symbol {i}).");
        }
        return new Vocabulary(list);
    }

    /// <summary>Number of symbols, V (65 for tinyshakespeare, 6,054 for tang5).</summary>
    public int Count => _symbols.Length;

    /// <summary>The symbol with index <paramref name="index"/>.</summary>
    public Rune this[int index] => _symbols[index];

    /// <summary>The index of <paramref name="symbol"/>, or -1 when it is not in the vocabulary.</summary>
    public int IndexOf(Rune symbol) => _index.TryGetValue(symbol, out int i) ? i : -1;

    /// <summary>True when the vocabulary holds <paramref name="symbol"/>.</summary>
    public bool Contains(Rune symbol) => _index.ContainsKey(symbol);

    /// <summary>Every symbol of <paramref name="text"/> as its index.</summary>
    /// <exception cref="ArgumentException">A symbol is not in the vocabulary.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var indices = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            int i = IndexOf(rune);
            if (i < 0) throw new ArgumentException($"'{rune}' (U+{rune.Value:X4}) is not in the model's vocabulary.", nameof(text));
            indices.Add(i);
        }
        return [.. indices];
    }

    /// <summary>The symbols one after the other, as stored in a model file.</summary>
    public string ToText()
    {
        var text = new StringBuilder(_symbols.Length);
        foreach (var rune in _symbols) text.Append(rune.ToString());
        return text.ToString();
    }
}
