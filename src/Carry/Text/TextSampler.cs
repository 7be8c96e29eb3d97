using System.Numerics;
using System.Text;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Text;

/// <summary>
/// Draws text from a char-rnn model one symbol at a time (char-rnn's <c>sample.lua</c>): each
/// symbol is fed back as the next input, the recurrent state carried between steps. Without a
/// prime text, generation starts from the state after a newline (the start of a line, or of a
/// poem in tang5); a prime text sets the state instead. The same seed gives the same text.
/// </summary>
public sealed class TextSampler<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Sequential<T> _model;
    private readonly StreamState<T> _state;
    private readonly Tensor<T> _input;        // [1, 1, 1] index or [1, 1, V] one-hot
    private readonly double[] _probabilities; // [V]

    /// <param name="model">A trained char-rnn: per-step logits <c>[B, T, V]</c> over <paramref name="vocabulary"/>.</param>
    /// <param name="vocabulary">Its symbols.</param>
    public TextSampler(Sequential<T> model, Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        int width = CharRnn.InputWidth(model, vocabulary);
        _model = model;
        Vocabulary = vocabulary;
        _state = new StreamState<T>(model, 1);
        _input = new Tensor<T>(1, 1, width);
        _probabilities = new double[vocabulary.Count];
    }

    /// <summary>The model's symbols.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>
    /// Yields <paramref name="length"/> symbols as they are drawn.
    /// </summary>
    /// <param name="length">Symbols to draw (e.g. 1000).</param>
    /// <param name="temperature">Divides the logits before the softmax (0.8 by default in the CLI); 0 takes the most likely symbol every time.</param>
    /// <param name="prime">Text fed first to set the state (not repeated in the output); null or empty: a newline.</param>
    /// <param name="seed">Seed of the draws.</param>
    /// <exception cref="ArgumentException">The prime holds a symbol outside the vocabulary, or the vocabulary has no newline and no prime was given.</exception>
    public IEnumerable<Rune> Sample(int length, double temperature, string? prime, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (!(temperature >= 0) || double.IsInfinity(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be a finite number ≥ 0.");
        int[] start = string.IsNullOrEmpty(prime)
            ? Vocabulary.IndexOf(new Rune('\n')) is int nl and >= 0 ? [nl] : throw new ArgumentException("The model's vocabulary has no newline to start from: give a prime text.", nameof(prime))
            : Vocabulary.Encode(prime);
        return Draw(start, length, temperature, seed);
    }

    private IEnumerable<Rune> Draw(int[] start, int length, double temperature, ulong seed)
    {
        var random = new RandomGenerator(seed);
        _state.Reset();
        Tensor<T> logits = null!;
        foreach (int symbol in start) logits = Step(symbol);
        for (int i = 0; i < length; i++)
        {
            int next = temperature == 0 ? ArgMax(logits.Span) : Draw(logits.Span, temperature, random);
            yield return Vocabulary[next];
            if (i + 1 < length) logits = Step(next);
        }
    }

    /// <summary>Feeds one symbol; returns the logits <c>[1, 1, V]</c> of the next.</summary>
    private Tensor<T> Step(int symbol)
    {
        var x = _input.Span;
        if (x.Length > 1)
        {
            x.Clear();
            x[symbol] = T.One;
        }
        else
        {
            x[0] = T.CreateChecked(symbol);
        }
        return _model.Forward(_input, training: false, _state);
    }

    private static int ArgMax(ReadOnlySpan<T> logits) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);

    /// <summary>A draw from softmax(logits / temperature), computed in double from the largest logit down.</summary>
    private int Draw(ReadOnlySpan<T> logits, double temperature, RandomGenerator random)
    {
        double max = double.CreateChecked(System.Numerics.Tensors.TensorPrimitives.Max(logits)), total = 0;
        for (int j = 0; j < logits.Length; j++)
        {
            _probabilities[j] = Math.Exp((double.CreateChecked(logits[j]) - max) / temperature);
            total += _probabilities[j];
        }
        double u = random.NextDouble() * total;
        int last = 0;
        for (int j = 0; j < logits.Length; j++)
        {
            if (_probabilities[j] == 0) continue;
            u -= _probabilities[j];
            if (u < 0) return j;
            last = j;
        }
        return last; // u landed on the rounding residue of the sum: the last symbol that can be drawn
    }
}
