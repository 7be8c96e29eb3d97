using System.Numerics;
using Carry.Layers;
using Carry.Numerics;
using Carry.Training;

namespace Carry.Arithmetic;

/// <summary>
/// A concat model's outputs for every pair of <c>bits</c>-bit operands, computed over the trie
/// of input prefixes instead of sample by sample. In the concat encoding the inputs of all
/// <c>4^bits</c> pairs are exactly all binary strings of length <c>2·bits</c> (most significant
/// bit of i first, then j), so after step t only <c>2^(t+1)</c> distinct recurrent states exist.
/// Step t takes the <c>2^t</c> parent states, duplicates each for input bit 0 and bit 1, and runs
/// one step of every recurrent layer on the <c>2^(t+1)</c> children (through
/// <see cref="RecurrentLayer{T}.Forward(Tensor{T}, RecurrentState{T}?, bool)"/>). That is about
/// <c>2^(2·bits+1)</c> row-steps in all instead of <c>2·bits·4^bits</c>: 8× less work at 8 bits.
/// An LSTM step goes further: both children share the parent's recurrent product <c>W_hh·h</c>,
/// so it is computed once per parent (half the matrix work); the other cells go through the
/// layer's own <c>Forward</c>, which tests hold this walk to, as they hold the LSTM step to
/// <see cref="Sequential{T}.Predict"/>.
/// Once the frontier is wider than a chunk, the trie is walked depth-first one block of the
/// frontier at a time, so memory stays bounded (one chunk per level).
/// <para>
/// Handled: unidirectional, forward-running recurrent layers (Elman, LSTM, GRU, Jordan), stacked
/// (all but the last returning sequences), with step-wise layers (dense, dropout) between them,
/// and dense/dropout layers after the last one. Anything else (a bidirectional or reversed
/// layer, another layer kind) falls back to <see cref="Sequential{T}.Predict"/> on
/// <see cref="ConcatEncoding.AllPairs{T}"/>, with the same result layout.
/// </para>
/// </summary>
public static class AllPairsInference
{
    /// <summary>
    /// Children evaluated per recurrent step once the frontier is this wide (default 256 rows). For
    /// an LSTM(256) in float at 8 bits the walk then holds about 12 MiB (the states of every depth
    /// 5 MiB, the step's gate buffers 1.5 MiB, the result 2.25 MiB) against 29 MiB at 1,024 rows,
    /// for the same outputs bit for bit and, measured, the same time.
    /// </summary>
    public const int DefaultChunkRows = 256;

