using System.Numerics;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;
using Carry.Training;

namespace Carry.Arithmetic;

/// <summary>A model's answer to one addition.</summary>
/// <param name="Sum">The sum the model read out.</param>
/// <param name="Steps">Time steps the model ran.</param>
/// <param name="Outputs">The model's raw outputs, one per target bit, in the encoding's order (aligned: least significant first; concat: most significant first).</param>
public sealed record AdditionAnswer(BigInteger Sum, int Steps, double[] Outputs);

/// <summary>Exact-match and per-bit accuracy of a model at one operand width.</summary>
/// <param name="Width">Operand width in bits; operands lie in [0, 2^width).</param>
/// <param name="Samples">Pairs evaluated.</param>
/// <param name="AllPairs">Whether every pair was evaluated (else a seeded uniform sample).</param>
/// <param name="Exact">Fraction of pairs whose every sum bit was right, in [0, 1].</param>
/// <param name="BitAccuracy">Fraction of sum bits that were right, in [0, 1].</param>
public sealed record WidthAccuracy(int Width, int Samples, bool AllPairs, double Exact, double BitAccuracy);

/// <summary>
/// Adds with a trained model and measures how well it adds. The bit vectors are built from
/// <see cref="BigInteger.ToByteArray(bool, bool)"/> and the sums from bytes, so operands of a
/// hundred thousand digits cost linear time outside the network.
/// </summary>
public static class Addition
{
    /// <summary>Pairs per evaluation batch are capped so that a batch holds about this many time steps.</summary>
    public const int StepsPerBatch = 1 << 18;

    /// <summary>Aligned additions longer than this many steps run in chunks of this many, carrying the recurrent state across.</summary>
    public const int ChunkSteps = 1 << 16;

    /// <summary>Most pairs evaluated exhaustively: all pairs when 4^width is at most this (width ≤ 8).</summary>
    public const int MaxAllPairs = 1 << 16;

    /// <summary>
    /// Adds <paramref name="a"/> and <paramref name="b"/> with <paramref name="model"/>, encoded as
    /// <paramref name="task"/> says. Aligned models run one step per bit of the longer operand,
    /// plus one for the carry; concat models take operands of at most <see cref="TaskInfo.Bits"/> bits.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An operand is negative, or too wide for a concat model.</exception>
    /// <exception cref="ArgumentException">The model's shape does not fit the task's encoding.</exception>
    public static AdditionAnswer Add<T>(Sequential<T> model, TaskInfo task, BigInteger a, BigInteger b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(task);
        if (a.Sign < 0) throw new ArgumentOutOfRangeException(nameof(a), "Operands must be non-negative.");
        if (b.Sign < 0) throw new ArgumentOutOfRangeException(nameof(b), "Operands must be non-negative.");
        if (task.Encoding == AlignedEncoding.Name)
        {
            int steps = AlignedEncoding.Steps((int)Math.Max(a.GetBitLength(), b.GetBitLength()));
            CheckAligned(model, steps);
            byte[] aBytes = a.ToByteArray(isUnsigned: true, isBigEndian: false);
            byte[] bBytes = b.ToByteArray(isUnsigned: true, isBigEndian: false);
            var outputs = new T[steps]; // [T] one output per step, least significant first
            if (steps <= ChunkSteps || !CanChunk(model))
            {
                var input = new Tensor<T>(1, steps, 2); // [1, T, 2]
                WriteAligned(aBytes, bBytes, 0, input.Span);
                model.Forward(input, training: false).Span.CopyTo(outputs); // [1, T, 1]
            }
            else
            {
                ForwardInChunks(model, aBytes, bBytes, outputs);
            }
            return new AdditionAnswer(AlignedEncoding.Decode<T>(outputs), steps, ToDouble<T>(outputs));
        }
        if (task.Encoding == ConcatEncoding.Name)
        {
            int bits = task.Bits;
            if (a.GetBitLength() > bits || b.GetBitLength() > bits)
            {
                throw new ArgumentOutOfRangeException(nameof(a), $"This model adds numbers of at most {bits} bits (0 to {(BigInteger.One << bits) - 1}); an operand has {Math.Max(a.GetBitLength(), b.GetBitLength())} bits.");
            }
            CheckConcat(model, bits);
            var input = new Tensor<T>(1, 2 * bits, 1); // [1, 2n, 1]
            var target = new T[bits + 1];
            ConcatEncoding.Encode(a, b, bits, input.Span, target);
            var output = model.Forward(input, training: false); // [1, n+1]
            return new AdditionAnswer(ConcatEncoding.Decode<T>(output.Span), 2 * bits, ToDouble(output.Span));
        }
        throw new ArgumentException($"Unknown encoding '{task.Encoding}' (expected aligned or concat).", nameof(task));
    }

