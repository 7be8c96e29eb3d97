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
    }

    private Tensor<T>? _resetHidden;  // [B, T, H] r ⊙ h_(t-1) (reset before)
    private Tensor<T>? _dResetHidden; // [B, H] d(r ⊙ h_(t-1)) = dn · W_hn of one step (reset before)
    private bool _secondHalf;         // reset before: which half of the cell the rows run (the new gate's product between)

    /// <summary>σ of the reset and update gates (<see cref="Activation.Sigmoid"/> as in PyTorch; Keras's <c>recurrent_activation</c>).</summary>
    public Activation RecurrentActivation { get; }

    /// <summary>True (PyTorch): <c>r ⊙ (W_hn h + b_hn)</c>; false (Keras's <c>reset_after=False</c>): <c>W_hn (r ⊙ h) + b_hn</c>.</summary>
    public bool ResetAfter { get; }

    /// <inheritdoc />
    protected override bool SeparateHiddenProjection => true;

    /// <inheritdoc />
    /// <remarks>Reset before, the new gate's recurrent input is <c>r ⊙ h</c>: its product is this layer's own.</remarks>
    protected override int RecurrentColumns => ResetAfter ? 3 * HiddenSize : 2 * HiddenSize;

    /// <inheritdoc />
    public override LayerSpec Spec => new()
    {
        Kind = LayerKinds.Gru, InputSize = InputSize, Units = HiddenSize, Bias = HasBias, ReturnSequences = ReturnSequences,
        RecurrentActivation = LayerSpec.RecurrentActivationName(RecurrentActivation), ResetAfter = ResetAfter,
    };

    /// <inheritdoc />
    /// <remarks>Reset before, a shard runs its rows of the step's own product between the cell's two passes, on the kernel as the whole product would.</remarks>
    protected override bool CellWalksInShards(int batch) => ResetAfter || Gemm.ReachesKernel<T>(Compute, batch, HiddenSize, HiddenSize);

    private readonly PackedMatrix<T> _packedHnT = new(), _packedHn = new(); // reset before: W_hnᵀ (forward), W_hn (backward), packed once per pass

    /// <inheritdoc />
    protected override void PrepareWalk(int batch, bool backward)
    {
        int h = HiddenSize;
        var packed = backward ? _packedHn : _packedHnT;
        if (ResetAfter || !Gemm.ReachesKernel<T>(Compute, batch, h, h))
        {
            packed.Invalidate();
            return;
        }
        packed.Pack(Compute.GemmPath, transB: !backward, h, h, WeightHh.Value.Span[(2 * h * h)..], h);
    }

    /// <inheritdoc />
    protected override void AllocateCell(int batch, int time)
    {
        if (ResetAfter) return;
        Reuse(ref _resetHidden, batch, time, HiddenSize);
        Reuse(ref _dResetHidden, batch, HiddenSize);
    }

    /// <inheritdoc />
    /// <remarks>Reset before: r and z, then <c>W_hn (r ⊙ h) + b_hn</c> for every row in one product, then n and h.</remarks>
    protected override void CellForward(int batch, int time, int t)
    {
        if (ResetAfter)
        {
            base.CellForward(batch, time, t);
            return;
        }
        _secondHalf = false;
        RunRows(batch, time, t, backward: false, stepEdges: false); // r and z only: the step is not done
        ResetProductRows(time, t, 0, batch, null);
        _secondHalf = true;
        base.CellForward(batch, time, t);
    }

    /// <summary>
    /// Reset before, <c>hh_n = (r ⊙ h_(t-1)) · W_hnᵀ + b_hn</c> <c>[B, H]·[H, H]</c> for rows
    /// b0..b1-1: split across threads, or on this thread with <paramref name="scratch"/> (a shard).
    /// </summary>
    private void ResetProductRows(int time, int t, int b0, int b1, ComputeContext.Scratch? scratch)
    {
        int h = HiddenSize, gh = 3 * h;
        var hhNew = HiddenProj[(At(b0, t, time, gh) + (2 * h))..];
        Gemm.MultiplyRows(Compute, scratch, false, true, b1 - b0, h, h, _resetHidden!.Span[At(b0, t, time, h)..], time * h, WeightHh.Value.Span[(2 * h * h)..], h, hhNew, time * gh, accumulate: false, _packedHnT);
        if (!HasBias) return;
        for (int b = 0; b < b1 - b0; b++) TensorPrimitives.Add(hhNew.Slice(b * time * gh, h), BiasHh!.Value.Span.Slice(2 * h, h), hhNew.Slice(b * time * gh, h));
    }

    /// <inheritdoc />
    private protected override void CellForwardShardRows(int time, int t, int b0, int b1, ComputeContext.Scratch scratch)
    {
        if (ResetAfter)
        {
            ForwardPassRows(time, t, b0, b1, second: true);
            return;
        }
        ForwardPassRows(time, t, b0, b1, second: false);
        ResetProductRows(time, t, b0, b1, scratch);
        ForwardPassRows(time, t, b0, b1, second: true);
    }

    /// <summary>The cell forward for batch rows <paramref name="b0"/>..<paramref name="b1"/>-1 at time <paramref name="t"/>.</summary>
    protected override void CellForwardRows(int time, int t, int b0, int b1) => ForwardPassRows(time, t, b0, b1, _secondHalf);

    /// <summary>The rows' pass of the cell forward: reset after, all of it; reset before, r and z (<paramref name="second"/> false) or n and h.</summary>
    private void ForwardPassRows(int time, int t, int b0, int b1, bool second)
    {
        int h = HiddenSize, gh = 3 * h;
        Span<T> gates = Gates, hiddenProj = HiddenProj, hiddenPrev = HiddenPrev, hidden = Hidden;
        for (int b = b0; b < b1; b++)
        {
            var g = gates.Slice(At(b, t, time, gh), gh);      // W_ih x + b_ih → activated r, z, n
            var hh = hiddenProj.Slice(At(b, t, time, gh), gh); // W_hh h + b_hh (kept: backward needs the n part)
            int o = At(b, t, time, h);
            if (!second || ResetAfter) UpdateAndResetGates(g, hh);
            if (!ResetAfter && !second)
            {
                TensorPrimitives.Multiply(g[..h], hiddenPrev.Slice(o, h), _resetHidden!.Span.Slice(o, h)); // r ⊙ h_(t-1)
                continue;
            }
            NewGateAndOutput(g, hh.Slice(2 * h, h), hiddenPrev.Slice(o, h), hidden.Slice(o, h));
        }
    }

    /// <summary><c>r, z = σ(W_i x + b_i + W_h h + b_h)</c> in place in the first 2H of <paramref name="g"/>.</summary>
    private void UpdateAndResetGates(Span<T> g, ReadOnlySpan<T> hh)
    {
        var rz = g[..(2 * HiddenSize)];
        TensorPrimitives.Add(rz, hh[..rz.Length], rz);
        GateActivation(RecurrentActivation, rz);
    }

    /// <summary>
    /// <c>n = tanh(W_in x + b_in + r ⊙ hhNew)</c> (reset after; <c>hhNew = W_hn h + b_hn</c>) or
    /// <c>tanh(W_in x + b_in + hhNew)</c> (reset before; <c>hhNew = W_hn (r ⊙ h) + b_hn</c>) in place,
    /// then <c>h_t = (1 - z) ⊙ n + z ⊙ h_(t-1)</c>.
    /// </summary>
    private void NewGateAndOutput(Span<T> g, ReadOnlySpan<T> hhNew, ReadOnlySpan<T> hPrev, Span<T> hOut)
    {
        int h = HiddenSize;
        var n = g.Slice(2 * h, h);
        if (ResetAfter) TensorPrimitives.MultiplyAdd(g[..h], hhNew, n, n);
        else TensorPrimitives.Add(n, hhNew, n);
        TensorPrimitives.Tanh(n, n);
        Interpolate(g.Slice(h, h), n, hPrev, hOut);
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

    /// <inheritdoc />
    /// <remarks>Reset before: the rows' derivatives, then <c>d(r ⊙ h) = dn · W_hn</c> for every row in one product, then r's.</remarks>
    protected override void CellBackward(int batch, int time, int t)
    {
        _secondHalf = false;
        base.CellBackward(batch, time, t);
        if (ResetAfter) return;
        ResetGradientProductRows(time, t, 0, batch, null);
        _secondHalf = true;
        RunRows(batch, time, t, backward: true, stepEdges: false); // dHidden was gathered by the first pass
    }

    /// <summary>Reset before, <c>d(r ⊙ h_(t-1)) = dnPre · W_hn</c> <c>[B, H]·[H, H]</c> for rows b0..b1-1, as <see cref="ResetProductRows"/> splits it.</summary>
    private void ResetGradientProductRows(int time, int t, int b0, int b1, ComputeContext.Scratch? scratch)
    {
        int h = HiddenSize, gh = 3 * h;
        Gemm.MultiplyRows(Compute, scratch, false, false, b1 - b0, h, h, DHiddenProj[(At(b0, t, time, gh) + (2 * h))..], time * gh,
            WeightHh.Value.Span[(2 * h * h)..], h, _dResetHidden!.Span[(b0 * h)..], h, accumulate: false, _packedHn);
    }

    /// <inheritdoc />
    private protected override void CellBackwardShardRows(int time, int t, int b0, int b1, ComputeContext.Scratch scratch)
    {
        BackwardPassRows(time, t, b0, b1, second: false);
        if (ResetAfter) return;
        ResetGradientProductRows(time, t, b0, b1, scratch);
        BackwardPassRows(time, t, b0, b1, second: true);
    }

    /// <summary>The cell backward for batch rows <paramref name="b0"/>..<paramref name="b1"/>-1 at time <paramref name="t"/>.</summary>
    protected override void CellBackwardRows(int time, int t, int b0, int b1) => BackwardPassRows(time, t, b0, b1, _secondHalf);

    /// <summary>The rows' pass of the cell derivative: all of it, then (reset before, <paramref name="second"/>) r's part from <c>d(r ⊙ h)</c>.</summary>
    private void BackwardPassRows(int time, int t, int b0, int b1, bool second)
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
            if (second) ResetBeforeBackward(g[..h], hPrev, _dResetHidden!.Span.Slice(b * h, h), dxi[..h], dhh[..h], dhPrev);
            else CellBackwardRow(g, hiddenProj.Slice(At(b, t, time, gh) + (2 * h), h), hPrev, dHidden.Slice(b * h, h), dxi, dhh, dhPrev, h, RecurrentActivation, ResetAfter);
        }
    }

    /// <summary>
    /// One row of the cell's derivative: <c>dxi</c> for the input projection, <c>dhh</c> for the
    /// recurrent one, <c>dhPrev</c> the direct gradient to h_(t-1). Reset before, r's slices wait for
    /// <see cref="ResetBeforeBackward"/>, and the new gate's recurrent slice is the gradient of
    /// <c>W_hn (r ⊙ h) + b_hn</c>. The scalar loop spells out each local derivative; the vector loop
    /// does the same operations in the same order.
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
                if (!resetAfter)
                {
                    dnPre.CopyTo(dhh[((2 * h) + j)..]);
                    continue;
                }
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
            if (!resetAfter)
            {
                dhh[(2 * h) + j] = dnPre;                                  // ∂n/∂(W_hn (r ⊙ h) + b_hn) = 1
                continue;
            }
            T drPre = dnPre * hhNew[j] * Activations.Derivative(sigma, r); // ∂n/∂r = W_hn h + b_hn
            dxi[j] = drPre;
            dhh[j] = drPre;
            dhh[(2 * h) + j] = dnPre * r;                                  // ∂n/∂(W_hn h + b_hn) = r
        }
    }

    /// <summary>
    /// Reset before, one row's r derivatives from <c>d(r ⊙ h) = dResetHidden</c>:
    /// <c>drPre = d(r ⊙ h) ⊙ h ⊙ σ'(r)</c> (∂(r ⊙ h)/∂r = h) into both projections' r slices, and
    /// <c>dhPrev += d(r ⊙ h) ⊙ r</c> (∂(r ⊙ h)/∂h = r).
    /// </summary>
    private void ResetBeforeBackward(ReadOnlySpan<T> r, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> dResetHidden, Span<T> dxiReset, Span<T> dhhReset, Span<T> dhPrev)
    {
        TensorPrimitives.Multiply(dResetHidden, hPrev, dxiReset);
        Activations.MultiplyDerivative(RecurrentActivation, r, dxiReset);
        dxiReset.CopyTo(dhhReset);
        TensorPrimitives.MultiplyAdd(dResetHidden, r, dhPrev, dhPrev);
    }

    /// <inheritdoc />
    /// <remarks>Reset before: <c>dW_hn += dhh_nᵀ · (r ⊙ h)</c> over every row and step   <c>[H, B·T]·[B·T, H]</c> (<c>b_hn</c>'s gradient is the base's column sum).</remarks>
    protected override void AccumulateOwnWeightGradients(int batch, int time)
    {
        if (ResetAfter) return;
        int h = HiddenSize, gh = 3 * h;
        Gemm.Multiply(Compute, true, false, h, h, batch * time, DHiddenProj[(2 * h)..], gh, _resetHidden!.Span, h, WeightHh.Gradient.Span[(2 * h * h)..], h, accumulate: true);
    }
}
