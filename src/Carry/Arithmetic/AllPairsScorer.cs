using System.Numerics;
using Carry.Layers;
using Carry.Numerics;
using Carry.Training;

namespace Carry.Arithmetic;

/// <summary>
/// <see cref="AllPairsInference"/> kept for one model, for scoring it again and again (after every
/// epoch): the trie walk's buffers (the states of every depth, the LSTM step's gate buffers, the
/// result) are allocated by the first call and reused by every later one, so the per-epoch score
/// of a concat adder on all pairs allocates nothing that outlives it. The outputs are
/// <see cref="AllPairsInference.Predict"/>'s, bit for bit.
/// </summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public sealed class AllPairsScorer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly AllPairsInference.TrieWalk<T>? _walk; // null when the model does not fit the trie

    /// <param name="model">A concat model of width <paramref name="bits"/> (output <c>[bits+1]</c> per sample); its weights may change between calls, its layers may not.</param>
    /// <param name="bits">Operand width, 1 to <see cref="ConcatEncoding.MaxAllPairsBits"/> (e.g. 8).</param>
    /// <param name="chunkRows">Most children per recurrent step (default <see cref="AllPairsInference.DefaultChunkRows"/>, at least 2).</param>
    public AllPairsScorer(Sequential<T> model, int bits, int chunkRows = AllPairsInference.DefaultChunkRows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, ConcatEncoding.MaxAllPairsBits);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 2);
        Model = model;
        Bits = bits;
        if (AllPairsInference.Supports(model, bits)) _walk = new AllPairsInference.TrieWalk<T>(model, bits, chunkRows);
    }

    /// <summary>The model scored.</summary>
    public Sequential<T> Model { get; }

    /// <summary>Operand width in bits.</summary>
    public int Bits { get; }

    /// <summary>
    /// The model's outputs for every pair (i, j), i the outer loop, in inference mode, as
    /// <see cref="AllPairsInference.Predict"/> gives them (a model that does not fit the trie goes
    /// through <see cref="Sequential{T}.Predict"/>).
    /// </summary>
    /// <returns><c>[4^bits, bits+1]</c>: over the trie, the scorer's own buffer, overwritten by the next call.</returns>
    public Tensor<T> Predict() => _walk?.Run() ?? Model.Predict(ConcatEncoding.AllPairs<T>(Bits).Inputs);

    /// <summary>Loss, exact-match and per-bit accuracy over every pair, as <see cref="AllPairsInference.Evaluate"/> gives them.</summary>
    /// <param name="targets">Every pair's target <c>[4^bits, bits+1]</c>, i the outer loop (as <see cref="ConcatEncoding.AllPairs{T}"/> builds them).</param>
    public Evaluation Evaluate(Tensor<T> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (Model.Loss is null) throw new InvalidOperationException("Compile the model with a loss first.");
        return AllPairsInference.Score(Model, Bits, Predict(), targets);
    }
}
