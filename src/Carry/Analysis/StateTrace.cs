using System.Numerics;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Analysis;

/// <summary>
/// One quantity a recurrent layer computed at every step for every sample, <c>Values [B, T, W]</c>,
/// indexed by time (a reversed layer's step t is still column t).
/// </summary>
/// <param name="Layer">Index of the layer in <see cref="Sequential{T}.Layers"/>.</param>
/// <param name="Name">
/// <c>h</c> (hidden state), <c>c</c> (LSTM cell state), <c>i</c>, <c>f</c>, <c>g</c>, <c>o</c> (LSTM
/// gates, activated), <c>y</c> (Jordan output, the state it feeds back); a bidirectional layer's
/// halves are prefixed <c>forward </c> and <c>backward </c>.
/// </param>
/// <param name="Values">The values <c>[B, T, W]</c>.</param>
public sealed record TracedQuantity(int Layer, string Name, Tensor<double> Values)
{
    /// <summary>Units, W.</summary>
    public int Width => Values.Dim(2);
}

/// <summary>
/// What a model computes inside, step by step: every recurrent layer's hidden state (and for an
/// LSTM its cell state and its four gates) at every step, read from the buffers the layers fill
/// during their own forward pass, so the trace is exactly what the model computed.
/// </summary>
public sealed class StateTrace
{
    /// <summary>Name of the hidden state h_t.</summary>
    public const string Hidden = "h";

    /// <summary>Name of the LSTM cell state c_t.</summary>
    public const string Cell = "c";

    /// <summary>Name of a Jordan layer's output y_t, the state it feeds back.</summary>
    public const string JordanOutput = "y";

    /// <summary>The LSTM gates in PyTorch's order: input, forget, cell (candidate), output.</summary>
    public static IReadOnlyList<string> LstmGates { get; } = ["i", "f", "g", "o"];

    private StateTrace(IReadOnlyList<TracedQuantity> quantities, Tensor<double> output)
    {
        Quantities = quantities;
        Output = output;
    }

    /// <summary>The traced quantities, layer by layer, in the order listed under <see cref="TracedQuantity.Name"/>.</summary>
    public IReadOnlyList<TracedQuantity> Quantities { get; }

    /// <summary>The model's output, shaped as <see cref="Sequential{T}.Forward"/> returns it.</summary>
    public Tensor<double> Output { get; }

    /// <summary>The quantity <paramref name="name"/> of layer <paramref name="layer"/>, or null.</summary>
    public TracedQuantity? Find(int layer, string name) => Quantities.FirstOrDefault(q => q.Layer == layer && q.Name == name);

    /// <summary>
    /// Runs <paramref name="inputs"/> <c>[B, T, I]</c> through <paramref name="model"/> (inference:
    /// dropout off) layer by layer and records what each recurrent layer computed.
    /// </summary>
    /// <exception cref="NotSupportedException">A recurrent layer kind this trace does not know.</exception>
    public static StateTrace Run<T>(Sequential<T> model, Tensor<T> inputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        var quantities = new List<TracedQuantity>();
        Tensor<T> x = inputs;
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var layer = model.Layers[l];
            x = layer.Forward(x, training: false);
            if (layer is RecurrentLayer<T> recurrent) Collect(recurrent, l, "", quantities);
        }
        return new StateTrace(quantities, Copy(x.Span, x.Shape.ToArray()));
    }

    private static void Collect<T>(RecurrentLayer<T> layer, int index, string prefix, List<TracedQuantity> into) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (layer)
        {
            case Bidirectional<T> both:
                Collect(both.Forwards, index, prefix + "forward ", into);
                Collect(both.Backwards, index, prefix + "backward ", into);
                break;
            case GatedRecurrentLayer<T> gated:
                int h = gated.HiddenSize;
                into.Add(new(index, prefix + Hidden, Columns(gated.TracedHidden!, 0, h)));
                if (gated.TracedCell is { } cell) into.Add(new(index, prefix + Cell, Columns(cell, 0, h)));
                if (gated is Lstm<T>)
                {
                    for (int k = 0; k < LstmGates.Count; k++) into.Add(new(index, prefix + LstmGates[k], Columns(gated.TracedGates!, k * h, h)));
                }
                break;
            case Jordan<T> jordan:
                into.Add(new(index, prefix + Hidden, Columns(jordan.TracedHidden!, 0, jordan.HiddenSize)));
                into.Add(new(index, prefix + JordanOutput, Columns(jordan.TracedOutputs!, 0, jordan.OutputUnits)));
                break;
            default:
                throw new NotSupportedException($"cannot trace a {layer.GetType().Name.Split('`')[0]} layer");
        }
    }

    /// <summary>Columns <c>[offset, offset + width)</c> of a <c>[B, T, S]</c> buffer as <c>[B, T, width]</c> in double.</summary>
    private static Tensor<double> Columns<T>(Tensor<T> source, int offset, int width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = source.Dim(0), time = source.Dim(1), stride = source.Dim(2);
        var result = new Tensor<double>(batch, time, width);
        ReadOnlySpan<T> from = source.Span;
        Span<double> to = result.Span;
        for (int r = 0; r < batch * time; r++)
        {
            for (int u = 0; u < width; u++) to[(r * width) + u] = double.CreateChecked(from[(r * stride) + offset + u]);
        }
        return result;
    }

    private static Tensor<double> Copy<T>(ReadOnlySpan<T> values, int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new Tensor<double>(shape);
        for (int i = 0; i < values.Length; i++) result.Span[i] = double.CreateChecked(values[i]);
        return result;
    }
}