    /// <summary>
    /// Accuracy at each width. Aligned models: operands in [0, 2^w), w + 1 steps; every pair when
    /// 4^w ≤ <see cref="MaxAllPairs"/>, else <paramref name="samples"/> uniform pairs drawn from
    /// <paramref name="seed"/>. Concat models: their own width only; every pair up to
    /// <see cref="ConcatEncoding.MaxAllPairsBits"/> bits (through <see cref="AllPairsInference"/>'s
    /// prefix trie where the model allows, about 8× less work at 8 bits), else a sample.
    /// </summary>
    /// <param name="model">The trained model.</param>
    /// <param name="task">Its task (encoding and trained width).</param>
    /// <param name="widths">Operand widths, e.g. 8, 16, 64, 1024.</param>
    /// <param name="samples">Pairs per width when not every pair is evaluated (e.g. 1000).</param>
    /// <param name="seed">Seed of the sampled pairs.</param>
    public static IReadOnlyList<WidthAccuracy> Evaluate<T>(Sequential<T> model, TaskInfo task, IReadOnlyList<int> widths, int samples, ulong seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        bool aligned = task.Encoding == AlignedEncoding.Name;
        if (!aligned && task.Encoding != ConcatEncoding.Name) throw new ArgumentException($"Unknown encoding '{task.Encoding}' (expected aligned or concat).", nameof(task));
        var results = new List<WidthAccuracy>();
        foreach (int width in widths)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width, nameof(widths));
            if (!aligned && width != task.Bits)
            {
                throw new ArgumentException($"A concat model adds {task.Bits}-bit numbers only; it cannot be evaluated at width {width}.", nameof(widths));
            }
            results.Add(EvaluateWidth(model, aligned, width, samples, seed));
        }
        return results;
    }

    /// <summary>Accuracy at one width: every pair or a seeded sample, through the prefix trie where a concat model allows.</summary>
    private static WidthAccuracy EvaluateWidth<T>(Sequential<T> model, bool aligned, int width, int samples, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool all = aligned ? 2 * width <= 16 : width <= ConcatEncoding.MaxAllPairsBits;
        int count = all ? 1 << (2 * width) : samples;
        int steps = aligned ? AlignedEncoding.Steps(width) : 2 * width;
        if (aligned) CheckAligned(model, steps); else CheckConcat(model, width);
        BitScore score;
        if (!aligned && all && AllPairsInference.Supports(model, width))
        {
            var targets = ConcatEncoding.AllPairs<T>(width).Targets; // [4^w, w+1], i the outer loop
            score = BitScore.Of<T>(AllPairsInference.Predict(model, width).Span, targets.Span, width + 1);
        }
        else
        {
            score = ScoreInBatches(model, aligned, width, count, all, new RandomGenerator(seed + (ulong)width));
        }
        return new WidthAccuracy(width, count, all, score.Exact, score.BitAccuracy);
    }

    /// <summary>Scores <paramref name="count"/> pairs (every pair in order when <paramref name="all"/>, else drawn from <paramref name="random"/>) a batch at a time.</summary>
    private static BitScore ScoreInBatches<T>(Sequential<T> model, bool aligned, int width, int count, bool all, RandomGenerator random) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = aligned ? AlignedEncoding.Steps(width) : 2 * width;
        int batchSize = Math.Clamp(StepsPerBatch / steps, 1, 1024);
        var score = default(BitScore);
        var pairs = new List<(BigInteger A, BigInteger B)>(batchSize);
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            pairs.Clear();
            for (int i = 0; i < n; i++)
            {
                // Every pair with i the outer loop, as Experiment B's data; or a uniform sample.
                pairs.Add(all ? ((start + i) >> width, (start + i) & ((1 << width) - 1)) : (RandomBits.Next(width, random), RandomBits.Next(width, random)));
            }
            var (input, target) = aligned ? AlignedEncoding.Batch<T>(pairs, steps) : ConcatEncoding.Batch<T>(pairs, width); // target [N, w+1(, 1)] in the encoding's order
            var output = model.Forward(input, training: false); // [N, w+1, 1] or [N, w+1]
            score += BitScore.Of<T>(output.Span, target.Span, width + 1);
        }
        return score;
    }

    /// <summary>Aligned input <c>[steps, 2]</c>: step t holds bit t of a and of b (least significant first).</summary>
    public static void WriteAligned<T>(BigInteger a, BigInteger b, int steps, Span<T> input) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (input.Length != 2 * steps) throw new ArgumentException($"Need input [{steps}, 2].", nameof(input));
        WriteAligned(a.ToByteArray(isUnsigned: true, isBigEndian: false), b.ToByteArray(isUnsigned: true, isBigEndian: false), 0, input);
    }

    /// <summary>Steps from <paramref name="start"/> on of two little-endian byte strings: <c>[input.Length / 2, 2]</c>.</summary>
    private static void WriteAligned<T>(byte[] aBytes, byte[] bBytes, int start, Span<T> input) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int s = 0; s < input.Length / 2; s++)
        {
            input[2 * s] = BitText.BitAt(aBytes, start + s) ? T.One : T.Zero;
            input[(2 * s) + 1] = BitText.BitAt(bBytes, start + s) ? T.One : T.Zero;
        }
    }

    /// <summary>
    /// Whether the model can run a long sequence a chunk at a time, carrying each recurrent layer's
    /// final state into the next chunk: forward recurrent layers returning sequences, and layers
    /// that act step by step (dense, dropout). A bidirectional or reversed layer needs the whole sequence.
    /// </summary>
    private static bool CanChunk<T>(Sequential<T> model) where T : unmanaged, IFloatingPointIeee754<T> =>
        model.Layers.All(layer => layer switch
        {
            Bidirectional<T> => false,
            RecurrentLayer<T> recurrent => recurrent.ReturnSequences && !recurrent.Reverse,
            Dense<T> or Dropout<T> => true,
            _ => false,
        });

    /// <summary>
    /// The forward pass of an aligned addition <see cref="ChunkSteps"/> steps at a time, so that
    /// memory stays bounded however long the operands are; the result is the same as one pass.
    /// </summary>
    private static void ForwardInChunks<T>(Sequential<T> model, byte[] aBytes, byte[] bBytes, Span<T> outputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = outputs.Length;
        var states = new RecurrentState<T>?[model.Layers.Count];
        var input = new Tensor<T>(1, ChunkSteps, 2); // [1, C, 2]
        for (int start = 0; start < steps; start += ChunkSteps)
        {
            int length = Math.Min(ChunkSteps, steps - start);
            var x = length == ChunkSteps ? input : new Tensor<T>(1, length, 2);
            WriteAligned(aBytes, bBytes, start, x.Span);
            for (int i = 0; i < model.Layers.Count; i++)
            {
                if (model.Layers[i] is RecurrentLayer<T> recurrent)
                {
                    var result = recurrent.Forward(x, states[i], training: false);
                    // The layer reuses its state buffers on the next call: keep copies.
                    states[i] = new RecurrentState<T>(result.FinalState.Hidden.Clone(), result.FinalState.Cell?.Clone());
                    x = result.Output;
                }
                else
                {
                    x = model.Layers[i].Forward(x, training: false);
                }
            }
            x.Span.CopyTo(outputs.Slice(start, length)); // [1, C, 1]
        }
    }

    private static void CheckAligned<T>(Sequential<T> model, int steps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int[] shape;
        try
        {
            shape = model.OutputShape([steps, 2]);
        }
        catch (ArgumentException)
        {
            throw new ArgumentException("The model does not take the aligned encoding's input (two bits per step).", nameof(model));
        }
        if (shape is not [var t, 1] || t != steps)
        {
            throw new ArgumentException($"The model does not give one output per step (it gives {Tensor<T>.ShapeText(shape)} for {steps} steps), so it cannot add in the aligned encoding.", nameof(model));
        }
    }

    private static void CheckConcat<T>(Sequential<T> model, int bits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int[] shape;
        try
        {
            shape = model.OutputShape([2 * bits, 1]);
        }
        catch (ArgumentException)
        {
            throw new ArgumentException("The model does not take the concat encoding's input (one bit per step).", nameof(model));
        }
        if (shape is not [var n] || n != bits + 1)
        {
            throw new ArgumentException($"The model gives {Tensor<T>.ShapeText(shape)}, not the {bits + 1} sum bits of the concat encoding.", nameof(model));
        }
    }

    private static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = double.CreateChecked(values[i]);
        return result;
    }
}
