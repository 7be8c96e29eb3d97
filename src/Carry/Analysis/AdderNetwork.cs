using System.Numerics;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Analysis;

/// <summary>
/// An aligned adder seen as a state machine over real vectors: the state is every recurrent
/// layer's carried state laid end to end (hidden, then cell for an LSTM), the input symbol is one
/// bit pair, the output the model's per-step output. Steps run the model's own layers
/// (<see cref="RecurrentLayer{T}.Forward(Tensor{T}, RecurrentState{T}?, bool)"/> over one time step),
/// so the analysis sees exactly the network that <c>carry add</c> runs.
/// </summary>
/// <remarks>
/// Symbols: <c>s = a + 2b</c> for the bit pair <c>(a, b)</c>, so 0 = (0,0), 1 = (1,0), 2 = (0,1), 3 = (1,1).
/// Supported models: one or more causal recurrent layers (Elman, Jordan, LSTM, GRU; not
/// bidirectional, not reversed, every step's output), optional dropout (inactive), and a final
/// <c>Dense(→1)</c>; the bit is <c>output ≥ 0.5</c>, as <see cref="Arithmetic.AlignedEncoding.Decode{T}"/> reads it.
/// </remarks>
public sealed class AdderNetwork<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Number of input symbols: the four bit pairs.</summary>
    public const int Symbols = 4;

    private readonly RecurrentLayer<T>[] _recurrent;
    private readonly Dense<T> _output;
    private readonly int[] _offsets; // start of each layer's state within a row
    private readonly Sequential<T> _model;

    /// <summary>Wraps <paramref name="model"/>; throws <see cref="ArgumentException"/> when it is not an aligned adder of the supported shape.</summary>
    public AdderNetwork(Sequential<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        var recurrent = new List<RecurrentLayer<T>>();
        Dense<T>? dense = null;
        foreach (var layer in model.Layers)
        {
            if (dense is not null) throw new ArgumentException("The model has layers after its output layer; explain needs recurrent layers, then Dense(→1).", nameof(model));
            switch (layer)
            {
                case Bidirectional<T>:
                    throw new ArgumentException("A bidirectional layer reads the future, so the model is no state machine; explain needs causal layers.", nameof(model));
                case RecurrentLayer<T> r when r.Reverse || !r.ReturnSequences:
                    throw new ArgumentException("Every recurrent layer must run forward and return every step (an aligned adder).", nameof(model));
                case RecurrentLayer<T> r:
                    recurrent.Add(r);
                    break;
                case Dropout<T>:
                    break;
                case Dense<T> d when d.OutputSize == 1:
                    dense = d;
                    break;
                default:
                    throw new ArgumentException($"Layer {layer.Spec.Kind} does not fit an aligned adder (recurrent layers, then Dense(→1)).", nameof(model));
            }
        }
        if (recurrent.Count == 0 || dense is null) throw new ArgumentException("An aligned adder needs at least one recurrent layer and a final Dense(→1).", nameof(model));
        if (recurrent[0].InputSize != 2) throw new ArgumentException($"The first layer reads {recurrent[0].InputSize} features per step; an aligned adder reads 2.", nameof(model));
        _recurrent = [.. recurrent];
        _output = dense;
        _offsets = new int[_recurrent.Length + 1];
        for (int l = 0; l < _recurrent.Length; l++) _offsets[l + 1] = _offsets[l] + (_recurrent[l].HasCell ? 2 : 1) * _recurrent[l].StateSize;
    }

    /// <summary>The recurrent layers, in order.</summary>
    public IReadOnlyList<RecurrentLayer<T>> Recurrent => _recurrent;

    /// <summary>The output layer, <c>Dense(→1)</c>.</summary>
    public Dense<T> Output => _output;

    /// <summary>Floats per state row, S (e.g. 16 for the iamtrask Elman adder; 2H per LSTM layer).</summary>
    public int StateSize => _offsets[^1];

    /// <summary>Where layer <paramref name="layer"/>'s state starts within a row (hidden, then cell).</summary>
    public int StateOffset(int layer) => _offsets[layer];

    /// <summary>Bit a of symbol <paramref name="symbol"/>.</summary>
    public static int BitA(int symbol) => symbol & 1;

    /// <summary>Bit b of symbol <paramref name="symbol"/>.</summary>
    public static int BitB(int symbol) => symbol >> 1;

    /// <summary>
    /// One step for a batch: <paramref name="states"/> <c>[N, S]</c> and <paramref name="symbols"/>
    /// <c>[N]</c> in, <paramref name="next"/> <c>[N, S]</c> and <paramref name="outputs"/> <c>[N]</c>
    /// (the model's output, before rounding) out. <paramref name="next"/> may be <paramref name="states"/>.
    /// </summary>
    public void Step(T[] states, ReadOnlySpan<byte> symbols, T[] next, Span<T> outputs)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(next);
        int n = symbols.Length, s = StateSize;
        if (states.Length != n * s || next.Length != n * s || outputs.Length != n) throw new ArgumentException($"Step needs states [{n}, {s}], next [{n}, {s}] and outputs [{n}].", nameof(states));
        var x = new Tensor<T>(n, 1, 2); // [N, 1, 2]
        for (int i = 0; i < n; i++)
        {
            x.Span[2 * i] = T.CreateTruncating(BitA(symbols[i]));
            x.Span[(2 * i) + 1] = T.CreateTruncating(BitB(symbols[i]));
        }
        // Gather every layer's initial state before any is overwritten (next may alias states).
        var initial = new RecurrentState<T>[_recurrent.Length];
        for (int l = 0; l < _recurrent.Length; l++) initial[l] = Gather(states, n, l);
        for (int l = 0; l < _recurrent.Length; l++)
        {
            var result = _recurrent[l].Forward(x, initial[l], training: false); // [N, 1, O]
            Scatter(result.FinalState, next, n, l);
            x = result.Output;
        }
        _output.Forward(x, training: false).Span.CopyTo(outputs); // [N, 1, 1]
    }

    /// <summary>The zero state that every addition starts from, <c>[S]</c>.</summary>
    public T[] InitialState() => new T[StateSize];

    /// <summary>
    /// Runs whole sequences: <paramref name="symbols"/> <c>[N, steps]</c> from the zero state; returns the
    /// outputs <c>[N, steps]</c>. For tests and short runs; the analyses step batches themselves.
    /// </summary>
    public T[] Run(ReadOnlySpan<byte> symbols, int sequences)
    {
        int steps = symbols.Length / sequences, s = StateSize;
        var state = new T[sequences * s];
        var column = new byte[sequences];
        var outStep = new T[sequences];
        var outputs = new T[sequences * steps];
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < sequences; i++) column[i] = symbols[(i * steps) + t];
            Step(state, column, state, outStep);
            for (int i = 0; i < sequences; i++) outputs[(i * steps) + t] = outStep[i];
        }
        return outputs;
    }

    /// <summary>A network over a copy of the model (the layers keep buffers, so each thread needs its own).</summary>
    public AdderNetwork<T> Clone() => new(Serialization.ModelFile.FromBytes<T>(Serialization.ModelFile.ToBytes(_model, new Serialization.ModelMetadata { DType = typeof(T) == typeof(float) ? "F32" : "F64" })).Model);

    /// <summary>The model this network steps.</summary>
    public Sequential<T> Model => _model;

    private RecurrentState<T> Gather(T[] states, int n, int layer)
    {
        int s = StateSize, h = _recurrent[layer].StateSize, at = _offsets[layer];
        if (s == h) return new RecurrentState<T>(new Tensor<T>(states, n, h)); // one layer, no cell: the rows are the state, no copy
        var hidden = new Tensor<T>(n, h); // [N, H]
        Tensor<T>? cell = _recurrent[layer].HasCell ? new Tensor<T>(n, h) : null;
        for (int i = 0; i < n; i++)
        {
            states.AsSpan((i * s) + at, h).CopyTo(hidden.Span.Slice(i * h, h));
            if (cell is not null) states.AsSpan((i * s) + at + h, h).CopyTo(cell.Span.Slice(i * h, h));
        }
        return new RecurrentState<T>(hidden, cell);
    }

    private void Scatter(RecurrentState<T> state, T[] next, int n, int layer)
    {
        int s = StateSize, h = _recurrent[layer].StateSize, at = _offsets[layer];
        if (s == h)
        {
            state.Hidden.Span.CopyTo(next);
            return;
        }
        for (int i = 0; i < n; i++)
        {
            state.Hidden.Span.Slice(i * h, h).CopyTo(next.AsSpan((i * s) + at, h));
            if (state.Cell is not null) state.Cell.Span.Slice(i * h, h).CopyTo(next.AsSpan((i * s) + at + h, h));
        }
    }
}
