namespace Carry.Text;

/// <summary>How many lines of a sample are well-formed poems (<see cref="PoemForm.Score"/>).</summary>
/// <param name="Lines">Lines scored (the first and last of the sample dropped, as partial).</param>
/// <param name="WellFormed">Lines that are well-formed poems.</param>
public readonly record struct PoemScore(int Lines, int WellFormed)
{
    /// <summary>WellFormed / Lines, 0 to 1 (0 when no line was scored).</summary>
    public double Share => Lines == 0 ? 0 : (double)WellFormed / Lines;
}

/// <summary>
/// The form of a five-character Tang poem as tang5 writes it, one poem per line: 2 couplets
/// (jueju) or 4 (lüshi), each couplet five characters, <c>，</c>, five characters, and
/// <c>。</c>, <c>？</c> or <c>！</c>. "Characters" are any symbols but these punctuation marks.
/// </summary>
public static class PoemForm
{
    private const int Chars = 5;

    /// <summary>True when <paramref name="line"/> is 2 or 4 well-formed couplets and nothing else.</summary>
    public static bool IsWellFormed(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var symbols = line.EnumerateRunes().Select(r => r.Value).ToArray();
        const int couplet = (2 * Chars) + 2; // 五，五。
        if (symbols.Length != 2 * couplet && symbols.Length != 4 * couplet) return false;
        for (int c = 0; c < symbols.Length; c += couplet)
        {
            for (int i = 0; i < couplet; i++)
            {
                int s = symbols[c + i];
                bool ok = i switch
                {
                    Chars => s == '，',
                    couplet - 1 => s is '。' or '？' or '！',
                    _ => !IsPunctuation(s),
                };
                if (!ok) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Scores a sample drawn in one stream: split into lines, the first and the last dropped (the
    /// sample starts and ends mid-poem), and each remaining line judged by <see cref="IsWellFormed"/>.
    /// </summary>
    public static PoemScore Score(string sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        string[] lines = sample.Split('\n');
        if (lines.Length <= 2) return new PoemScore(0, 0);
        var inner = lines.AsSpan(1, lines.Length - 2);
        int good = 0;
        foreach (var line in inner)
        {
            if (IsWellFormed(line.TrimEnd('\r'))) good++;
        }
        return new PoemScore(inner.Length, good);
    }

    private static bool IsPunctuation(int symbol) => symbol is '，' or '。' or '？' or '！' or '、' or '；' or '：' or '\n' or '\r' or ' ' or '　';
}
