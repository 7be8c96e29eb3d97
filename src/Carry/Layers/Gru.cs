using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// Gated recurrent unit (PyTorch's <c>nn.GRU</c>), gates in PyTorch's order reset, update, new:
/// <code>
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)
/// z = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h_t = (1 - z) ⊙ n + z ⊙ h_(t-1)
/// </code>
/// With <see cref="ResetAfter"/> false (Keras's <c>reset_after=False</c>) the reset gate acts before
/// the recurrent product: <c>n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)</c>. σ is the logistic
/// sigmoid unless <see cref="RecurrentActivation"/> names another.
/// </summary>
public sealed class Gru<T> : GatedRecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="inputSize">Features per step, I.</param>
    /// <param name="hiddenSize">Hidden units, H.</param>
    /// <param name="bias">Include biases (default true).</param>
    /// <param name="returnSequences">Every step's output (true) or the last (false, the default).</param>
    /// <param name="reverse">Walk time backwards.</param>
    /// <param name="recurrentActivation">σ of the reset and update gates (default <see cref="Activation.Sigmoid"/>).</param>
    /// <param name="resetAfter">Reset gate after the recurrent product (default true, PyTorch's GRU) or before it (Keras's <c>reset_after=False</c>).</param>
    public Gru(int inputSize, int hiddenSize, bool bias = true, bool returnSequences = false, bool reverse = false,
        Activation recurrentActivation = Activation.Sigmoid, bool resetAfter = true)
        : base(inputSize, hiddenSize, 3, bias, returnSequences, reverse)
    {
        RecurrentActivation = recurrentActivation;
        ResetAfter = resetAfter;
        if (!resetAfter)
        {
            _resetHidden = new T[hiddenSize];
            _dResetHidden = new T[hiddenSize];
        }
    }

    private readonly T[] _resetHidden = [];  // [H] r ⊙ h_(t-1) of one row (reset before)
    private readonly T[] _dResetHidden = []; // [H] W_hnᵀ · dn of one row (reset before)

    /// <summary>σ of the reset and update gates (<see cref="Activation.Sigmoid"/> as in PyTorch; Keras's <c>recurrent_activation</c>).</summary>
    public Activation RecurrentActivation { get; }

    /// <summary>True (PyTorch): <c>r ⊙ (W_hn h + b_hn)</c>; false (Keras's <c>reset_after=False</c>): <c>W_hn (r ⊙ h) + b_hn</c>.</summary>
    public bool ResetAfter { get; }

    /// <inheritdoc />
    protected override bool SeparateHiddenProjection => true;

    /// <inheritdoc />
    public override LayerSpec Spec => new()
    {
        Kind = LayerKinds.Gru, InputSize = InputSize, Units = HiddenSize, Bias = HasBias, ReturnSequences = ReturnSequences,
        RecurrentActivation = LayerSpec.RecurrentActivationName(RecurrentActivation), ResetAfter = ResetAfter,
    };

    /// <inheritdoc />
    protected override void CellForward(int batch, int time, int t)
    {
        int h = HiddenSize, gh = 3 * h;
        for (int b = 0; b < batch; b++)
        {
            var xi = Gates.Slice(At(b, t, time, gh), gh);      // W_ih x + b_ih → activated r, z, n
            var hh = HiddenProj.Slice(At(b, t, time, gh), gh); // W_hh h + b_hh (kept: backward needs the n part)
            int o = At(b, t, time, h);
            var hPrev = HiddenPrev.Slice(o, h);
            var hOut = Hidden.Slice(o, h);
            for (int j = 0; j < h; j++)
            {
                xi[j] = Activations.Value(RecurrentActivation, xi[j] + hh[j]);           // r
                xi[h + j] = Activations.Value(RecurrentActivation, xi[h + j] + hh[h + j]); // z
            }
            if (!ResetAfter) ResetBeforeProjection(xi[..h], hPrev, hh.Slice(2 * h, h));
            for (int j = 0; j < h; j++)
            {
                T r = xi[j], z = xi[h + j];
                T n = T.Tanh(xi[(2 * h) + j] + (ResetAfter ? r * hh[(2 * h) + j] : hh[(2 * h) + j]));
                xi[(2 * h) + j] = n;
                hOut[j] = ((T.One - z) * n) + (z * hPrev[j]);
            }
        }
    }

    /// <summary>
    /// Reset before the product: overwrites the new gate's recurrent part with
    /// <c>W_hn (r ⊙ h) + b_hn</c>   <c>[H, H]·[H]</c> (the base computed <c>W_hn h + b_hn</c>).
    /// </summary>
    private void ResetBeforeProjection(ReadOnlySpan<T> r, ReadOnlySpan<T> hPrev, Span<T> hhNew)
    {
        int h = HiddenSize;
        System.Numerics.Tensors.TensorPrimitives.Multiply(r, hPrev, _resetHidden);
        ReadOnlySpan<T> weightHn = WeightHh.Value.Span.Slice(2 * h * h, h * h);
        for (int j = 0; j < h; j++)
        {
            T bias = BiasHh is null ? T.Zero : BiasHh.Value.Span[(2 * h) + j];
            hhNew[j] = System.Numerics.Tensors.TensorPrimitives.Dot(weightHn.Slice(j * h, h), _resetHidden) + bias;
        }
    }

    /// <inheritdoc />
    protected override void CellBackward(int batch, int time, int t)
    {
        int h = HiddenSize, gh = 3 * h;
        for (int b = 0; b < batch; b++)
        {
            var g = Gates.Slice(At(b, t, time, gh), gh);
            var hh = HiddenProj.Slice(At(b, t, time, gh), gh);
            var dxi = DGates.Slice(At(b, t, time, gh), gh);
            var dhh = DHiddenProj.Slice(At(b, t, time, gh), gh);
            int o = At(b, t, time, h);
            var hPrev = HiddenPrev.Slice(o, h);
            var dh = DHidden.Slice(b * h, h);
            var dhPrev = DHiddenNext.Slice(b * h, h);
            for (int j = 0; j < h; j++)
            {
                T r = g[j], z = g[h + j], n = g[(2 * h) + j];
                T dn = dh[j] * (T.One - z);
                T dz = dh[j] * (hPrev[j] - n);
                T dnPre = dn * (T.One - (n * n));
                T dzPre = dz * Activations.Derivative(RecurrentActivation, z);
                dxi[h + j] = dzPre;
                dxi[(2 * h) + j] = dnPre;
                dhh[h + j] = dzPre;
                dhPrev[j] = dh[j] * z; // direct path h_t = ... + z ⊙ h_(t-1)
                if (!ResetAfter) continue;
                T drPre = dnPre * hh[(2 * h) + j] * Activations.Derivative(RecurrentActivation, r); // ∂n/∂r = W_hn h + b_hn
                dxi[j] = drPre;
                dhh[j] = drPre;
                dhh[(2 * h) + j] = dnPre * r;
            }
            if (!ResetAfter) ResetBeforeBackward(g, hPrev, dxi, dhh, dhPrev);
        }
    }

    /// <summary>
    /// The reset-before derivatives of one row, given <c>dnPre</c> in <c>dxi[2H..]</c>. The new gate's
    /// recurrent input is <c>r ⊙ h</c>, not <c>h</c>, so this row's <c>W_hn</c> and <c>b_hn</c>
    /// gradients are added here and its slice of <c>dhh</c> is zero (the base adds <c>dhhᵀ·h</c>).
    /// </summary>
    private void ResetBeforeBackward(ReadOnlySpan<T> g, ReadOnlySpan<T> hPrev, Span<T> dxi, Span<T> dhh, Span<T> dhPrev)
    {
        int h = HiddenSize;
        var dnPre = dxi.Slice(2 * h, h);
        var r = g[..h];
        System.Numerics.Tensors.TensorPrimitives.Multiply(r, hPrev, _resetHidden);
        ReadOnlySpan<T> weightHn = WeightHh.Value.Span.Slice(2 * h * h, h * h);
        Span<T> dWeightHn = WeightHh.Gradient.Span.Slice(2 * h * h, h * h);
        _dResetHidden.AsSpan().Clear();
        for (int j = 0; j < h; j++)
        {
            // d(r ⊙ h) += W_hn[j]ᵀ dnPre_j;  dW_hn[j] += dnPre_j (r ⊙ h)
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(weightHn.Slice(j * h, h), dnPre[j], _dResetHidden, _dResetHidden);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_resetHidden, dnPre[j], dWeightHn.Slice(j * h, h), dWeightHn.Slice(j * h, h));
        }
        if (BiasHh is not null)
        {
            var dBiasHn = BiasHh.Gradient.Span.Slice(2 * h, h);
            System.Numerics.Tensors.TensorPrimitives.Add(dBiasHn, dnPre, dBiasHn); // db_hn += dnPre
        }
        for (int k = 0; k < h; k++)
        {
            T drPre = _dResetHidden[k] * hPrev[k] * Activations.Derivative(RecurrentActivation, r[k]); // ∂(r ⊙ h)/∂r = h
            dxi[k] = drPre;
            dhh[k] = drPre;
            dhh[(2 * h) + k] = T.Zero;
            dhPrev[k] += _dResetHidden[k] * r[k];                                                      // ∂(r ⊙ h)/∂h = r
        }
    }
}
