using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// One training step of a small Elman network on one sequence, fused: <c>SimpleRnn(I→H, sigmoid,
/// no bias, every step) → Dense(H→1, sigmoid, no bias)</c> with ½-sum-of-squares loss and plain
/// SGD, vectorised across the hidden units, with no matrix-product calls and nothing allocated per
/// step. This is Experiment A's network (iamtrask's numpy script) and any other small Elman adder
/// trained one sample at a time.
/// </summary>
/// <remarks>
/// <para>
/// Forward, per step t (x_t the input, h_(t-1) the previous state, zero at t = 0):
/// <c>a_t = W_ih x_t + W_hh h_(t-1)</c>, <c>h_t = σ(a_t)</c>, <c>y_t = σ(w · h_t)</c>.
/// Backward: <c>δy_t = (y_t - target_t) y_t (1 - y_t)</c>; from the last step down,
/// <c>δa_t = (w δy_t + W_hhᵀ δa_(t+1)) ⊙ h_t (1 - h_t)</c>; then <c>W_ih -= lr Σ_t δa_t x_tᵀ</c>,
/// <c>W_hh -= lr Σ_t δa_t h_(t-1)ᵀ</c>, <c>w -= lr Σ_t δy_t h_t</c>, each sum from the last step
/// to the first as numpy's script adds it.
/// </para>
/// <para>
/// It computes what <see cref="Sequential{T}.Forward"/>, <see cref="Losses.HalfSumOfSquares{T}"/>,
/// <see cref="Sequential{T}.Backward"/> and <see cref="Optimizers.Sgd{T}"/> compute for that network,
/// but not bit for bit: the products are fused multiply-add chains over vectors of hidden units,
/// and <c>exp</c> is the vector one of <see cref="Vector512"/> / <see cref="Vector256"/> (sigmoids
/// within two ulps of <see cref="Math.Exp"/>'s), so the weights drift from the layer path's in the
/// last bits (at most 6e-13 relative after Experiment A's 50,000 steps; docs/performance.md) while
/// numpy's printed digits still match. The path is chosen at construction:
/// <see cref="Vector512{T}"/>, <see cref="Vector256{T}"/>, or one value at a time (the portable
/// path, which uses <see cref="Math.Exp"/>).
/// </para>
/// <para>
/// The step keeps its own copies of the weights, padded to whole vectors: <c>W_hh</c> twice (row by
/// row for the backward pass, column by column for the forward one, updated by the same operations
/// so that the two stay equal bit for bit). They are read from the model at construction and
/// written back by <see cref="WriteWeights"/>.
/// </para>
/// </remarks>
public sealed class FusedElman<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Largest hidden size the fused path takes (its two copies of <c>W_hh</c> stay in cache).</summary>
    public const int MaxHidden = 256;

    private readonly SimpleRnn<T> _rnn;
    private readonly Dense<T> _dense;
    private readonly GemmPath _path;
    private readonly T _learningRate;
    private readonly int _hidden, _inputs, _width; // H, I, and H padded to whole vectors
    private readonly T[] _weightIhT;   // [I, Hw] column i of W_ih as a row
    private readonly T[] _weightHhT;   // [H, Hw] column k of W_hh as a row (forward)
    private readonly T[] _weightHh;    // [H, Hw] W_hh row by row (backward)
    private readonly T[] _weight;      // [Hw] w of the output layer
    private readonly T[] _states;      // [T+1, Hw] h_(-1) = 0, then h_0 .. h_(T-1)
    private readonly T[] _dPre;        // [T, Hw] δa_t
    private readonly T[] _dNext;       // [Hw] W_hhᵀ δa_(t+1)
    private readonly T[] _outputs;     // [Tw] w · h_t, then y_t (T padded to whole vectors)
    private readonly T[] _dOut;        // [T] δy_t

    /// <summary>Binds the fused step to <paramref name="model"/>'s weights, on the widest vectors this machine runs with fused multiply-adds (<see cref="GemmKernel.Automatic"/>); see <see cref="Supports"/>.</summary>
    /// <param name="model">A <c>SimpleRnn → Dense</c> model that <see cref="Supports"/> accepts.</param>
    /// <param name="steps">Time steps per sequence, T (8 in Experiment A).</param>
    /// <param name="learningRate">The SGD learning rate (0.1 in Experiment A).</param>
    public FusedElman(Sequential<T> model, int steps, double learningRate)
        : this(model, steps, learningRate, GemmKernel.Automatic)
    {
    }

    /// <summary>The same, on the chosen <paramref name="path"/> (tests run every path on every machine).</summary>
    internal FusedElman(Sequential<T> model, int steps, double learningRate, GemmPath path)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!Supports(model, steps)) throw new ArgumentException("The model is not a small bias-free sigmoid SimpleRnn → Dense(1) network (see FusedElman.Supports).", nameof(model));
        _rnn = (SimpleRnn<T>)model.Layers[0];
        _dense = (Dense<T>)model.Layers[1];
        _path = path;
        Steps = steps;
        _learningRate = T.CreateChecked(learningRate);
        _hidden = _rnn.HiddenSize;
        _inputs = _rnn.InputSize;
        int lanes = path switch { GemmPath.Vector512 => Vector512<T>.Count, GemmPath.Avx2 => Vector256<T>.Count, _ => 1 };
        _width = RoundUp(_hidden, lanes);
        _weightIhT = new T[_inputs * _width];
        _weightHhT = new T[_hidden * _width];
        _weightHh = new T[_hidden * _width];
        _weight = new T[_width];
        _states = new T[(steps + 1) * _width];
        _dPre = new T[steps * _width];
        _dNext = new T[_width];
        _outputs = new T[RoundUp(steps, lanes)];
        _dOut = new T[steps];
        ReadWeights();
    }

    /// <summary>Time steps per sequence, T.</summary>
    public int Steps { get; }

    /// <summary>The vector path: <see cref="Vector512{T}"/>, <see cref="Vector256{T}"/> (<see cref="GemmPath.Avx2"/>) or one value at a time (<see cref="GemmPath.Portable"/>).</summary>
    internal GemmPath Path => _path;

    /// <summary>
    /// True for a model this path trains: a bias-free sigmoid <see cref="SimpleRnn{T}"/> (forward in
    /// time, every step's output, at most <see cref="MaxHidden"/> units) then a bias-free sigmoid
    /// <see cref="Dense{T}"/> to one output.
    /// </summary>
    /// <param name="model">The model to check.</param>
    /// <param name="steps">Time steps per sequence, T.</param>
    public static bool Supports(Sequential<T> model, int steps)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Layers.Count != 2 || model.Layers[0] is not SimpleRnn<T> rnn || model.Layers[1] is not Dense<T> dense) return false;
        return !rnn.HasBias && rnn.ReturnSequences && !rnn.Reverse && rnn.ActivationFunction == Activation.Sigmoid && rnn.HiddenSize <= MaxHidden
            && dense.Bias is null && dense.OutputSize == 1 && dense.InputSize == rnn.HiddenSize && dense.ActivationFunction == Activation.Sigmoid
            && steps >= 1;
    }

    /// <summary>
    /// Forward, loss, backward and the SGD update for one sequence, on the step's own copies of the
    /// weights (see <see cref="WriteWeights"/>). Returns the loss <c>½ Σ (y - target)²</c>.
    /// </summary>
    /// <param name="input"><c>[T, I]</c> the sequence's inputs.</param>
    /// <param name="target"><c>[T]</c> the wanted outputs.</param>
    /// <param name="output"><c>[T]</c> receives the outputs y of the forward pass (before the update).</param>
    public T TrainStep(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> output)
    {
        if (input.Length != Steps * _inputs) throw new ArgumentException($"input must hold {Steps}×{_inputs} values.", nameof(input));
        if (target.Length != Steps || output.Length != Steps) throw new ArgumentException($"target and output must hold {Steps} values.", nameof(target));
        return _path switch
        {
            GemmPath.Vector512 => Step<Lanes512<T>, Vector512<T>>(input, target, output),
            GemmPath.Avx2 => Step<Lanes256<T>, Vector256<T>>(input, target, output),
            _ => Step<Lanes1<T>, T>(input, target, output),
        };
    }

    /// <summary>Copies the trained weights into the model's <c>weight_ih</c>, <c>weight_hh</c> and output <c>weight</c>.</summary>
    public void WriteWeights()
    {
        int h = _hidden, width = _width;
        var weightIh = _rnn.WeightIh.Value.Span; // [H, I]
        var weightHh = _rnn.WeightHh.Value.Span; // [H, H]
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < _inputs; i++) weightIh[(j * _inputs) + i] = _weightIhT[(i * width) + j];
            _weightHh.AsSpan(j * width, h).CopyTo(weightHh.Slice(j * h, h));
        }
        _weight.AsSpan(0, h).CopyTo(_dense.Weight.Value.Span);
    }

    /// <summary>Fills the padded copies from the model (padding zero, which keeps every padded lane of every state and gradient zero).</summary>
    private void ReadWeights()
    {
        int h = _hidden, width = _width;
        ReadOnlySpan<T> weightIh = _rnn.WeightIh.Value.Span; // [H, I]
        ReadOnlySpan<T> weightHh = _rnn.WeightHh.Value.Span; // [H, H]
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < _inputs; i++) _weightIhT[(i * width) + j] = weightIh[(j * _inputs) + i];
            for (int k = 0; k < h; k++)
            {
                _weightHh[(j * width) + k] = weightHh[(j * h) + k];
                _weightHhT[(k * width) + j] = weightHh[(j * h) + k];
            }
        }
        _dense.Weight.Value.Span.CopyTo(_weight);
    }

    private T Step<TLanes, TVector>(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> output) where TLanes : struct, ILanes<TVector, T>
    {
        Forward<TLanes, TVector>(input);
        T loss = OutputGradient(target, output);
        BackwardThroughTime<TLanes, TVector>();
        UpdateRecurrent<TLanes, TVector>(input);
        UpdateOutput<TLanes, TVector>();
        return loss;
    }

    /// <summary>h_t = σ(W_ih x_t + W_hh h_(t-1)), z_t = w · h_t for every t; then y = σ(z), all steps at once.</summary>
    private void Forward<TLanes, TVector>(ReadOnlySpan<T> input) where TLanes : struct, ILanes<TVector, T>
    {
        int h = _hidden, inSize = _inputs, width = _width, lanes = TLanes.Count;
        ref T x = ref MemoryMarshal.GetReference(input);     // [T, I]
        ref T weightIhT = ref Start(_weightIhT);             // [I, Hw]
        ref T weightHhT = ref Start(_weightHhT);             // [H, Hw]
        ref T weight = ref Start(_weight);                   // [Hw]
        ref T states = ref Start(_states);                   // [T+1, Hw]
        ref T outputs = ref Start(_outputs);                 // [Tw]
        for (int t = 0; t < Steps; t++)
        {
            ref T hPrev = ref Unsafe.Add(ref states, t * width);
            ref T hNow = ref Unsafe.Add(ref states, (t + 1) * width);
            ref T xt = ref Unsafe.Add(ref x, t * inSize);
            // a = W_ih x_t + W_hh h_(t-1) = Σ_i x_t[i] W_ihᵀ[i, :] + Σ_k h_(t-1)[k] W_hhᵀ[k, :], the two sums apart as numpy's script adds them; h_t = σ(a)
            CombineRows<TLanes, TVector>(ref xt, inSize, ref weightIhT, width, ref hNow, add: false);
            CombineRows<TLanes, TVector>(ref hPrev, h, ref weightHhT, width, ref hNow, add: true);
            for (int v = 0; v < width; v += lanes) TLanes.Store(TLanes.Sigmoid(TLanes.Load(ref hNow, v)), ref hNow, v);
            for (int j = h; j < width; j++) Unsafe.Add(ref hNow, j) = T.Zero; // σ(0) = ½ in the padding: back to zero
            TVector z = TLanes.Multiply(TLanes.Load(ref hNow, 0), TLanes.Load(ref weight, 0));
            for (int v = lanes; v < width; v += lanes) z = TLanes.MultiplyAdd(TLanes.Load(ref hNow, v), TLanes.Load(ref weight, v), z);
            Unsafe.Add(ref outputs, t) = TLanes.Sum(z);
        }
        for (int v = 0; v < _outputs.Length; v += lanes) TLanes.Store(TLanes.Sigmoid(TLanes.Load(ref outputs, v)), ref outputs, v);
    }

    /// <summary>δy_t = (y_t - target_t) y_t (1 - y_t); copies y out; returns ½ Σ (y - target)².</summary>
    private T OutputGradient(ReadOnlySpan<T> target, Span<T> output)
    {
        T sum = T.Zero;
        for (int t = 0; t < Steps; t++)
        {
            T y = _outputs[t];
            T e = y - target[t];
            sum += e * e;
            _dOut[t] = e * (y * (T.One - y));
            output[t] = y;
        }
        return sum / T.CreateChecked(2.0);
    }

    /// <summary>δa_t = (w δy_t + W_hhᵀ δa_(t+1)) ⊙ h_t (1 - h_t), from the last step to the first.</summary>
    private void BackwardThroughTime<TLanes, TVector>() where TLanes : struct, ILanes<TVector, T>
    {
        int h = _hidden, width = _width, lanes = TLanes.Count;
        ref T weightHh = ref Start(_weightHh); // [H, Hw]
        ref T weight = ref Start(_weight);     // [Hw]
        ref T states = ref Start(_states);     // [T+1, Hw]
        ref T dPre = ref Start(_dPre);         // [T, Hw]
        ref T dNext = ref Start(_dNext);       // [Hw]
        Array.Clear(_dNext);
        for (int t = Steps - 1; t >= 0; t--)
        {
            ref T hNow = ref Unsafe.Add(ref states, (t + 1) * width);
            ref T dA = ref Unsafe.Add(ref dPre, t * width);
            var dy = TLanes.Broadcast(_dOut[t]);
            for (int v = 0; v < width; v += lanes)
            {
                TVector dHidden = TLanes.MultiplyAdd(dy, TLanes.Load(ref weight, v), TLanes.Load(ref dNext, v)); // ∂L/∂h_t
                TLanes.Store(TLanes.Multiply(dHidden, TLanes.SigmoidSlope(TLanes.Load(ref hNow, v))), ref dA, v); // ∂h/∂a = h (1 - h)
            }
            if (t == 0) break;
            CombineRows<TLanes, TVector>(ref dA, h, ref weightHh, width, ref dNext, add: false); // dNext = W_hhᵀ δa_t = Σ_p δa_t[p] W_hh[p, :]
        }
    }

    /// <summary>
    /// <c>destination (+)= Σ_k scalars[k] rows[k, :]</c> over <c>width</c> values (rows <c>[count, width]</c>), the sum
    /// taken from zero (then added to <paramref name="destination"/> where <paramref name="add"/>). Two
    /// vectors of output at a time, each summed in two chains (even and odd k), so that four
    /// multiply-adds are in flight rather than one long dependent chain.
    /// </summary>
    private static void CombineRows<TLanes, TVector>(ref T scalars, int count, ref T rows, int width, ref T destination, bool add) where TLanes : struct, ILanes<TVector, T>
    {
        int lanes = TLanes.Count, v = 0;
        for (; v + (2 * lanes) <= width; v += 2 * lanes)
        {
            TVector even0 = TLanes.Zero, even1 = TLanes.Zero, odd0 = TLanes.Zero, odd1 = TLanes.Zero;
            int k = 0;
            for (; k + 1 < count; k += 2)
            {
                TVector se = TLanes.Broadcast(Unsafe.Add(ref scalars, k)), so = TLanes.Broadcast(Unsafe.Add(ref scalars, k + 1));
                ref T row = ref Unsafe.Add(ref rows, (k * width) + v);
                even0 = TLanes.MultiplyAdd(se, TLanes.Load(ref row, 0), even0);
                even1 = TLanes.MultiplyAdd(se, TLanes.Load(ref row, lanes), even1);
                odd0 = TLanes.MultiplyAdd(so, TLanes.Load(ref row, width), odd0);
                odd1 = TLanes.MultiplyAdd(so, TLanes.Load(ref row, width + lanes), odd1);
            }
            if (k < count)
            {
                TVector se = TLanes.Broadcast(Unsafe.Add(ref scalars, k));
                even0 = TLanes.MultiplyAdd(se, TLanes.Load(ref rows, (k * width) + v), even0);
                even1 = TLanes.MultiplyAdd(se, TLanes.Load(ref rows, (k * width) + v + lanes), even1);
            }
            Finish<TLanes, TVector>(TLanes.Add(even0, odd0), ref destination, v, add);
            Finish<TLanes, TVector>(TLanes.Add(even1, odd1), ref destination, v + lanes, add);
        }
        for (; v < width; v += lanes)
        {
            TVector even = TLanes.Zero, odd = TLanes.Zero;
            int k = 0;
            for (; k + 1 < count; k += 2)
            {
                even = TLanes.MultiplyAdd(TLanes.Broadcast(Unsafe.Add(ref scalars, k)), TLanes.Load(ref rows, (k * width) + v), even);
                odd = TLanes.MultiplyAdd(TLanes.Broadcast(Unsafe.Add(ref scalars, k + 1)), TLanes.Load(ref rows, ((k + 1) * width) + v), odd);
            }
            if (k < count) even = TLanes.MultiplyAdd(TLanes.Broadcast(Unsafe.Add(ref scalars, k)), TLanes.Load(ref rows, (k * width) + v), even);
            Finish<TLanes, TVector>(TLanes.Add(even, odd), ref destination, v, add);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TLanes, TVector>(TVector sum, ref T destination, int v, bool add) where TLanes : struct, ILanes<TVector, T>
    {
        TLanes.Store(add ? TLanes.Add(TLanes.Load(ref destination, v), sum) : sum, ref destination, v);
    }

    /// <summary>
    /// W_hh -= lr Σ_t δa_t h_(t-1)ᵀ in both copies (row j of one and column j of the other get the
    /// same products in the same order, so they stay equal), and W_ih -= lr Σ_t δa_t x_tᵀ.
    /// </summary>
    private void UpdateRecurrent<TLanes, TVector>(ReadOnlySpan<T> input) where TLanes : struct, ILanes<TVector, T>
    {
        int h = _hidden, inSize = _inputs, width = _width, last = Steps - 1;
        ref T dPre = ref Start(_dPre);     // [T, Hw]
        ref T states = ref Start(_states); // [T+1, Hw]
        ref T x = ref MemoryMarshal.GetReference(input); // [T, I]
        for (int j = 0; j < h; j++)
        {
            // Row j of W_hh: Σ_t δa_t[j] h_(t-1); column j (row j of W_hhᵀ): Σ_t h_(t-1)[j] δa_t.
            Descend<TLanes, TVector>(ref Row(_weightHh, j), ref Unsafe.Add(ref dPre, j), width, ref states, width, last);
            Descend<TLanes, TVector>(ref Row(_weightHhT, j), ref Unsafe.Add(ref states, j), width, ref dPre, width, last);
        }
        for (int i = 0; i < inSize; i++)
        {
            Descend<TLanes, TVector>(ref Row(_weightIhT, i), ref Unsafe.Add(ref x, i), inSize, ref dPre, width, last); // Σ_t x_t[i] δa_t
        }
    }

    /// <summary>w -= lr Σ_t δy_t h_t.</summary>
    private void UpdateOutput<TLanes, TVector>() where TLanes : struct, ILanes<TVector, T>
    {
        Descend<TLanes, TVector>(ref Start(_weight), ref Start(_dOut), 1, ref Unsafe.Add(ref Start(_states), _width), _width, Steps - 1);
    }

    /// <summary>
    /// <c>row -= lr Σ_t scale[t] · vectors[t]</c> over <see cref="_width"/> values, the sum from t =
    /// <paramref name="last"/> down to 0 (numpy's order), each term one fused multiply-add.
    /// </summary>
    private void Descend<TLanes, TVector>(ref T row, ref T scale, int scaleStride, ref T vectors, int vectorStride, int last) where TLanes : struct, ILanes<TVector, T>
    {
        var rate = TLanes.Broadcast(-_learningRate);
        for (int v = 0; v < _width; v += TLanes.Count)
        {
            TVector gradient = TLanes.Multiply(TLanes.Broadcast(Unsafe.Add(ref scale, last * scaleStride)), TLanes.Load(ref vectors, (last * vectorStride) + v));
            for (int t = last - 1; t >= 0; t--)
            {
                gradient = TLanes.MultiplyAdd(TLanes.Broadcast(Unsafe.Add(ref scale, t * scaleStride)), TLanes.Load(ref vectors, (t * vectorStride) + v), gradient);
            }
            TLanes.Store(TLanes.MultiplyAdd(rate, gradient, TLanes.Load(ref row, v)), ref row, v);
        }
    }

    private ref T Row(T[] matrix, int row) => ref Unsafe.Add(ref Start(matrix), row * _width);

    private static ref T Start(T[] array) => ref MemoryMarshal.GetArrayDataReference(array);

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
