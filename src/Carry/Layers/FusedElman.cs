using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// One training step of a small Elman network on one sequence, fused: <c>SimpleRnn(I→H, no bias,
/// every step) → Dense(H→1, no bias)</c> with ½-sum-of-squares loss and plain SGD, the whole
/// sequence's states and gradients in stack memory, no matrix-product calls, the weights updated
/// in place. This is Experiment A's network (iamtrask's numpy script) and any other small Elman
/// adder trained one sample at a time.
/// </summary>
/// <remarks>
/// <para>
/// It computes what <see cref="Sequential{T}.Forward"/>, <see cref="Losses.HalfSumOfSquares{T}"/>,
/// <see cref="Sequential{T}.Backward"/> and <see cref="Optimizers.Optimizer{T}.Step"/> compute for that network,
/// bit for bit: every sum is taken in the same order as the layers' products take it for products
/// under <see cref="GemmKernel.DirectThreshold"/> multiply-adds (the recurrent and output products
/// through the same <c>Dot</c>, the gradients as running sums over time that skip zero factors),
/// which is why <see cref="Supports"/> admits only networks whose every product is that small.
/// Tests hold it to the layer path bit for bit.
/// </para>
/// <para>
/// Forward, per step t (x_t the input, h_(t-1) the previous state, zero at t = 0):
/// <c>a_t = W_ih x_t + W_hh h_(t-1)</c>, <c>h_t = f(a_t)</c>, <c>y_t = g(w · h_t)</c>.
/// Backward: <c>δy_t = (y_t - target_t) g'(y_t)</c>; from the last step down,
/// <c>δa_t = (w δy_t + W_hhᵀ δa_(t+1)) ⊙ f'(h_t)</c>; then <c>ΔW_ih = -lr Σ_t δa_t x_tᵀ</c>,
/// <c>ΔW_hh = -lr Σ_t δa_t h_(t-1)ᵀ</c>, <c>Δw = -lr Σ_t δy_t h_t</c>.
/// </para>
/// </remarks>
public sealed class FusedElman<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly SimpleRnn<T> _rnn;
    private readonly Dense<T> _dense;
    private readonly T _learningRate;

    /// <summary>Binds the fused step to <paramref name="model"/>'s weights; see <see cref="Supports"/>.</summary>
    /// <param name="model">A <c>SimpleRnn → Dense</c> model that <see cref="Supports"/> accepts.</param>
    /// <param name="steps">Time steps per sequence, T (8 in Experiment A).</param>
    /// <param name="learningRate">The SGD learning rate (0.1 in Experiment A).</param>
    public FusedElman(Sequential<T> model, int steps, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!Supports(model, steps)) throw new ArgumentException("The model is not a small bias-free SimpleRnn → Dense(1) network (see FusedElman.Supports).", nameof(model));
        _rnn = (SimpleRnn<T>)model.Layers[0];
        _dense = (Dense<T>)model.Layers[1];
        Steps = steps;
        _learningRate = T.CreateChecked(learningRate);
    }

    /// <summary>Time steps per sequence, T.</summary>
    public int Steps { get; }

    /// <summary>
    /// True for a model this path trains exactly as the layers do: a bias-free
    /// <see cref="SimpleRnn{T}"/> (forward in time, every step's output, at most 8 input features)
    /// then a bias-free <see cref="Dense{T}"/> to one output, where each product of a step or of the
    /// whole sequence stays under <see cref="GemmKernel.DirectThreshold"/> multiply-adds
    /// (e.g. H = 16 and T = 8; H up to 22 at T = 8).
    /// </summary>
    /// <param name="model">The model to check.</param>
    /// <param name="steps">Time steps per sequence, T.</param>
    public static bool Supports(Sequential<T> model, int steps)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Layers.Count != 2 || model.Layers[0] is not SimpleRnn<T> rnn || model.Layers[1] is not Dense<T> dense) return false;
        int h = rnn.HiddenSize, i = rnn.InputSize;
        long limit = GemmKernel.DirectThreshold;
        return !rnn.HasBias && rnn.ReturnSequences && !rnn.Reverse && i <= 8
            && dense.Bias is null && dense.OutputSize == 1 && dense.InputSize == h
            && steps >= 1 && (long)h * h * steps < limit && (long)h * i * steps < limit && (long)h * steps < limit;
    }

    /// <summary>
    /// Forward, loss, backward and the SGD update for one sequence. Returns the loss
    /// <c>½ Σ (y - target)²</c>.
    /// </summary>
    /// <param name="input"><c>[T, I]</c> the sequence's inputs.</param>
    /// <param name="target"><c>[T]</c> the wanted outputs.</param>
    /// <param name="output"><c>[T]</c> receives the outputs y of the forward pass (before the update).</param>
    [SkipLocalsInit]
    public T TrainStep(ReadOnlySpan<T> input, ReadOnlySpan<T> target, Span<T> output)
    {
        int steps = Steps, h = _rnn.HiddenSize, inSize = _rnn.InputSize;
        if (input.Length != steps * inSize) throw new ArgumentException($"input must hold {steps}×{inSize} values.", nameof(input));
        if (target.Length != steps || output.Length != steps) throw new ArgumentException($"target and output must hold {steps} values.", nameof(target));
        Span<T> hidden = stackalloc T[(steps + 1) * h]; // [T+1, H] h_(-1) = 0, then h_0 .. h_(T-1)
        Span<T> dPre = stackalloc T[steps * h];         // [T, H] δa_t
        Span<T> dOut = stackalloc T[steps];             // [T] δy_t
        Span<T> dNext = stackalloc T[h];                // [H] W_hhᵀ δa_(t+1)
        Span<T> dHidden = stackalloc T[h];              // [H] gradient reaching h_t
        Forward(input, hidden, output);
        T loss = OutputGradient(output, target, dOut);
        BackwardThroughTime(hidden, dOut, dPre, dNext, dHidden);
        UpdateWeights(input, hidden, dPre, dOut);
        return loss;
    }

    /// <summary>h_t = f(W_ih x_t + W_hh h_(t-1)) and y_t = g(w · h_t), with <paramref name="hidden"/> row 0 the zero state.</summary>
    private void Forward(ReadOnlySpan<T> input, Span<T> hidden, Span<T> output)
    {
        int h = _rnn.HiddenSize, inSize = _rnn.InputSize;
        ReadOnlySpan<T> weightIh = _rnn.WeightIh.Value.Span; // [H, I]
        ReadOnlySpan<T> weightHh = _rnn.WeightHh.Value.Span; // [H, H]
        ReadOnlySpan<T> weight = _dense.Weight.Value.Span;   // [1, H]
        hidden[..h].Clear();
        for (int t = 0; t < Steps; t++)
        {
            var hPrev = hidden.Slice(t * h, h);
            var hNow = hidden.Slice((t + 1) * h, h);
            var x = input.Slice(t * inSize, inSize);
            for (int j = 0; j < h; j++)
            {
                // a_j = (w_j0 x_0 + w_j1 x_1 + ...) + W_hh[j, :] · h_(t-1), as the stepwise input projection then the product add it.
                T a = weightIh[j * inSize] * x[0];
                for (int i = 1; i < inSize; i++) a = (weightIh[(j * inSize) + i] * x[i]) + a;
                hNow[j] = a + Gemm.Dot(weightHh.Slice(j * h, h), hPrev);
            }
            Activations.Apply(_rnn.ActivationFunction, hNow);
            output[t] = Gemm.Dot(hNow, weight);
        }
        Activations.Apply(_dense.ActivationFunction, output);
    }

    /// <summary>δy_t = (y_t - target_t) g'(y_t); returns ½ Σ (y - target)².</summary>
    private T OutputGradient(ReadOnlySpan<T> output, ReadOnlySpan<T> target, Span<T> dOut)
    {
        T sum = T.Zero;
        for (int t = 0; t < Steps; t++)
        {
            T e = output[t] - target[t];
            sum += e * e;
            dOut[t] = e;
        }
        Activations.MultiplyDerivative(_dense.ActivationFunction, output, dOut);
        return sum / T.CreateChecked(2.0);
    }

    /// <summary>δa_t = (w δy_t + W_hhᵀ δa_(t+1)) ⊙ f'(h_t), from the last step to the first.</summary>
    private void BackwardThroughTime(ReadOnlySpan<T> hidden, ReadOnlySpan<T> dOut, Span<T> dPre, Span<T> dNext, Span<T> dHidden)
    {
        int h = _rnn.HiddenSize;
        ReadOnlySpan<T> weightHh = _rnn.WeightHh.Value.Span; // [H, H]
        ReadOnlySpan<T> weight = _dense.Weight.Value.Span;   // [1, H]
        dNext.Clear();
        for (int t = Steps - 1; t >= 0; t--)
        {
            // The output layer's input gradient (0 + δy w, or 0 where δy is 0), plus what flows back from t + 1.
            for (int j = 0; j < h; j++) dHidden[j] = (dOut[t] == T.Zero ? T.Zero : T.Zero + (dOut[t] * weight[j])) + dNext[j];
            var dA = dPre.Slice(t * h, h);
            dHidden.CopyTo(dA);
            Activations.MultiplyDerivative(_rnn.ActivationFunction, hidden.Slice((t + 1) * h, h), dA);
            // dNext = W_hhᵀ δa_t = Σ_p δa_t[p] W_hh[p, :], summed over p in order, zero terms skipped.
            dNext.Clear();
            for (int p = 0; p < h; p++)
            {
                if (dA[p] != T.Zero) AddScaled(dA[p], weightHh.Slice(p * h, h), dNext);
            }
        }
    }

    /// <summary>W -= lr ΔW for the three weights, each gradient a running sum over t from zero, zero factors skipped.</summary>
    private void UpdateWeights(ReadOnlySpan<T> input, ReadOnlySpan<T> hidden, ReadOnlySpan<T> dPre, ReadOnlySpan<T> dOut)
    {
        int h = _rnn.HiddenSize, inSize = _rnn.InputSize;
        Span<T> buffer = stackalloc T[Math.Max(h, inSize)];
        var gradient = buffer[..h];
        var gradientIh = buffer[..inSize];
        // w: Σ_t δy_t h_t   [1, H]
        gradient.Clear();
        for (int t = 0; t < Steps; t++)
        {
            if (dOut[t] != T.Zero) AddScaled(dOut[t], hidden.Slice((t + 1) * h, h), gradient);
        }
        Descend(_dense.Weight.Value.Span, gradient);
        var weightIh = _rnn.WeightIh.Value.Span; // [H, I]
        var weightHh = _rnn.WeightHh.Value.Span; // [H, H]
        for (int j = 0; j < h; j++)
        {
            // W_hh[j, :]: Σ_t δa_t[j] h_(t-1)   and   W_ih[j, :]: Σ_t δa_t[j] x_t
            gradient.Clear();
            for (int t = 0; t < Steps; t++)
            {
                T d = dPre[(t * h) + j];
                if (d != T.Zero) AddScaled(d, hidden.Slice(t * h, h), gradient);
            }
            Descend(weightHh.Slice(j * h, h), gradient);
            gradientIh.Clear();
            for (int t = 0; t < Steps; t++)
            {
                T d = dPre[(t * h) + j];
                if (d != T.Zero) AddScaled(d, input.Slice(t * inSize, inSize), gradientIh);
            }
            Descend(weightIh.Slice(j * inSize, inSize), gradientIh);
        }
    }

    /// <summary>value -= lr · gradient, as <see cref="Optimizers.Sgd{T}"/> without momentum.</summary>
    private void Descend(Span<T> value, ReadOnlySpan<T> gradient)
    {
        for (int i = 0; i < value.Length; i++) value[i] -= _learningRate * gradient[i];
    }

    /// <summary>y += alpha · x, each element rounded as a product then a sum (no fused multiply-add).</summary>
    private static void AddScaled(T alpha, ReadOnlySpan<T> x, Span<T> y)
    {
        ref T x0 = ref MemoryMarshal.GetReference(x);
        ref T y0 = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<T>(alpha);
            for (; i <= x.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                (Vector.LoadUnsafe(ref y0, (nuint)i) + (va * Vector.LoadUnsafe(ref x0, (nuint)i))).StoreUnsafe(ref y0, (nuint)i);
            }
        }
        for (; i < x.Length; i++) Unsafe.Add(ref y0, i) += alpha * Unsafe.Add(ref x0, i);
    }
}