    /// <summary>
    /// Whether <paramref name="model"/> can be evaluated over the prefix trie at
    /// <paramref name="bits"/> bits (otherwise <see cref="Predict"/> falls back to the batched path).
    /// </summary>
    public static bool Supports<T>(Sequential<T> model, int bits) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        if (bits < 1 || bits > ConcatEncoding.MaxAllPairsBits || model.Layers.Count == 0) return false;
        try
        {
            if (model.OutputShape([2 * bits, 1]) is not [var n] || n != bits + 1) return false;
        }
        catch (ArgumentException)
        {
            return false;
        }
        int last = LastRecurrent(model);
        if (last < 0) return false;
        for (int i = 0; i < model.Layers.Count; i++)
        {
            bool ok = model.Layers[i] switch
            {
                Bidirectional<T> => false,
                RecurrentLayer<T> recurrent => !recurrent.Reverse && recurrent.ReturnSequences == (i < last),
                Dense<T> or Dropout<T> => true,
                _ => false,
            };
            if (!ok) return false;
        }
        return true;
    }

    /// <summary>
    /// The model's outputs for every pair (i, j), i the outer loop — the same layout as
    /// <c>model.Predict(ConcatEncoding.AllPairs&lt;T&gt;(bits).Inputs)</c>, in inference mode.
    /// </summary>
    /// <param name="model">A concat model of width <paramref name="bits"/> (output <c>[bits+1]</c> per sample).</param>
    /// <param name="bits">Operand width, 1 to <see cref="ConcatEncoding.MaxAllPairsBits"/> (e.g. 8).</param>
    /// <param name="chunkRows">Most children per recurrent step (default <see cref="DefaultChunkRows"/>, at least 2).</param>
    /// <returns>A new tensor <c>[4^bits, bits+1]</c>.</returns>
    public static Tensor<T> Predict<T>(Sequential<T> model, int bits, int chunkRows = DefaultChunkRows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, ConcatEncoding.MaxAllPairsBits);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkRows, 2);
        return new AllPairsScorer<T>(model, bits, chunkRows).Predict();
    }

    /// <summary>
    /// Loss, exact-match and per-bit accuracy over every pair — the same as
    /// <c>model.Evaluate(ConcatEncoding.AllPairs&lt;T&gt;(bits).Inputs, targets)</c>, with the
    /// outputs from <see cref="Predict"/> (for the per-epoch score of a concat model trained on all pairs).
    /// </summary>
    /// <param name="model">A compiled concat model of width <paramref name="bits"/>.</param>
    /// <param name="bits">Operand width, 1 to <see cref="ConcatEncoding.MaxAllPairsBits"/>.</param>
    /// <param name="targets">Every pair's target <c>[4^bits, bits+1]</c>, i the outer loop (as <see cref="ConcatEncoding.AllPairs{T}"/> builds them).</param>
    public static Evaluation Evaluate<T>(Sequential<T> model, int bits, Tensor<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(targets);
        if (model.Loss is null) throw new InvalidOperationException("Compile the model with a loss first.");
        return new AllPairsScorer<T>(model, bits).Evaluate(targets);
    }

    /// <summary>Loss, exact-match and per-bit accuracy of <paramref name="prediction"/> <c>[N, bits+1]</c> against <paramref name="targets"/> of the same shape.</summary>
    internal static Evaluation Score<T>(Sequential<T> model, int bits, Tensor<T> prediction, Tensor<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (model.Loss is null) throw new InvalidOperationException("Compile the model with a loss first.");
        Check.Shape(targets, [1 << (2 * bits), bits + 1], nameof(targets));
        double loss = double.CreateChecked(model.Loss.Value(prediction.Span, targets.Span));
        var score = BitScore.Of<T>(prediction.Span, targets.Span, bits + 1);
        return new Evaluation(loss, score.Exact, score.BitAccuracy);
    }

    private static int LastRecurrent<T>(Sequential<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = model.Layers.Count - 1; i >= 0; i--)
        {
            if (model.Layers[i] is RecurrentLayer<T>) return i;
        }
        return -1;
    }

    /// <summary>
    /// Walks of the prefix trie for one model: buffers per depth, reused by every block at that
    /// depth and by every later walk (so a walk after the first allocates nothing but what the
    /// layers' own <c>Forward</c> may).
    /// </summary>
    internal sealed class TrieWalk<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Sequential<T> _model;
        private readonly int _steps, _outPer, _chunkRows, _last;
        private readonly RecurrentLayer<T>[] _recurrent; // the recurrent layers, in order
        private readonly int[] _recurrentIndex;          // their positions in the model
        private readonly RecurrentState<T>[][] _states;  // [depth][layer]: Hidden [rows(depth), S], Cell [rows(depth), S]
        private readonly Dictionary<int, RecurrentState<T>[]> _initial = []; // rows → [layer]: children's initial states [rows, S], live only during one step
        private readonly Tensor<T>[] _inputs;            // [depth]: [rows(depth), 1, 1] the step's input bits
        private readonly Tensor<T> _result;              // [4^bits, bits+1]
        private readonly PackedMatrix<T>?[] _packedWeightHhT; // [layer]: an LSTM's W_hhᵀ [H, 4H], packed again at each walk
        private readonly T[]?[] _shared;                  // [layer]: an LSTM's W_hh·h_parent for a block, [chunk/2, 4H] at most
        private readonly T[]?[] _gates;                   // [layer]: an LSTM's children's gates for a block, [chunk, 4H] at most
        private readonly Dictionary<(int Layer, int Rows), Tensor<T>> _buffers = []; // LSTM step outputs by (layer, rows)

        public TrieWalk(Sequential<T> model, int bits, int chunkRows)
        {
            _model = model;
            _steps = 2 * bits;
            _outPer = bits + 1;
            _chunkRows = chunkRows;
            _last = LastRecurrent(model);
            var indices = new List<int>();
            for (int i = 0; i <= _last; i++)
            {
                if (model.Layers[i] is RecurrentLayer<T>) indices.Add(i);
            }
            _recurrentIndex = [.. indices];
            _recurrent = [.. indices.Select(i => (RecurrentLayer<T>)model.Layers[i])];
            _states = new RecurrentState<T>[_steps + 1][];
            _inputs = new Tensor<T>[_steps + 1];
            for (int depth = 0; depth <= _steps; depth++)
            {
                int rows = RowsAt(depth);
                _states[depth] = [.. _recurrent.Select(layer => NewState(layer, rows))];
                if (depth > 0)
                {
                    _inputs[depth] = new Tensor<T>(rows, 1, 1);
                    for (int r = 0; r < rows; r++) _inputs[depth].Span[r] = (r & 1) == 0 ? T.Zero : T.One; // child 2p: bit 0, 2p+1: bit 1
                }
            }
            _result = new Tensor<T>(1 << _steps, _outPer);
            _packedWeightHhT = new PackedMatrix<T>?[_recurrent.Length];
            _shared = new T[]?[_recurrent.Length];
            _gates = new T[]?[_recurrent.Length];
            int widest = RowsAt(_steps);
            for (int k = 0; k < _recurrent.Length; k++)
            {
                if (_recurrent[k] is not Lstm<T> lstm) continue;
                _shared[k] = new T[Math.Max(1, widest / 2) * 4 * lstm.HiddenSize];
                _gates[k] = new T[widest * 4 * lstm.HiddenSize];
                if (PackedMatrix<T>.IsUseful(lstm.Compute.GemmPath)) _packedWeightHhT[k] = new PackedMatrix<T>();
            }
        }

        /// <summary>Rows held at a depth: the whole frontier (2^depth nodes) until it passes a chunk.</summary>
        private int RowsAt(int depth) => Math.Min(1 << depth, _chunkRows);

        private static RecurrentState<T> NewState(RecurrentLayer<T> layer, int rows) =>
            new(new Tensor<T>(rows, layer.StateSize), layer.HasCell ? new Tensor<T>(rows, layer.StateSize) : null);

        /// <summary>Walks the trie with the model's current weights; returns the walk's own result buffer <c>[4^bits, bits+1]</c>, overwritten by the next walk.</summary>
        public Tensor<T> Run()
        {
            for (int k = 0; k < _recurrent.Length; k++)
            {
                if (_packedWeightHhT[k] is { } packed && _recurrent[k] is Lstm<T> lstm)
                {
                    packed.Pack(lstm.Compute.GemmPath, true, lstm.HiddenSize, 4 * lstm.HiddenSize, lstm.WeightHh.Value.Span, lstm.HiddenSize);
                }
            }
            // Depth 0 is the root: one node with zero states (as a null initial state would be).
            Descend(0, 1, 0);
            return _result;
        }

        /// <summary>
        /// Expands <paramref name="count"/> nodes held in <c>_states[depth]</c>, the first of which
        /// has index <paramref name="first"/> among the 2^depth prefixes of length depth
        /// (the prefix bits read as a number, most significant first).
        /// </summary>
        private void Descend(int depth, int count, int first)
        {
            int child = depth + 1;
            int blockParents = Math.Max(1, _chunkRows / 2);
            for (int p0 = 0; p0 < count; p0 += blockParents)
            {
                int parents = Math.Min(blockParents, count - p0), rows = 2 * parents;
                var x = rows == _inputs[child].Dim(0) ? _inputs[child] : Slice3(_inputs[child], rows);
                int k = 0;
                for (int i = 0; i <= _last; i++)
                {
                    var layer = _model.Layers[i];
                    if (k < _recurrent.Length && _recurrentIndex[k] == i && _recurrent[k] is Lstm<T> lstm)
                    {
                        x = LstmStep(k, lstm, _states[depth][k], p0, parents, x, _states[child][k], last: i == _last);
                        k++;
                    }
                    else if (k < _recurrent.Length && _recurrentIndex[k] == i)
                    {
                        var state = InitialStates(rows)[k];
                        Duplicate(_states[depth][k], p0, parents, state);
                        var output = _recurrent[k].Forward(x, state, training: false);
                        // The layer reuses its state buffers on the next call: keep a copy for the subtree.
                        Store(output.FinalState, _states[child][k], rows);
                        x = output.Output; // [rows, 1, O], or [rows, O] from the last recurrent layer
                        k++;
                    }
                    else
                    {
                        x = layer.Forward(x, training: false); // [rows, 1, F]
                    }
                }
                int childFirst = 2 * (first + p0);
                if (child == _steps)
                {
                    // Leaves: x is the last recurrent layer's final output [rows, O]; the head maps it to [rows, bits+1].
                    for (int i = _last + 1; i < _model.Layers.Count; i++) x = _model.Layers[i].Forward(x, training: false);
                    x.Span.CopyTo(_result.Span.Slice(childFirst * _outPer, rows * _outPer));
                }
                else
                {
                    Descend(child, rows, childFirst);
                }
            }
        }

        /// <summary>
        /// One LSTM step for the children of <paramref name="parents"/> parents, with the recurrent
        /// product <c>W_hh·h</c> computed once per parent (both children share it; only the input
        /// term differs), which halves the step's matrix work. The cell is <see cref="Lstm{T}"/>'s own
        /// (<c>CellForwardRow</c>: <c>c = σ(f) ⊙ c_prev + σ(i) ⊙ tanh(g)</c>, <c>h = σ(o) ⊙ tanh(c)</c>,
        /// σ the layer's recurrent activation). Writes the children's
        /// states into <paramref name="children"/> and returns their outputs
        /// <c>[rows, 1, H]</c> (<c>[rows, H]</c> for the <paramref name="last"/> recurrent layer).
        /// </summary>
        private Tensor<T> LstmStep(int k, Lstm<T> lstm, RecurrentState<T> parentStates, int p0, int parents, Tensor<T> x, RecurrentState<T> children, bool last)
        {
            int h = lstm.HiddenSize, gh = 4 * h, inSize = lstm.InputSize, rows = 2 * parents;
            var shared = _shared[k].AsSpan(0, parents * gh); // [P, 4H] W_hh·h_parent
            Gemm.Multiply(lstm.Compute, false, true, parents, gh, h, parentStates.Hidden.Span.Slice(p0 * h, parents * h), h,
                lstm.WeightHh.Value.Span, h, shared, gh, accumulate: false, _packedWeightHhT[k]);
            var gates = _gates[k].AsSpan(0, rows * gh); // [2P, 4H] x·W_ih^T + b_ih + b_hh + W_hh·h_parent
            Gemm.Multiply(lstm.Compute, false, true, rows, gh, inSize, x.Span[..(rows * inSize)], inSize,
                lstm.WeightIh.Value.Span, inSize, gates, gh, accumulate: false);
            var output = Output(k, rows, h, last); // [rows, H] or [rows, 1, H]
            for (int r = 0; r < rows; r++)
            {
                var g = gates.Slice(r * gh, gh);
                if (lstm.HasBias)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(g, lstm.BiasIh!.Value.Span, g);
                    System.Numerics.Tensors.TensorPrimitives.Add(g, lstm.BiasHh!.Value.Span, g);
                }
                System.Numerics.Tensors.TensorPrimitives.Add(g, shared.Slice((r / 2) * gh, gh), g);
                var cellPrev = parentStates.Cell!.Span.Slice((p0 + (r / 2)) * h, h);
                var hidden = children.Hidden.Span.Slice(r * h, h);
                lstm.CellForwardRow(g, cellPrev, children.Cell!.Span.Slice(r * h, h), hidden, hidden);
                hidden.CopyTo(output.Span.Slice(r * h, h));
            }
            return output;
        }

        /// <summary>The children's initial states <c>[rows, S]</c> of every recurrent layer, kept per row count.</summary>
        /// <remarks>A method of its own: a lambda capturing <c>rows</c> inside <see cref="Descend"/> would allocate its closure on every block.</remarks>
        private RecurrentState<T>[] InitialStates(int rows)
        {
            if (!_initial.TryGetValue(rows, out var initial)) _initial[rows] = initial = [.. _recurrent.Select(r => NewState(r, rows))];
            return initial;
        }

        /// <summary>An LSTM step's output buffer for <paramref name="rows"/> children, <c>[rows, H]</c> for the <paramref name="last"/> recurrent layer, else <c>[rows, 1, H]</c>; kept per (layer, rows) and reused.</summary>
        private Tensor<T> Output(int layer, int rows, int h, bool last)
        {
            if (!_buffers.TryGetValue((layer, rows), out var buffer))
            {
                _buffers[(layer, rows)] = buffer = last ? new Tensor<T>(rows, h) : new Tensor<T>(rows, 1, h);
            }
            return buffer;
        }

        /// <summary>Children's initial states <c>[rows, S]</c>: rows 2r and 2r+1 both start from parent p0 + r.</summary>
        private static void Duplicate(RecurrentState<T> parents, int p0, int count, RecurrentState<T> children)
        {
            int width = parents.Hidden.Dim(1);
            var hidden = children.Hidden; // [rows, S]
            var cell = children.Cell;     // [rows, S] or null
            for (int r = 0; r < count; r++)
            {
                var h = parents.Hidden.Span.Slice((p0 + r) * width, width);
                h.CopyTo(hidden.Span.Slice(2 * r * width, width));
                h.CopyTo(hidden.Span.Slice(((2 * r) + 1) * width, width));
                if (cell is not null)
                {
                    var c = parents.Cell!.Span.Slice((p0 + r) * width, width);
                    c.CopyTo(cell.Span.Slice(2 * r * width, width));
                    c.CopyTo(cell.Span.Slice(((2 * r) + 1) * width, width));
                }
            }
        }

        private static void Store(RecurrentState<T> from, RecurrentState<T> to, int rows)
        {
            int width = to.Hidden.Dim(1);
            from.Hidden.Span[..(rows * width)].CopyTo(to.Hidden.Span);
            if (to.Cell is not null) from.Cell!.Span[..(rows * width)].CopyTo(to.Cell.Span);
        }

        private static Tensor<T> Slice3(Tensor<T> x, int rows) => new(x.Span[..rows].ToArray(), rows, 1, 1);
    }
}
