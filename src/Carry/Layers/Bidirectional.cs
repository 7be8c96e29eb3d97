using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// Runs a recurrent layer forward and a twin of it backward over the sequence and concatenates
/// their outputs on the feature axis, forward first, as PyTorch does: <c>[B, T, 2O]</c> per
/// step, or <c>[B, 2O]</c> for the last step (each direction's final output, as Keras does).
/// The twin's parameters carry the suffix <c>_reverse</c>. States are concatenated likewise:
/// <c>Hidden [B, 2S]</c> (forward then backward).
/// </summary>
public sealed class Bidirectional<T> : RecurrentLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T>[] _parameters;
    private Tensor<T>? _output, _finalHidden, _finalCell, _dInput;
    private Tensor<T>? _dOutForward, _dOutBackward, _splitH0, _splitH1, _splitC0, _splitC1;
    private Tensor<T>? _dInitHidden, _dInitCell;          // [B, 2S] gradient of the initial state
    private RecurrentState<T>? _state0, _state1;           // the halves handed to the inner layers (reused records)
    private RecurrentState<T>? _finalState, _dInitialState; // the records returned (reused)

    /// <param name="forward">The forward layer (not reversed); its twin is built from its <see cref="Layer{T}.Spec"/>.</param>
    public Bidirectional(RecurrentLayer<T> forward)
        : base(forward?.InputSize ?? throw new ArgumentNullException(nameof(forward)), forward.ReturnSequences, false)
    {
        if (forward.Reverse) throw new ArgumentException("The layer given to Bidirectional must run forward.", nameof(forward));
        if (forward is Bidirectional<T>) throw new ArgumentException("Bidirectional cannot wrap another Bidirectional.", nameof(forward));
        Forwards = forward;
        Backwards = (RecurrentLayer<T>)forward.Spec.Create<T>(reverse: true);
        _parameters = [.. forward.Parameters, .. Backwards.Parameters];
    }

    /// <inheritdoc />
    public override ComputeContext Compute
    {
        get => base.Compute;
        set
        {
            base.Compute = value;
            Forwards.Compute = value;
            Backwards.Compute = value;
        }
    }

    /// <summary>The forward direction.</summary>
    public RecurrentLayer<T> Forwards { get; }

    /// <summary>The backward direction (parameters suffixed <c>_reverse</c>).</summary>
    public RecurrentLayer<T> Backwards { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <inheritdoc />
    public override int OutputSize => 2 * Forwards.OutputSize;

    /// <inheritdoc />
    public override int StateSize => 2 * Forwards.StateSize;

    /// <inheritdoc />
    public override bool HasCell => Forwards.HasCell;

    /// <inheritdoc />
    public override LayerSpec Spec => new() { Kind = LayerKinds.Bidirectional, Inner = Forwards.Spec, InputSize = InputSize, ReturnSequences = ReturnSequences };

    /// <inheritdoc />
    public override RecurrentOutput<T> Forward(Tensor<T> input, RecurrentState<T>? initialState, bool training)
    {
        var (batch, time) = CheckInput(input);
        int s = Forwards.StateSize;
        CheckState(initialState?.Hidden, batch, 2 * s, "initialState.Hidden");
        CheckState(initialState?.Cell, batch, 2 * s, "initialState.Cell");
        RecurrentState<T>? init0 = null, init1 = null;
        if (initialState is not null) (init0, init1) = SplitState(initialState);
        var f = Forwards.Forward(input, init0, training);
        var b = Backwards.Forward(input, init1, training);
        var output = ReturnSequences ? Reuse(ref _output, batch, time, OutputSize) : Reuse(ref _output, batch, OutputSize);
        Concat(f.Output.Span, b.Output.Span, output.Span, Forwards.OutputSize);
        var finalHidden = Reuse(ref _finalHidden, batch, 2 * s);
        Concat(f.FinalState.Hidden.Span, b.FinalState.Hidden.Span, finalHidden.Span, s);
        Tensor<T>? finalCell = null;
        if (HasCell)
        {
            finalCell = Reuse(ref _finalCell, batch, 2 * s);
            Concat(f.FinalState.Cell!.Span, b.FinalState.Cell!.Span, finalCell.Span, s);
        }
        return new RecurrentOutput<T>(output, ReuseState(ref _finalState, finalHidden, finalCell));
    }

    /// <inheritdoc />
    public override RecurrentGradient<T> Backward(Tensor<T> dOutput, RecurrentState<T>? dFinalState)
    {
        if (_output is null) throw new InvalidOperationException("Backward called before Forward.");
        Check.Shape(dOutput, _output.Shape, nameof(dOutput));
        int batch = _output.Dim(0), o = Forwards.OutputSize, s = Forwards.StateSize;
        CheckState(dFinalState?.Hidden, batch, 2 * s, "dFinalState.Hidden");
        CheckState(dFinalState?.Cell, batch, 2 * s, "dFinalState.Cell");
        var d0 = ReturnSequences ? Reuse(ref _dOutForward, batch, _output.Dim(1), o) : Reuse(ref _dOutForward, batch, o);
        var d1 = ReturnSequences ? Reuse(ref _dOutBackward, batch, _output.Dim(1), o) : Reuse(ref _dOutBackward, batch, o);
        Split(dOutput.Span, d0.Span, d1.Span, o);
        RecurrentState<T>? dState0 = null, dState1 = null;
        if (dFinalState is not null) (dState0, dState1) = SplitState(dFinalState);
        var g0 = Forwards.Backward(d0, dState0);
        var dInput = Reuse(ref _dInput, g0.DInput.Shape);
        g0.DInput.Span.CopyTo(dInput.Span);
        var dInit = Reuse(ref _dInitHidden, batch, 2 * s);
        Tensor<T>? dInitCell = HasCell ? Reuse(ref _dInitCell, batch, 2 * s) : null;
        // Copy the forward half before the backward pass reuses shared split buffers.
        CopyHalf(g0.DInitialState.Hidden.Span, dInit.Span, s, 0);
        if (dInitCell is not null) CopyHalf(g0.DInitialState.Cell!.Span, dInitCell.Span, s, 0);
        var g1 = Backwards.Backward(d1, dState1);
        System.Numerics.Tensors.TensorPrimitives.Add(dInput.Span, g1.DInput.Span, dInput.Span);
        CopyHalf(g1.DInitialState.Hidden.Span, dInit.Span, s, 1);
        if (dInitCell is not null) CopyHalf(g1.DInitialState.Cell!.Span, dInitCell.Span, s, 1);
        return new RecurrentGradient<T>(dInput, ReuseState(ref _dInitialState, dInit, dInitCell));
    }

    /// <inheritdoc />
    public override void Initialize(Initialization scheme, RandomGenerator random)
    {
        Forwards.Initialize(scheme, random);
        Backwards.Initialize(scheme, random);
    }

    // [rows, 2w] ← [rows, w] ‖ [rows, w]
    private static void Concat(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> dst, int width)
    {
        int rows = a.Length / width;
        for (int r = 0; r < rows; r++)
        {
            a.Slice(r * width, width).CopyTo(dst.Slice(r * 2 * width, width));
            b.Slice(r * width, width).CopyTo(dst.Slice((r * 2 * width) + width, width));
        }
    }

    // dst[:, half·w .. (half+1)·w] ← src   ([rows, 2w] ← [rows, w])
    private static void CopyHalf(ReadOnlySpan<T> src, Span<T> dst, int width, int half)
    {
        int rows = src.Length / width;
        for (int r = 0; r < rows; r++) src.Slice(r * width, width).CopyTo(dst.Slice((r * 2 * width) + (half * width), width));
    }

    /// <summary>A <c>[B, 2S]</c> state (or its gradient) as the inner layers' two <c>[B, S]</c> halves, in reused buffers and records.</summary>
    private (RecurrentState<T> Forwards, RecurrentState<T> Backwards) SplitState(RecurrentState<T> state)
    {
        var forwards = ReuseState(ref _state0, SplitHalf(state.Hidden, 0, ref _splitH0), state.Cell is null ? null : SplitHalf(state.Cell, 0, ref _splitC0));
        var backwards = ReuseState(ref _state1, SplitHalf(state.Hidden, 1, ref _splitH1), state.Cell is null ? null : SplitHalf(state.Cell, 1, ref _splitC1));
        return (forwards, backwards);
    }

    // [rows, w], [rows, w] ← [rows, 2w]
    private static void Split(ReadOnlySpan<T> src, Span<T> a, Span<T> b, int width)
    {
        int rows = a.Length / width;
        for (int r = 0; r < rows; r++)
        {
            src.Slice(r * 2 * width, width).CopyTo(a.Slice(r * width, width));
            src.Slice((r * 2 * width) + width, width).CopyTo(b.Slice(r * width, width));
        }
    }

    private static Tensor<T> SplitHalf(Tensor<T> state, int half, ref Tensor<T>? buffer)
    {
        int batch = state.Dim(0), w = state.Dim(1) / 2;
        var dst = Reuse(ref buffer, batch, w);
        for (int r = 0; r < batch; r++) state.Span.Slice((r * 2 * w) + (half * w), w).CopyTo(dst.Span.Slice(r * w, w));
        return dst;
    }
}
