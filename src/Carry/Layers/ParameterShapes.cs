using System.Runtime.CompilerServices;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// A parameter's PyTorch name and shape — a matrix <c>[Rows, Columns]</c> or a vector <c>[Rows]</c> —
/// known before any layer is built.
/// </summary>
public readonly record struct ParameterShape
{
    private ParameterShape(string name, int rows, int columns)
    {
        Name = name;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>A matrix <c>[rows, columns]</c> (PyTorch's <c>[out, in]</c> layout).</summary>
    public static ParameterShape Matrix(string name, int rows, int columns) => new(name, rows, columns);

    /// <summary>A vector <c>[length]</c>.</summary>
    public static ParameterShape Vector(string name, int length) => new(name, length, 0);

    /// <summary>The name within its layer, e.g. <c>weight_ih_l0</c>.</summary>
    public string Name { get; }

    /// <summary>The first dimension.</summary>
    public int Rows { get; }

    /// <summary>The second dimension, or 0 for a vector.</summary>
    public int Columns { get; }

    /// <summary>1 for a vector, 2 for a matrix.</summary>
    public int Rank => Columns == 0 ? 1 : 2;

    /// <summary>True when <paramref name="shape"/> is this shape.</summary>
    public bool Matches(ReadOnlySpan<int> shape) => shape.Length == Rank && shape[0] == Rows && (Rank == 1 || shape[1] == Columns);

    /// <summary>The dimensions as an array (allocates; for building the tensor).</summary>
    public int[] ToArray() => Rank == 1 ? [Rows] : [Rows, Columns];

    /// <summary>The shape as text, e.g. <c>[16, 2]</c>.</summary>
    public string ShapeText => Rank == 1 ? $"[{Rows}]" : $"[{Rows}, {Columns}]";
}

/// <summary>
/// A layer's parameter shapes, in the order the layer holds its parameters, stored inline so
/// that computing them allocates nothing.
/// </summary>
public struct ParameterShapeList
{
    /// <summary>Most parameters a layer has (a bidirectional Jordan layer: 2 × 5).</summary>
    public const int Capacity = 10;

    private Items _items;

    /// <summary>How many parameters.</summary>
    public int Count { get; private set; }

    /// <summary>The <paramref name="index"/>-th parameter's shape.</summary>
    public readonly ParameterShape this[int index]
        => (uint)index < (uint)Count ? _items[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Appends a shape.</summary>
    internal void Add(ParameterShape shape)
    {
        if (Count == Capacity) throw new InvalidOperationException($"A layer has at most {Capacity} parameters.");
        _items[Count++] = shape;
    }

    /// <summary>Enumerates the shapes without allocating.</summary>
    public readonly Enumerator GetEnumerator() => new(this);

    /// <summary>Enumerator over a <see cref="ParameterShapeList"/>.</summary>
    public struct Enumerator(ParameterShapeList list)
    {
        private int _index = -1;

        /// <summary>The current shape.</summary>
        public readonly ParameterShape Current => list[_index];

        /// <summary>Moves to the next shape.</summary>
        public bool MoveNext() => ++_index < list.Count;
    }

    [InlineArray(Capacity)]
    private struct Items
    {
        private ParameterShape _first;
    }
}

/// <summary>
/// The one source of each layer kind's parameter names and shapes (DESIGN.md's names and
/// layouts). Each layer's constructor builds its parameters from its kind's function, and
/// <see cref="Of"/> computes them from a <see cref="LayerSpec"/> without building the layer, so
/// that a model file's header can be checked before any weight is allocated.
/// </summary>
public static class ParameterShapes
{
    /// <summary>Dense: <c>weight [out, in]</c>, <c>bias [out]</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public static ParameterShapeList Dense(int inputSize, int outputSize, bool bias)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        var list = new ParameterShapeList();
        list.Add(ParameterShape.Matrix("weight", outputSize, inputSize));
        if (bias) list.Add(ParameterShape.Vector("bias", outputSize));
        return list;
    }

    /// <summary>
    /// Elman (G = 1), LSTM (G = 4) and GRU (G = 3): <c>weight_ih_l0 [G*H, I]</c>,
    /// <c>weight_hh_l0 [G*H, H]</c>, <c>bias_ih_l0 [G*H]</c>, <c>bias_hh_l0 [G*H]</c>; suffixed
    /// <c>_l0_reverse</c> for the time-reversed direction.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive, or G*H is too large.</exception>
    public static ParameterShapeList Gated(int inputSize, int hiddenSize, int gateCount, bool bias, bool reverse)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gateCount);
        long rows = (long)gateCount * hiddenSize;
        if (rows > int.MaxValue) throw new ArgumentException($"{gateCount} gates of {hiddenSize} units are too many ({rows} rows).");
        int gh = (int)rows;
        var list = new ParameterShapeList();
        list.Add(ParameterShape.Matrix(reverse ? "weight_ih_l0_reverse" : "weight_ih_l0", gh, inputSize));
        list.Add(ParameterShape.Matrix(reverse ? "weight_hh_l0_reverse" : "weight_hh_l0", gh, hiddenSize));
        if (bias)
        {
            list.Add(ParameterShape.Vector(reverse ? "bias_ih_l0_reverse" : "bias_ih_l0", gh));
            list.Add(ParameterShape.Vector(reverse ? "bias_hh_l0_reverse" : "bias_hh_l0", gh));
        }
        return list;
    }

    /// <summary>
    /// Jordan: <c>weight_ih_l0 [H, I]</c>, <c>weight_yh_l0 [H, O]</c>, <c>bias_h_l0 [H]</c>,
    /// <c>weight_hy_l0 [O, H]</c>, <c>bias_y_l0 [O]</c>; suffixed <c>_l0_reverse</c> for the
    /// time-reversed direction.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public static ParameterShapeList Jordan(int inputSize, int hiddenSize, int outputSize, bool bias, bool reverse)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        var list = new ParameterShapeList();
        list.Add(ParameterShape.Matrix(reverse ? "weight_ih_l0_reverse" : "weight_ih_l0", hiddenSize, inputSize));
        list.Add(ParameterShape.Matrix(reverse ? "weight_yh_l0_reverse" : "weight_yh_l0", hiddenSize, outputSize));
        if (bias) list.Add(ParameterShape.Vector(reverse ? "bias_h_l0_reverse" : "bias_h_l0", hiddenSize));
        list.Add(ParameterShape.Matrix(reverse ? "weight_hy_l0_reverse" : "weight_hy_l0", outputSize, hiddenSize));
        if (bias) list.Add(ParameterShape.Vector(reverse ? "bias_y_l0_reverse" : "bias_y_l0", outputSize));
        return list;
    }

    /// <summary>Embedding: <c>weight [vocab, dim]</c> (PyTorch's <c>nn.Embedding</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public static ParameterShapeList Embedding(int vocabularySize, int embeddingSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingSize);
        var list = new ParameterShapeList();
        list.Add(ParameterShape.Matrix("weight", vocabularySize, embeddingSize));
        return list;
    }

    /// <summary>Gates per unit of an Elman layer.</summary>
    public const int ElmanGates = 1;

    /// <summary>Gates per unit of an LSTM layer (input, forget, cell, output).</summary>
    public const int LstmGates = 4;

    /// <summary>Gates per unit of a GRU layer (reset, update, new).</summary>
    public const int GruGates = 3;

    /// <summary>
    /// Validates <paramref name="spec"/> and returns the parameters a layer built from it has,
    /// in the layer's order, without building it. Fields the kind does not use must be absent
    /// (Carry never writes them, so they mean an edited file).
    /// </summary>
    /// <exception cref="ArgumentException">The spec is not a valid layer.</exception>
    public static ParameterShapeList Of(LayerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        CheckFields(spec);
        switch (spec.Kind)
        {
            case LayerKinds.Dropout:
                if (spec.Units != 0 || spec.InputSize != 0) throw new ArgumentException("Layer 'dropout' takes no sizes of its own.");
                if (!(spec.Rate >= 0 && spec.Rate < 1)) throw new ArgumentException($"Dropout rate {spec.Rate} is not in [0, 1).");
                return default;
            case LayerKinds.Bidirectional:
                return Bidirectional(spec);
            case LayerKinds.Activation or LayerKinds.RepeatVector:
                if (spec.Units != 0 || spec.InputSize != 0) throw new ArgumentException($"Layer '{spec.Kind}' takes no sizes of its own.");
                if (spec.Kind == LayerKinds.Activation && spec.Activation is null) throw new ArgumentException("An activation layer needs an activation.");
                if (spec.Kind == LayerKinds.RepeatVector && spec.Repeats <= 0) throw new ArgumentException($"RepeatVector has {spec.Repeats} repeats; it must be positive.");
                return default;
        }
        CheckSizes(spec);
        return spec.Kind switch
        {
            LayerKinds.Dense => Dense(spec.InputSize, spec.Units, spec.Bias),
            LayerKinds.Embedding => Embedding(spec.InputSize, spec.Units),
            _ => Recurrent(spec, reverse: false),
        };
    }

    /// <summary>A recurrent kind's parameters, in one direction.</summary>
    private static ParameterShapeList Recurrent(LayerSpec spec, bool reverse) => spec.Kind switch
    {
        LayerKinds.Elman => Gated(spec.InputSize, spec.Units, ElmanGates, spec.Bias, reverse),
        LayerKinds.Lstm => Gated(spec.InputSize, spec.Units, LstmGates, spec.Bias, reverse),
        LayerKinds.Gru => Gated(spec.InputSize, spec.Units, GruGates, spec.Bias, reverse),
        LayerKinds.Jordan => spec.OutputSize > 0
            ? Jordan(spec.InputSize, spec.Units, spec.OutputSize, spec.Bias, reverse)
            : throw new ArgumentException($"Jordan layer has output size {spec.OutputSize}; it must be positive."),
        _ => throw new ArgumentException($"Unknown layer kind '{Clip(spec.Kind)}'."),
    };

    /// <summary>A bidirectional layer: its inner layer's parameters, then their time-reversed twins.</summary>
    private static ParameterShapeList Bidirectional(LayerSpec spec)
    {
        if (spec.Units != 0) throw new ArgumentException("Layer 'bidirectional' takes no sizes of its own.");
        if (spec.Inner is not { Kind: LayerKinds.Elman or LayerKinds.Jordan or LayerKinds.Lstm or LayerKinds.Gru } inner)
        {
            throw new ArgumentException("A bidirectional layer needs an inner elman, jordan, lstm or gru layer.");
        }
        if ((spec.InputSize != 0 && spec.InputSize != inner.InputSize) || spec.ReturnSequences != inner.ReturnSequences)
        {
            throw new ArgumentException("A bidirectional layer's input size and returnSequences differ from its inner layer's.");
        }
        var list = Of(inner);
        foreach (var shape in Recurrent(inner, reverse: true)) list.Add(shape);
        return list;
    }

    /// <summary>Fields a kind does not use must be absent; activation names must be known.</summary>
    private static void CheckFields(LayerSpec spec)
    {
        if (spec.Kind is null) throw new ArgumentException("A layer has no kind.");
        string kind = Clip(spec.Kind);
        bool activations = spec.Kind is LayerKinds.Dense or LayerKinds.Elman or LayerKinds.Jordan or LayerKinds.Activation;
        if (!activations && spec.Activation is not null) throw new ArgumentException($"Layer '{kind}' takes no activation.");
        if (spec.Activation is not null && !(spec.Kind == LayerKinds.Activation && spec.Activation == ActivationLayer<float>.SoftmaxName)) Activations.Parse(spec.Activation);
        if (spec.RecurrentActivation is not null)
        {
            if (spec.Kind is not (LayerKinds.Lstm or LayerKinds.Gru)) throw new ArgumentException($"Layer '{kind}' takes no recurrent activation.");
            Activations.Parse(spec.RecurrentActivation);
        }
        if (!spec.ResetAfter && spec.Kind != LayerKinds.Gru) throw new ArgumentException($"Layer '{kind}' takes no resetAfter.");
        if (spec.Repeats != 0 && spec.Kind != LayerKinds.RepeatVector) throw new ArgumentException($"Layer '{kind}' takes no repeats.");
        if (spec.OutputActivation is not null)
        {
            if (spec.Kind != LayerKinds.Jordan) throw new ArgumentException($"Layer '{kind}' takes no output activation.");
            Activations.Parse(spec.OutputActivation);
        }
        if (spec.OutputSize != 0 && spec.Kind != LayerKinds.Jordan) throw new ArgumentException($"Layer '{kind}' takes no output size.");
        if ((spec.Rate != 0 || spec.Seed != 0) && spec.Kind != LayerKinds.Dropout) throw new ArgumentException($"Layer '{kind}' takes no dropout rate or seed.");
        if (spec.Inner is not null && spec.Kind != LayerKinds.Bidirectional) throw new ArgumentException($"Layer '{kind}' wraps no inner layer.");
    }

    /// <summary>A sized layer's input size and units must be positive (named by kind for the reader of a file).</summary>
    private static void CheckSizes(LayerSpec spec)
    {
        if (spec.InputSize <= 0) throw new ArgumentException($"Layer '{Clip(spec.Kind)}' has input size {spec.InputSize}; it must be positive.");
        if (spec.Units <= 0) throw new ArgumentException($"Layer '{Clip(spec.Kind)}' has {spec.Units} units; it must be positive.");
    }

    private static string Clip(string text) => Serialization.SafeTensors.Clip(text);
}
