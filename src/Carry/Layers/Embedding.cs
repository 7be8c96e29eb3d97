using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// A lookup table of learned vectors (PyTorch's <c>nn.Embedding</c>, Keras's <c>Embedding</c>):
/// step t of sample b reads the token index <c>k = x[b, t, 0]</c> and outputs row k of
/// <c>weight [vocab, dim]</c>. The input is <c>[B, T, 1]</c> holding whole numbers in
/// <c>[0, vocab)</c> as <typeparamref name="T"/>; the output is <c>[B, T, dim]</c>. Indices carry
/// no gradient: <c>Backward</c> adds each step's <c>dOutput</c> row into the weight row it read
/// and returns a zero <c>dInput</c>.
/// </summary>
public sealed class Embedding<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private int[] _indices = [];   // [B*T] the rows read by the last Forward
    private Tensor<T>? _output;    // [B, T, dim]
    private Tensor<T>? _dInput;    // [B, T, 1] zeros: indices have no gradient

    /// <param name="vocabularySize">Rows of the table, the number of distinct tokens (e.g. 65 characters).</param>
    /// <param name="embeddingSize">Width of each vector, dim (e.g. 16).</param>
    public Embedding(int vocabularySize, int embeddingSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingSize);
        VocabularySize = vocabularySize;
        EmbeddingSize = embeddingSize;
        Weight = new Parameter<T>("weight", vocabularySize, embeddingSize);
        _parameters = [Weight];
    }

    /// <summary>Number of rows, the vocabulary size.</summary>
    public int VocabularySize { get; }

    /// <summary>Width of each row, dim.</summary>
    public int EmbeddingSize { get; }

    /// <summary><c>weight [vocab, dim]</c>.</summary>
    public Parameter<T> Weight { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc />
    public override LayerSpec Spec => new() { Kind = LayerKinds.Embedding, InputSize = VocabularySize, Units = EmbeddingSize, Bias = false };

    /// <inheritdoc />
    public override int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length != 2 || inputShape[1] != 1)
        {
            throw new ArgumentException($"Embedding expects per-sample input [time, 1] of token indices, got {Tensor<T>.ShapeText(inputShape)}.", nameof(inputShape));
        }
        return [inputShape[0], EmbeddingSize];
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">An element of <paramref name="input"/> is not a whole number in <c>[0, vocab)</c>; the message names its position and value.</exception>
    public override Tensor<T> Forward(Tensor<T> input, bool training)
    {
        Check.Rank(input, 3, nameof(input));
        if (input.Dim(2) != 1) throw new ArgumentException($"input must be [batch, time, 1] token indices, but has shape {input.ShapeString}.", nameof(input));
        Check.NonEmptyBatch(input, nameof(input));
        int batch = input.Dim(0), time = input.Dim(1), dim = EmbeddingSize;
        if (_indices.Length != batch * time) _indices = new int[batch * time];
        ReadOnlySpan<T> x = input.Span;
        for (int i = 0; i < x.Length; i++) _indices[i] = ToIndex(x[i], i / time, i % time);
        var output = Reuse(ref _output, batch, time, dim);
        ReadOnlySpan<T> weight = Weight.Value.Span;
        for (int i = 0; i < _indices.Length; i++) weight.Slice(_indices[i] * dim, dim).CopyTo(output.Span.Slice(i * dim, dim)); // y[b, t] = W[k]
        return output;
    }

    /// <summary>The row index a value names, or an exception naming the position and value.</summary>
    private int ToIndex(T value, int b, int t)
    {
        if (!T.IsInteger(value) || value < T.Zero || value >= T.CreateChecked(VocabularySize))
        {
            throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"input[{b}, {t}, 0] = {value} is not a token index: the embedding has indices 0 to {VocabularySize - 1}."), "input");
        }
        return int.CreateChecked(value);
    }

    /// <inheritdoc />
    public override Tensor<T> Backward(Tensor<T> dOutput)
    {
        if (_output is null) throw new InvalidOperationException("Backward called before Forward.");
        Check.Shape(dOutput, _output.Shape, nameof(dOutput));
        int dim = EmbeddingSize;
        Span<T> dWeight = Weight.Gradient.Span;
        for (int i = 0; i < _indices.Length; i++)
        {
            // dW[k] += dy[b, t]: a token read at several steps gathers all their gradients.
            var row = dWeight.Slice(_indices[i] * dim, dim);
            System.Numerics.Tensors.TensorPrimitives.Add(row, dOutput.Span.Slice(i * dim, dim), row);
        }
        var dInput = Reuse(ref _dInput, _output.Dim(0), _output.Dim(1), 1);
        dInput.Fill(T.Zero);
        return dInput;
    }

    /// <inheritdoc />
    public override void Initialize(Initialization scheme, RandomGenerator random)
    {
        var w = Weight.Value.Span;
        if (scheme == Initialization.PyTorch)
        {
            for (int i = 0; i < w.Length; i++) w[i] = T.CreateChecked(random.NextNormal()); // nn.Embedding: N(0, 1)
        }
        else
        {
            FillUniform(w, 0.05, random); // Keras: RandomUniform(-0.05, 0.05)
        }
    }
}
