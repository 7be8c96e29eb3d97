using System.Numerics;
using Carry.Numerics;

namespace Carry.Text;

/// <summary>
/// A text cut as char-rnn's loader cuts it: <see cref="Streams"/> parallel streams, each a
/// contiguous stretch of the text, read <see cref="Seq"/> steps at a time. Chunk k of stream b
/// holds symbols <c>[b·L + k·seq, b·L + (k+1)·seq)</c> (L = symbols per stream) as inputs and the
/// same stretch shifted by one as targets, so the state a stream ends chunk k in is where its
/// chunk k + 1 starts (truncated BPTT).
/// </summary>
public sealed class TextStreams
{
    private readonly ReadOnlyMemory<int> _symbols;

    /// <param name="symbols">The text as vocabulary indices.</param>
    /// <param name="streams">Streams wanted, B (char-rnn's batch, 50). Fewer are used when the text cannot fill a chunk for each: see <see cref="Streams"/>.</param>
    /// <param name="seq">Steps per chunk (50).</param>
    public TextStreams(ReadOnlyMemory<int> symbols, int streams, int seq)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(streams);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seq);
        _symbols = symbols;
        Seq = seq;
        // As many streams as the text can fill with one chunk each (inputs plus the one-later target).
        Streams = (int)Math.Min(streams, Math.Max(0, symbols.Length - 1) / seq);
        ChunkCount = Streams == 0 ? 0 : (symbols.Length - 1) / (Streams * seq);
        Length = ChunkCount * seq;
    }

    /// <summary>B: parallel streams (at most the number asked for; 0 when the text is shorter than one chunk plus one).</summary>
    public int Streams { get; }

    /// <summary>Steps per chunk.</summary>
    public int Seq { get; }

    /// <summary>Chunks per stream: training steps per epoch.</summary>
    public int ChunkCount { get; }

    /// <summary>L, symbols per stream (a whole number of chunks; the rest of the text is not read).</summary>
    public int Length { get; }

    /// <summary>Characters one epoch predicts: B × L.</summary>
    public long Characters => (long)Streams * Length;

    /// <summary>
    /// Writes chunk <paramref name="chunk"/>: <paramref name="inputs"/> <c>[B, seq, 1]</c> indices,
    /// or <c>[B, seq, V]</c> one-hot rows when its last axis is wider than 1; <paramref name="targets"/>
    /// <c>[B, seq, 1]</c> the next symbol's index.
    /// </summary>
    public void Fill<T>(int chunk, Tensor<T> inputs, Tensor<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunk);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(chunk, ChunkCount);
        int width = inputs.Dim(-1);
        Check.Shape(inputs, [Streams, Seq, width], nameof(inputs));
        Check.Shape(targets, [Streams, Seq, 1], nameof(targets));
        var text = _symbols.Span;
        var x = inputs.Span;
        var y = targets.Span;
        if (width > 1) x.Clear();
        for (int b = 0; b < Streams; b++)
        {
            int start = (b * Length) + (chunk * Seq);
            for (int t = 0; t < Seq; t++)
            {
                int row = (b * Seq) + t, symbol = text[start + t];
                if (width > 1) x[(row * width) + symbol] = T.One;
                else x[row] = T.CreateChecked(symbol);
                y[row] = T.CreateChecked(text[start + t + 1]);
            }
        }
    }
}
