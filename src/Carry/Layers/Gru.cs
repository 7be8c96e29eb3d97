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
/// </summary>
public sealed class Gru<T> : GatedRecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="inputSize">Features per step, I.</param>
    /// <param name="hiddenSize">Hidden units, H.</param>
    /// <param name="bias">Include biases (default true).</param>
    /// <param name="returnSequences">Every step's output (true) or the last (false, the default).</param>
    /// <param name="reverse">Walk time backwards.</param>
    public Gru(int inputSize, int hiddenSize, bool bias = true, bool returnSequences = false, bool reverse = false)
        : base(inputSize, hiddenSize, ParameterShapes.GruGates, bias, returnSequences, reverse)
    {
    }

    /// <inheritdoc />
    protected override bool SeparateHiddenProjection => true;

    /// <inheritdoc />
    public override LayerSpec Spec => new()
    {
        Kind = LayerKinds.Gru, InputSize = InputSize, Units = HiddenSize, Bias = HasBias, ReturnSequences = ReturnSequences,
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
                T r = Activations.Sigmoid(xi[j] + hh[j]);
                T z = Activations.Sigmoid(xi[h + j] + hh[h + j]);
                T n = T.Tanh(xi[(2 * h) + j] + (r * hh[(2 * h) + j]));
                xi[j] = r;
                xi[h + j] = z;
                xi[(2 * h) + j] = n;
                hOut[j] = ((T.One - z) * n) + (z * hPrev[j]);
            }
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
                T drPre = dnPre * hh[(2 * h) + j] * r * (T.One - r);
                T dzPre = dz * z * (T.One - z);
                dxi[j] = drPre;
                dxi[h + j] = dzPre;
                dxi[(2 * h) + j] = dnPre;
                dhh[j] = drPre;
                dhh[h + j] = dzPre;
                dhh[(2 * h) + j] = dnPre * r;
                dhPrev[j] = dh[j] * z; // direct path h_t = ... + z ⊙ h_(t-1)
            }
        }
    }
}
