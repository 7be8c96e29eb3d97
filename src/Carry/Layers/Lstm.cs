using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// Long short-term memory (PyTorch's <c>nn.LSTM</c>), gates in PyTorch's order input, forget,
/// cell, output:
/// <code>
/// i = σ(·), f = σ(·), g = tanh(·), o = σ(·)      (each W_ih x + b_ih + W_hh h + b_hh, one slice of 4H)
/// c_t = f ⊙ c_(t-1) + i ⊙ g
/// h_t = o ⊙ tanh(c_t)
/// </code>
/// </summary>
public sealed class Lstm<T> : GatedRecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="inputSize">Features per step, I (1 in the Keras experiment).</param>
    /// <param name="hiddenSize">Hidden units, H (256 in the Keras experiment).</param>
    /// <param name="bias">Include biases (default true).</param>
    /// <param name="returnSequences">Every step's output (true) or the last (false, the default).</param>
    /// <param name="reverse">Walk time backwards.</param>
    public Lstm(int inputSize, int hiddenSize, bool bias = true, bool returnSequences = false, bool reverse = false)
        : base(inputSize, hiddenSize, 4, bias, returnSequences, reverse)
    {
    }

    /// <inheritdoc />
    public override bool HasCell => true;

    /// <inheritdoc />
    public override LayerSpec Spec => new()
    {
        Kind = LayerKinds.Lstm, InputSize = InputSize, Units = HiddenSize, Bias = HasBias, ReturnSequences = ReturnSequences,
    };

    /// <inheritdoc />
    protected override void CellForward(int batch, int time, int t)
    {
        int h = HiddenSize, gh = 4 * h;
        for (int b = 0; b < batch; b++)
        {
            var g = Gates.Slice(At(b, t, time, gh), gh);   // [4H] → activated i, f, g, o
            int o = At(b, t, time, h);
            var cPrev = CellPrev.Slice(o, h);
            var c = Cell.Slice(o, h);
            var hOut = Hidden.Slice(o, h);
            for (int j = 0; j < h; j++)
            {
                T ig = Activations.Sigmoid(g[j]);
                T fg = Activations.Sigmoid(g[h + j]);
                T cg = T.Tanh(g[(2 * h) + j]);
                T og = Activations.Sigmoid(g[(3 * h) + j]);
                g[j] = ig;
                g[h + j] = fg;
                g[(2 * h) + j] = cg;
                g[(3 * h) + j] = og;
                T cNew = (fg * cPrev[j]) + (ig * cg);
                c[j] = cNew;
                hOut[j] = og * T.Tanh(cNew);
            }
        }
    }

    /// <inheritdoc />
    protected override void CellBackward(int batch, int time, int t)
    {
        int h = HiddenSize, gh = 4 * h;
        for (int b = 0; b < batch; b++)
        {
            var g = Gates.Slice(At(b, t, time, gh), gh);
            var dg = DGates.Slice(At(b, t, time, gh), gh);
            int o = At(b, t, time, h);
            var cPrev = CellPrev.Slice(o, h);
            var c = Cell.Slice(o, h);
            var dh = DHidden.Slice(b * h, h);
            var dcNext = DCellNext.Slice(b * h, h); // in: dL/dc_t from later steps; out: dL/dc_(t-1)
            for (int j = 0; j < h; j++)
            {
                T ig = g[j], fg = g[h + j], cg = g[(2 * h) + j], og = g[(3 * h) + j];
                T tc = T.Tanh(c[j]);
                T dOut = dh[j] * tc;                                       // ∂h/∂o = tanh c
                T dc = dcNext[j] + (dh[j] * og * (T.One - (tc * tc)));     // ∂h/∂c = o (1 - tanh² c)
                dg[j] = dc * cg * ig * (T.One - ig);                       // i: σ'
                dg[h + j] = dc * cPrev[j] * fg * (T.One - fg);             // f: σ'
                dg[(2 * h) + j] = dc * ig * (T.One - (cg * cg));           // g: tanh'
                dg[(3 * h) + j] = dOut * og * (T.One - og);                // o: σ'
                dcNext[j] = dc * fg;                                       // ∂c_t/∂c_(t-1) = f
            }
        }
        DHiddenNext.Clear();
    }

    /// <inheritdoc />
    protected override void InitializeKerasBias(Span<T> bias) => bias.Slice(HiddenSize, HiddenSize).Fill(T.One); // unit_forget_bias
}
