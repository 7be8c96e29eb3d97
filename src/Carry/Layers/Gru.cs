using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
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
        : base(inputSize, hiddenSize, ParameterShapes.GruGates, bias, returnSequences, reverse)
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
    /// <remarks>Reset-before rows share scratch memory and the <c>W_hn</c> gradient, so they run on one thread.</remarks>
    protected override bool RowsIndependent => ResetAfter;

    /// <summary>The cell forward for batch rows <paramref name="b0"/>..<paramref name="b1"/>-1 at time <paramref name="t"/>.</summary>
    protected override void CellForwardRows(int time, int t, int b0, int b1)
    {
        int h = HiddenSize, gh = 3 * h;
        Span<T> gates = Gates, hiddenProj = HiddenProj, hiddenPrev = HiddenPrev, hidden = Hidden;
        for (int b = b0; b < b1; b++)
        {
            int o = At(b, t, time, h);
            CellForwardRow(gates.Slice(At(b, t, time, gh), gh), hiddenProj.Slice(At(b, t, time, gh), gh), hiddenPrev.Slice(o, h), hidden.Slice(o, h));
        }
    }

    /// <summary>The cell for one row.</summary>
    /// <param name="g"><c>[3H]</c> <c>W_ih x + b_ih</c> in, activated r, z, n out.</param>
    /// <param name="hh"><c>[3H]</c> <c>W_hh h + b_hh</c> (kept: backward needs its n part; reset-before overwrites that part).</param>
    /// <param name="hPrev"><c>[H]</c> h_(t-1).</param>
    /// <param name="hOut"><c>[H]</c> receives h_t.</param>
    private void CellForwardRow(Span<T> g, Span<T> hh, ReadOnlySpan<T> hPrev, Span<T> hOut)
    {
        int h = HiddenSize;
        var rz = g[..(2 * h)];
        var r = g[..h];
        var z = g.Slice(h, h);
        var n = g.Slice(2 * h, h);
        var hhNew = hh.Slice(2 * h, h);
        TensorPrimitives.Add(rz, hh[..(2 * h)], rz);           // W_i x + b_i + W_h h + b_h for r and z
        GateActivation(RecurrentActivation, rz);                // r, z = σ
        if (ResetAfter)
        {
            TensorPrimitives.MultiplyAdd(r, hhNew, n, n);       // W_in x + b_in + r ⊙ (W_hn h + b_hn)
        }
        else
        {
            ResetBeforeProjection(r, hPrev, hhNew);
            TensorPrimitives.Add(n, hhNew, n);                  // W_in x + b_in + W_hn (r ⊙ h) + b_hn
        }
        TensorPrimitives.Tanh(n, n);                            // n = tanh
        Interpolate(z, n, hPrev, hOut);                         // h_t = (1 - z) ⊙ n + z ⊙ h_(t-1)
    }

    /// <summary><c>h = (1 - z) ⊙ n + z ⊙ hPrev</c>, each product rounded before the sum, as in the scalar formula.</summary>
    private static void Interpolate(ReadOnlySpan<T> z, ReadOnlySpan<T> n, ReadOnlySpan<T> hPrev, Span<T> h)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<T>.One;
            for (; j <= h.Length - Vector<T>.Count; j += Vector<T>.Count)
            {
                var zv = new Vector<T>(z[j..]);
                (((one - zv) * new Vector<T>(n[j..])) + (zv * new Vector<T>(hPrev[j..]))).CopyTo(h[j..]);
            }
        }
        for (; j < h.Length; j++) h[j] = ((T.One - z[j]) * n[j]) + (z[j] * hPrev[j]);
    }

    /// <summary>
    /// Reset before the product: overwrites the new gate's recurrent part with
    /// <c>W_hn (r ⊙ h) + b_hn</c>   <c>[H, H]·[H]</c> (the base computed <c>W_hn h + b_hn</c>).
    /// </summary>
    private void ResetBeforeProjection(ReadOnlySpan<T> r, ReadOnlySpan<T> hPrev, Span<T> hhNew)
    {
        int h = HiddenSize;
        TensorPrimitives.Multiply(r, hPrev, _resetHidden);
        ReadOnlySpan<T> weightHn = WeightHh.Value.Span.Slice(2 * h * h, h * h);
        for (int j = 0; j < h; j++)
        {
            T bias = BiasHh is null ? T.Zero : BiasHh.Value.Span[(2 * h) + j];
            hhNew[j] = TensorPrimitives.Dot(weightHn.Slice(j * h, h), _resetHidden) + bias;
        }
    }

    /// <summary>The cell backward for batch rows <paramref name="b0"/>..<paramref name="b1"/>-1 at time <paramref name="t"/>.</summary>
    protected override void CellBackwardRows(int time, int t, int b0, int b1)
    {
        int h = HiddenSize, gh = 3 * h;
        Span<T> gates = Gates, hiddenProj = HiddenProj, dGates = DGates, dHiddenProj = DHiddenProj, hiddenPrev = HiddenPrev;
        Span<T> dHidden = DHidden, dHiddenNext = DHiddenNext;
        for (int b = b0; b < b1; b++)
        {
            var g = gates.Slice(At(b, t, time, gh), gh);
            var dxi = dGates.Slice(At(b, t, time, gh), gh);
            var dhh = dHiddenProj.Slice(At(b, t, time, gh), gh);
            var hPrev = hiddenPrev.Slice(At(b, t, time, h), h);
            var dhPrev = dHiddenNext.Slice(b * h, h);
            CellBackwardRow(g, hiddenProj.Slice(At(b, t, time, gh) + (2 * h), h), hPrev, dHidden.Slice(b * h, h), dxi, dhh, dhPrev, h, RecurrentActivation, ResetAfter);
            if (!ResetAfter) ResetBeforeBackward(g, hPrev, dxi, dhh, dhPrev);
        }
    }

    /// <summary>
    /// One row of the cell's derivative: <c>dxi</c> for the input projection, <c>dhh</c> for the
    /// recurrent one, <c>dhPrev</c> the direct gradient to h_(t-1). Reset-before leaves r's slices
    /// and the new gate's recurrent slice to <see cref="ResetBeforeBackward"/>. The scalar loop
    /// spells out each local derivative; the vector loop does the same operations in the same order.
    /// </summary>
    private static void CellBackwardRow(ReadOnlySpan<T> g, ReadOnlySpan<T> hhNew, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> dh,
        Span<T> dxi, Span<T> dhh, Span<T> dhPrev, int h, Activation sigma, bool resetAfter)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<T>.One;
            for (; j <= h - Vector<T>.Count; j += Vector<T>.Count)
            {
                var r = new Vector<T>(g[j..]);
                var z = new Vector<T>(g[(h + j)..]);
                var n = new Vector<T>(g[((2 * h) + j)..]);
                var dhv = new Vector<T>(dh[j..]);
                var dnPre = dhv * (one - z) * (one - (n * n));
                var dzPre = dhv * (new Vector<T>(hPrev[j..]) - n) * Activations.DerivativeLanes(sigma, z);
                dzPre.CopyTo(dxi[(h + j)..]);
                dnPre.CopyTo(dxi[((2 * h) + j)..]);
                dzPre.CopyTo(dhh[(h + j)..]);
                (dhv * z).CopyTo(dhPrev[j..]);
                if (!resetAfter) continue;
                var drPre = dnPre * new Vector<T>(hhNew[j..]) * Activations.DerivativeLanes(sigma, r);
                drPre.CopyTo(dxi[j..]);
                drPre.CopyTo(dhh[j..]);
                (dnPre * r).CopyTo(dhh[((2 * h) + j)..]);
            }
        }
        for (; j < h; j++)
        {
            T r = g[j], z = g[h + j], n = g[(2 * h) + j];
            T dn = dh[j] * (T.One - z);                                    // ∂h/∂n = 1 - z
            T dz = dh[j] * (hPrev[j] - n);                                 // ∂h/∂z = h_(t-1) - n
            T dnPre = dn * (T.One - (n * n));                              // n: tanh'
            T dzPre = dz * Activations.Derivative(sigma, z);               // z: σ'
            dxi[h + j] = dzPre;
            dxi[(2 * h) + j] = dnPre;
            dhh[h + j] = dzPre;
            dhPrev[j] = dh[j] * z;                                         // ∂h/∂h_(t-1) = z, the direct path
            if (!resetAfter) continue;
            T drPre = dnPre * hhNew[j] * Activations.Derivative(sigma, r); // ∂n/∂r = W_hn h + b_hn
            dxi[j] = drPre;
            dhh[j] = drPre;
            dhh[(2 * h) + j] = dnPre * r;                                  // ∂n/∂(W_hn h + b_hn) = r
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
        TensorPrimitives.Multiply(r, hPrev, _resetHidden);
        ReadOnlySpan<T> weightHn = WeightHh.Value.Span.Slice(2 * h * h, h * h);
        Span<T> dWeightHn = WeightHh.Gradient.Span.Slice(2 * h * h, h * h);
        _dResetHidden.AsSpan().Clear();
        for (int j = 0; j < h; j++)
        {
            // d(r ⊙ h) += W_hn[j]ᵀ dnPre_j;  dW_hn[j] += dnPre_j (r ⊙ h)
            TensorPrimitives.MultiplyAdd(weightHn.Slice(j * h, h), dnPre[j], _dResetHidden, _dResetHidden);
            TensorPrimitives.MultiplyAdd(_resetHidden, dnPre[j], dWeightHn.Slice(j * h, h), dWeightHn.Slice(j * h, h));
        }
        if (BiasHh is not null)
        {
            var dBiasHn = BiasHh.Gradient.Span.Slice(2 * h, h);
            TensorPrimitives.Add(dBiasHn, dnPre, dBiasHn); // db_hn += dnPre
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
