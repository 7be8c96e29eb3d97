using System.Text;

namespace Carry.Text;

/// <summary>A corpus Carry cannot train on: <see cref="Exception.Message"/> names the file and the reason in one line.</summary>
public sealed class CorpusException : IOException
{
    /// <summary>A corpus problem: <c>"{path}: {reason}"</c>.</summary>
    public CorpusException(string path, string reason) : base($"{path}: {reason}") { }

    /// <summary>A corpus problem with no message.</summary>
    public CorpusException() { }

    /// <summary>A corpus problem described by <paramref name="message"/>.</summary>
    public CorpusException(string message) : base(message) { }

    /// <summary>A corpus problem described by <paramref name="message"/>, caused by <paramref name="inner"/>.</summary>
    public CorpusException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A text to train a char-rnn on: its <see cref="Vocabulary"/>, every symbol as an index, and
/// the split into training text (the first 95%) and validation text (the last 5%), as char-rnn.
/// </summary>
public sealed class TextCorpus
{
    /// <summary>The share of the text kept for validation, at the end (char-rnn's 0.05).</summary>
    public const double ValidationFraction = 0.05;

    private TextCorpus(string path, Vocabulary vocabulary, int[] symbols)
    {
        Path = path;
        Vocabulary = vocabulary;
        Symbols = symbols;
        ValidationStart = symbols.Length - (int)(symbols.Length * ValidationFraction);
    }

    /// <summary>Where the text came from.</summary>
    public string Path { get; }

    /// <summary>Every distinct symbol of the text.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The text, symbol by symbol, as vocabulary indices.</summary>
    public int[] Symbols { get; }

    /// <summary>Index of the first validation symbol: symbols before it are for training.</summary>
    public int ValidationStart { get; }

    /// <summary>The training text: symbols [0, <see cref="ValidationStart"/>).</summary>
    public ReadOnlyMemory<int> Training => Symbols.AsMemory(0, ValidationStart);

    /// <summary>The validation text: the last 5% of the symbols.</summary>
    public ReadOnlyMemory<int> Validation => Symbols.AsMemory(ValidationStart);

    /// <summary>
    /// Reads a UTF-8 text and checks that it can train <paramref name="batch"/> streams of
    /// <paramref name="seq"/> steps: refused when empty, binary (a NUL byte), not valid UTF-8, or
    /// with a training part shorter than one batch, <c>batch × (seq + 1)</c> characters.
    /// </summary>
    /// <param name="path">The corpus file.</param>
    /// <param name="batch">Parallel streams, B (char-rnn's 50).</param>
    /// <param name="seq">Steps per chunk (char-rnn's 50).</param>
    /// <exception cref="CorpusException">The reason, with the path, in one line.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static TextCorpus Load(string path, int batch, int seq)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FromBytes(File.ReadAllBytes(path), path, batch, seq);
    }

    /// <summary><see cref="Load"/> on bytes already read; <paramref name="path"/> names them in messages.</summary>
    public static TextCorpus FromBytes(ReadOnlySpan<byte> bytes, string path, int batch, int seq)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seq);
        if (bytes.Length == 0) throw new CorpusException(path, "the corpus is empty.");
        int nul = bytes.IndexOf((byte)0);
        if (nul >= 0) throw new CorpusException(path, $"the corpus is binary, not text (a NUL byte at offset {nul}).");
        if (bytes.StartsWith(Encoding.UTF8.Preamble)) bytes = bytes[Encoding.UTF8.Preamble.Length..];
        if (System.Text.Unicode.Utf8.IsValid(bytes) is false)
        {
            throw new CorpusException(path, $"the corpus is not valid UTF-8 (first bad byte at offset {FirstInvalidByte(bytes)}).");
        }
        string text = Encoding.UTF8.GetString(bytes);
        var vocabulary = Vocabulary.FromText(text);
        if (vocabulary.Count < 2) throw new CorpusException(path, $"the corpus has only {vocabulary.Count} distinct character; a model needs at least 2 to choose between.");
        var corpus = new TextCorpus(path, vocabulary, vocabulary.Encode(text));
        long needed = (long)batch * (seq + 1);
        if (corpus.ValidationStart < needed)
        {
            throw new CorpusException(path, $"the corpus is too short: its training part (95%) has {corpus.ValidationStart:N0} characters, and one batch of {batch} streams × ({seq} + 1) needs {needed:N0}.");
        }
        return corpus;
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        int offset = 0;
        while (offset < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out int consumed) != System.Buffers.OperationStatus.Done) return offset;
            offset += consumed;
        }
        return offset;
    }
}
