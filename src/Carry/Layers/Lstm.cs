using System.Runtime.CompilerServices;
using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
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
/// σ is the logistic sigmoid unless <see cref="RecurrentActivation"/> names another (Keras's
/// <c>recurrent_activation</c>, e.g. Keras 2's <c>hard_sigmoid</c>).
/// </summary>
public sealed class Lstm<T> : GatedRecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _tanhCell; // [B, T, H] tanh c_t, from forward for backward

    /// <param name="inputSize">Features per step, I (1 in the Keras experiment).</param>
    /// <param name="hiddenSize">Hidden units, H (256 in the Keras experiment).</param>
    /// <param name="bias">Include biases (default true).</param>
    /// <param name="returnSequences">Every step's output (true) or the last (false, the default).</param>
    /// <param name="reverse">Walk time backwards.</param>
    /// <param name="recurrentActivation">σ of the input, forget and output gates (default <see cref="Activation.Sigmoid"/>).</param>
    public Lstm(int inputSize, int hiddenSize, bool bias = true, bool returnSequences = false, bool reverse = false, Activation recurrentActivation = Activation.Sigmoid)
        : base(inputSize, hiddenSize, ParameterShapes.LstmGates, bias, returnSequences, reverse)
    {
        RecurrentActivation = recurrentActivation;
    }

    /// <summary>σ of the input, forget and output gates (<see cref="Activation.Sigmoid"/> as in PyTorch; Keras's <c>recurrent_activation</c>).</summary>
    public Activation RecurrentActivation { get; }

    /// <inheritdoc />
    public override bool HasCell => true;

    /// <inheritdoc />
    public override LayerSpec Spec => new()
    {
        Kind = LayerKinds.Lstm, InputSize = InputSize, Units = HiddenSize, Bias = HasBias, ReturnSequences = ReturnSequences,
        RecurrentActivation = LayerSpec.RecurrentActivationName(RecurrentActivation),
    };

    /// <inheritdoc />
    protected override void AllocateCell(int batch, int time) => Reuse(ref _tanhCell, batch, time, HiddenSize);

    /// <summary>The cell forward for batch rows <paramref name="b0"/>..<paramref name="b1"/>-1 at time <paramref name="t"/>.</summary>
    protected override void CellForwardRows(int time, int t, int b0, int b1)
    {
        int h = HiddenSize, gh = 4 * h;
        Span<T> gates = Gates, cellPrev = CellPrev, cell = Cell, hidden = Hidden, tanhCell = _tanhCell!.Span;
        for (int b = b0; b < b1; b++)
        {
            int o = At(b, t, time, h);
            CellForwardRow(gates.Slice(At(b, t, time, gh), gh), cellPrev.Slice(o, h), cell.Slice(o, h), tanhCell.Slice(o, h), hidden.Slice(o, h));
        }
    }

    /// <summary>
    /// The cell for one row, the one place it is written (the layer and the all-pairs walk of
    /// <see cref="Arithmetic.AllPairsInference"/> both call it).
    /// </summary>
    /// <param name="g"><c>[4H]</c> pre-activations in, activated gates i, f, g, o out.</param>
    /// <param name="cellPrev"><c>[H]</c> c_(t-1).</param>
    /// <param name="cell"><c>[H]</c> receives c_t.</param>
    /// <param name="tanhCell"><c>[H]</c> receives tanh c_t (may be <paramref name="hidden"/> when backward will not need it).</param>
    /// <param name="hidden"><c>[H]</c> receives h_t.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void CellForwardRow(Span<T> g, ReadOnlySpan<T> cellPrev, Span<T> cell, Span<T> tanhCell, Span<T> hidden)
    {
        int h = HiddenSize;
        var ifGates = g[..(2 * h)];
        var cellGate = g.Slice(2 * h, h);
        var outGate = g.Slice(3 * h, h);
        GateActivation(RecurrentActivation, ifGates);                                    // i, f = σ
        TensorPrimitives.Tanh(cellGate, cellGate);                  // g = tanh
        GateActivation(RecurrentActivation, outGate);                                    // o = σ
        UpdateCell(g[..h], g.Slice(h, h), cellGate, cellPrev, cell); // c_t = f ⊙ c_(t-1) + i ⊙ g
        TensorPrimitives.Tanh(cell, tanhCell);                      // tanh c_t, kept for backward
        TensorPrimitives.Multiply(outGate, tanhCell, hidden);       // h_t = o ⊙ tanh c_t
    }

    /// <summary><c>c = f ⊙ cPrev + i ⊙ g</c>, each product rounded before the sum, as in the scalar formula.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UpdateCell(ReadOnlySpan<T> i, ReadOnlySpan<T> f, ReadOnlySpan<T> g, ReadOnlySpan<T> cPrev, Span<T> c)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; j <= c.Length - Vector<T>.Count; j += Vector<T>.Count)
            {
                var cNew = (new Vector<T>(f[j..]) * new Vector<T>(cPrev[j..])) + (new Vector<T>(i[j..]) * new Vector<T>(g[j..]));
                cNew.CopyTo(c[j..]);
            }
        }
        for (; j < c.Length; j++) c[j] = (f[j] * cPrev[j]) + (i[j] * g[j]);
    }

    /// <summary>The cell backward for batch rows <paramref name="b0"/>..<paramref name="b1"/>-1 at time <paramref name="t"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void CellBackwardRows(int time, int t, int b0, int b1)
    {
        int h = HiddenSize, gh = 4 * h;
        Span<T> gates = Gates, dGates = DGates, cellPrev = CellPrev, dHidden = DHidden, dCellNext = DCellNext;
        Span<T> tanhCell = _tanhCell!.Span;
        for (int b = b0; b < b1; b++)
        {
            var g = gates.Slice(At(b, t, time, gh), gh);
            var dg = dGates.Slice(At(b, t, time, gh), gh);
            int o = At(b, t, time, h);
            // dcNext in: dL/dc_t from later steps; out: dL/dc_(t-1).
            CellBackwardRow(g, dg, cellPrev.Slice(o, h), tanhCell.Slice(o, h), dHidden.Slice(b * h, h), dCellNext.Slice(b * h, h), h, RecurrentActivation);
        }
        DHiddenNext.Slice(b0 * h, (b1 - b0) * h).Clear(); // h_(t-1) reaches h_t only through W_hh
    }

    /// <summary>One row of the cell's derivative; the scalar loop spells out each local derivative, the vector loop does the same operations in the same order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CellBackwardRow(ReadOnlySpan<T> g, Span<T> dg, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> tanhC, ReadOnlySpan<T> dh, Span<T> dcNext, int h, Activation sigma)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<T>.One;
            for (; j <= h - Vector<T>.Count; j += Vector<T>.Count)
            {
                var ig = new Vector<T>(g[j..]);
                var fg = new Vector<T>(g[(h + j)..]);
                var cg = new Vector<T>(g[((2 * h) + j)..]);
                var og = new Vector<T>(g[((3 * h) + j)..]);
                var tc = new Vector<T>(tanhC[j..]);
                var dhv = new Vector<T>(dh[j..]);
                var dOut = dhv * tc;
                var dc = new Vector<T>(dcNext[j..]) + (dhv * og * (one - (tc * tc)));
                (dc * cg * Activations.DerivativeLanes(sigma, ig)).CopyTo(dg[j..]);
                (dc * new Vector<T>(cPrev[j..]) * Activations.DerivativeLanes(sigma, fg)).CopyTo(dg[(h + j)..]);
                (dc * ig * (one - (cg * cg))).CopyTo(dg[((2 * h) + j)..]);
                (dOut * Activations.DerivativeLanes(sigma, og)).CopyTo(dg[((3 * h) + j)..]);
                (dc * fg).CopyTo(dcNext[j..]);
            }
        }
        for (; j < h; j++)
        {
            T ig = g[j], fg = g[h + j], cg = g[(2 * h) + j], og = g[(3 * h) + j];
            T tc = tanhC[j];
            T dOut = dh[j] * tc;                                       // ∂h/∂o = tanh c
            T dc = dcNext[j] + (dh[j] * og * (T.One - (tc * tc)));     // ∂h/∂c = o (1 - tanh² c)
            dg[j] = dc * cg * Activations.Derivative(sigma, ig);       // i: σ'
            dg[h + j] = dc * cPrev[j] * Activations.Derivative(sigma, fg); // f: σ'
            dg[(2 * h) + j] = dc * ig * (T.One - (cg * cg));           // g: tanh'
            dg[(3 * h) + j] = dOut * Activations.Derivative(sigma, og); // o: σ'
            dcNext[j] = dc * fg;                                       // ∂c_t/∂c_(t-1) = f
        }
    }

    /// <inheritdoc />
    protected override void InitializeKerasBias(Span<T> bias) => bias.Slice(HiddenSize, HiddenSize).Fill(T.One); // unit_forget_bias
}
