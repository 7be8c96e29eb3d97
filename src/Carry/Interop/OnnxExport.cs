using System.Numerics;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;
using Google.Protobuf;
using Onnx;

namespace Carry.Interop;

/// <summary>
/// The state of one recurrent layer as an exported graph takes and gives it, in ONNX's layout
/// <c>[directions, batch, hidden]</c>: feed <see cref="FinalHidden"/> (and <see cref="FinalCell"/>)
/// of one chunk as <see cref="InitialHidden"/> (and <see cref="InitialCell"/>) of the next to
/// stream a long sequence.
/// </summary>
/// <param name="Layer">Index of the layer in the model (as in <c>layers.{index}.*</c>).</param>
/// <param name="Directions">1, or 2 for a bidirectional layer (forward first).</param>
/// <param name="HiddenSize">Hidden units per direction, H.</param>
/// <param name="InitialHidden">Graph input <c>h0_{layer}</c>.</param>
/// <param name="FinalHidden">Graph output <c>hn_{layer}</c>.</param>
/// <param name="InitialCell">Graph input <c>c0_{layer}</c> (LSTM), else null.</param>
/// <param name="FinalCell">Graph output <c>cn_{layer}</c> (LSTM), else null.</param>
public sealed record OnnxState(int Layer, int Directions, int HiddenSize, string InitialHidden, string FinalHidden, string? InitialCell, string? FinalCell);

/// <summary>
/// Writes a model as an ONNX graph (opset 14) with ONNX's own <c>RNN</c>, <c>LSTM</c> and
/// <c>GRU</c> operators, so that any ONNX runtime runs it. The graph reads <c>input</c>
/// <c>[batch, time, features]</c> and each recurrent layer's initial state, and gives
/// <c>output</c> (<c>[batch, out]</c> or <c>[batch, time, out]</c>, as Carry's model does) and
/// each recurrent layer's final state (<see cref="States{T}"/>). Weights are written as float32.
/// Elman (any of Carry's activations), LSTM, GRU (PyTorch's form, <c>linear_before_reset=1</c>),
/// bidirectional layers of those, Dense and Dropout (the identity at inference) export; Jordan
/// layers have no ONNX operator and are refused with <see cref="NotSupportedException"/>.
/// The protobuf classes are generated from onnx.proto3 (ONNX 1.23.0) by protoc (see Onnx/README.md).
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX operator set the graph uses.</summary>
    public const int Opset = 14;

    /// <summary>The ONNX IR version written (7 goes with opset 14).</summary>
    public const int IrVersion = 7;

    /// <summary>Name of the graph input <c>[batch, time, features]</c>.</summary>
    public const string InputName = "input";

    /// <summary>Name of the graph output.</summary>
    public const string OutputName = "output";

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically.</summary>
    /// <exception cref="NotSupportedException">A layer has no ONNX equivalent (Jordan), naming it.</exception>
    public static void Save<T>(string path, Sequential<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, ToBytes(model));
    }

    /// <summary>The ONNX model (a serialized <c>ModelProto</c>) for <paramref name="model"/>.</summary>
    /// <exception cref="NotSupportedException">A layer has no ONNX equivalent (Jordan), naming it.</exception>
    public static byte[] ToBytes<T>(Sequential<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Carry",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            Graph = BuildGraph(model),
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return proto.ToByteArray();
    }

    /// <summary>The recurrent states the exported graph of <paramref name="model"/> takes and gives, in layer order.</summary>
    public static IReadOnlyList<OnnxState> States<T>(Sequential<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var states = new List<OnnxState>();
        for (int k = 0; k < model.Layers.Count; k++)
        {
            if (model.Layers[k] is RecurrentLayer<T> r) states.Add(StateOf(k, r));
        }
        return states;
    }

    private static OnnxState StateOf<T>(int k, RecurrentLayer<T> layer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int directions = layer is Bidirectional<T> ? 2 : 1;
        return new OnnxState(k, directions, layer.StateSize / directions, $"h0_{k}", $"hn_{k}", layer.HasCell ? $"c0_{k}" : null, layer.HasCell ? $"cn_{k}" : null);
    }

    private static GraphProto BuildGraph<T>(Sequential<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = new GraphBuilder();
        var first = model.Layers.FirstOrDefault(l => l is not Dropout<T>)
            ?? throw new NotSupportedException("the model has no layer with weights to export.");
        int inputSize = first switch
        {
            Dense<T> d => d.InputSize,
            RecurrentLayer<T> r => r.InputSize,
            _ => throw Unsupported(0, first),
        };
        g.Input(InputName, "batch", "time", inputSize);
        // Inside the graph sequences run time-major [T, B, F], the layout of ONNX's recurrent operators.
        string current = g.Node("Transpose", [InputName], [g.Fresh("input_time_major")], Perm(1, 0, 2));
        bool sequence = true;
        int width = inputSize;
        for (int k = 0; k < model.Layers.Count; k++)
        {
            switch (model.Layers[k])
            {
                case Dropout<T>:
                    break;
                case Dense<T> dense:
                    CheckOptions(k, dense.Spec);
                    current = DenseNodes(g, dense, current);
                    width = dense.OutputSize;
                    break;
                case RecurrentLayer<T> r when sequence:
                    current = RecurrentNodes(g, k, r, current, out sequence);
                    width = r.OutputSize;
                    break;
                case var layer:
                    throw Unsupported(k, layer);
            }
        }
        if (sequence)
        {
            g.Node("Transpose", [current], [OutputName], Perm(1, 0, 2));
            g.Output(OutputName, "batch", "time", width);
        }
        else
        {
            g.Node("Identity", [current], [OutputName]);
            g.Output(OutputName, "batch", width);
        }
        return g.Graph;
    }

    private static NotSupportedException Unsupported<T>(int k, Layer<T> layer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string kind = layer.Spec.Inner is { } inner ? $"{layer.Spec.Kind} {inner.Kind}" : layer.Spec.Kind;
        if (kind.EndsWith(LayerKinds.Jordan, StringComparison.Ordinal))
        {
            return new NotSupportedException($"layer {k} ({kind}) has no ONNX operator: ONNX's RNN feeds back the hidden state, a Jordan layer its output; it cannot be exported to ONNX.");
        }
        return layer is RecurrentLayer<T>
            ? new NotSupportedException($"layer {k} ({kind}) cannot be exported to ONNX here: it follows a layer that returns only the last step, and a recurrent layer needs a sequence.")
            : new NotSupportedException($"layer {k} ({kind}): Carry's ONNX export does not write this kind of layer.");
    }

    /// <summary>
    /// Refuses a layer whose spec carries an option this export does not write (so that a layer
    /// option added later is never dropped silently): the spec must equal the plain one rebuilt
    /// from the fields below.
    /// </summary>
    private static void CheckOptions(int k, LayerSpec spec)
    {
        var plain = new LayerSpec
        {
            Kind = spec.Kind, InputSize = spec.InputSize, Units = spec.Units, Activation = spec.Activation,
            Bias = spec.Bias, ReturnSequences = spec.ReturnSequences,
        };
        if (spec != plain)
        {
            throw new NotSupportedException($"layer {k} ({spec.Kind}) has options the ONNX export does not write: {System.Text.Json.JsonSerializer.Serialize(spec, ModelFile.Json.For<LayerSpec>())}");
        }
    }

    // y = f(x · Wᵀ + b)   x [.., in], Wᵀ [in, out]
    private static string DenseNodes<T>(GraphBuilder g, Dense<T> dense, string x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int o = dense.OutputSize, i = dense.InputSize;
        var w = dense.Weight.Value.Span;
        var wT = new float[i * o]; // [in, out]
        for (int r = 0; r < o; r++)
        {
            for (int c = 0; c < i; c++) wT[(c * o) + r] = float.CreateChecked(w[(r * i) + c]);
        }
        string y = g.Node("MatMul", [x, g.Floats("dense_weight_t", wT, i, o)], [g.Fresh("dense_matmul")]);
        if (dense.Bias is { } bias) y = g.Node("Add", [y, g.Floats("dense_bias", ToFloat(bias.Value.Span), o)], [g.Fresh("dense_add")]);
        string? op = dense.ActivationFunction switch
        {
            Activation.Identity => null,
            Activation.Sigmoid => "Sigmoid",
            Activation.Tanh => "Tanh",
            Activation.Relu => "Relu",
            var a => throw new NotSupportedException($"dense activation '{a.Name()}' has no ONNX export."),
        };
        return op is null ? y : g.Node(op, [y], [g.Fresh("dense_" + op.ToLowerInvariant())]);
    }

    /// <summary>One ONNX RNN/LSTM/GRU node for a (possibly bidirectional) layer, and the reshape of its output.</summary>
    private static string RecurrentNodes<T>(GraphBuilder g, int k, RecurrentLayer<T> layer, string x, out bool sequence) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var directions = layer is Bidirectional<T> bi ? new[] { bi.Forwards, bi.Backwards } : [layer];
        if (directions[0] is not GatedRecurrentLayer<T> cell) throw Unsupported(k, layer);
        CheckOptions(k, cell.Spec);
        int d = directions.Length, h = cell.HiddenSize;
        var (op, order) = cell switch
        {
            // ONNX LSTM gates i, o, f, c from PyTorch's i, f, g, o; ONNX GRU z, r, h from PyTorch's r, z, n.
            Lstm<T> => ("LSTM", new[] { 0, 3, 1, 2 }),
            Gru<T> => ("GRU", new[] { 1, 0, 2 }),
            SimpleRnn<T> => ("RNN", new[] { 0 }),
            _ => throw Unsupported(k, layer),
        };
        var gated = directions.Cast<GatedRecurrentLayer<T>>().ToArray();
        int gh = order.Length * h;
        string w = g.Floats($"W_{k}", Stack(gated, l => l.WeightIh, order, h), d, gh, cell.InputSize);   // [D, G·H, I]
        string r = g.Floats($"R_{k}", Stack(gated, l => l.WeightHh, order, h), d, gh, h);                // [D, G·H, H]
        string b = cell.HasBias ? g.Floats($"B_{k}", StackBias(gated, order, h), d, 2 * gh) : "";       // [D, 2·G·H]: Wb then Rb
        var state = StateOf(k, layer);
        g.Input(state.InitialHidden, d, "batch", h);
        g.Output(state.FinalHidden, d, "batch", h);
        List<string> inputs = [x, w, r, b, "", state.InitialHidden];
        List<string> outputs = [layer.ReturnSequences ? g.Fresh($"Y_{k}") : "", state.FinalHidden];
        if (state.InitialCell is { } c0)
        {
            inputs.Add(c0);
            outputs.Add(state.FinalCell!);
            g.Input(c0, d, "batch", h);
            g.Output(state.FinalCell!, d, "batch", h);
        }
        var attributes = new List<AttributeProto> { Int("hidden_size", h), Text("direction", d == 2 ? "bidirectional" : "forward") };
        if (cell is SimpleRnn<T> elman) attributes.AddRange(ElmanActivation(elman.ActivationFunction, d));
        if (op == "GRU") attributes.Add(Int("linear_before_reset", 1)); // n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), PyTorch's form
        g.Node(op, inputs, outputs, [.. attributes]);
        sequence = layer.ReturnSequences;
        // Y [T, D, B, H] → [T, B, D·H];  Y_h [D, B, H] → [B, D·H]: forward then backward, as Carry concatenates.
        string merged = sequence
            ? g.Node("Transpose", [outputs[0]], [g.Fresh($"Y_{k}_tbdh")], Perm(0, 2, 1, 3))
            : g.Node("Transpose", [state.FinalHidden], [g.Fresh($"hn_{k}_bdh")], Perm(1, 0, 2));
        return g.Node("Reshape", [merged, g.Int64s($"shape_{k}", sequence ? [0, 0, -1] : [0, -1])], [g.Fresh($"layer_{k}_out")]);
    }

    /// <summary>ONNX RNN's activation list for Carry's Elman activation (the identity as Affine(1, 0)).</summary>
    private static IEnumerable<AttributeProto> ElmanActivation(Activation activation, int directions)
    {
        string name = activation switch
        {
            Activation.Tanh => "Tanh",
            Activation.Sigmoid => "Sigmoid",
            Activation.Relu => "Relu",
            Activation.Identity => "Affine",
            var a => throw new NotSupportedException($"Elman activation '{a.Name()}' has no ONNX RNN activation."),
        };
        var names = new AttributeProto { Name = "activations", Type = AttributeProto.Types.AttributeType.Strings };
        for (int i = 0; i < directions; i++) names.Strings.Add(ByteString.CopyFromUtf8(name));
        yield return names;
        if (activation != Activation.Identity) yield break;
        var alpha = new AttributeProto { Name = "activation_alpha", Type = AttributeProto.Types.AttributeType.Floats };
        var beta = new AttributeProto { Name = "activation_beta", Type = AttributeProto.Types.AttributeType.Floats };
        for (int i = 0; i < directions; i++)
        {
            alpha.Floats.Add(1f);
            beta.Floats.Add(0f);
        }
        yield return alpha;
        yield return beta;
    }

    /// <summary>Each direction's <c>[G·H, cols]</c> weight with its H-row gate blocks in ONNX's order, directions one after the other.</summary>
    private static float[] Stack<T>(GatedRecurrentLayer<T>[] layers, Func<GatedRecurrentLayer<T>, Parameter<T>> pick, int[] order, int h) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new List<float>();
        foreach (var layer in layers)
        {
            var value = pick(layer).Value;
            int block = h * value.Dim(1);
            foreach (int gate in order) result.AddRange(ToFloat(value.Span.Slice(gate * block, block)));
        }
        return [.. result];
    }

    private static float[] StackBias<T>(GatedRecurrentLayer<T>[] layers, int[] order, int h) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new List<float>();
        foreach (var layer in layers)
        {
            foreach (var bias in new[] { layer.BiasIh!, layer.BiasHh! })
            {
                foreach (int gate in order) result.AddRange(ToFloat(bias.Value.Span.Slice(gate * h, h)));
            }
        }
        return [.. result];
    }

    private static float[] ToFloat<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = float.CreateChecked(values[i]);
        return result;
    }

    private static AttributeProto Perm(params long[] perm)
    {
        var a = new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(perm);
        return a;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Text(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>Accumulates nodes, initializers and the graph's inputs and outputs.</summary>
    private sealed class GraphBuilder
    {
        private int _next;

        public GraphProto Graph { get; } = new() { Name = "carry" };

        /// <summary>A name not used before: <c>{hint}_{n}</c>.</summary>
        public string Fresh(string hint) => $"{hint}_{_next++}";

        public string Node(string op, IEnumerable<string> inputs, IReadOnlyList<string> outputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = Fresh(op) };
            node.Input.AddRange(inputs);
            node.Output.AddRange(outputs);
            node.Attribute.AddRange(attributes);
            Graph.Node.Add(node);
            return outputs[0];
        }

        public string Floats(string hint, float[] values, params long[] dims)
        {
            var tensor = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Float };
            tensor.Dims.AddRange(dims);
            tensor.FloatData.AddRange(values);
            Graph.Initializer.Add(tensor);
            return tensor.Name;
        }

        public string Int64s(string hint, long[] values)
        {
            var tensor = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.Add(values.Length);
            tensor.Int64Data.AddRange(values);
            Graph.Initializer.Add(tensor);
            return tensor.Name;
        }

        /// <summary>A float graph input; each dimension a size (int) or a symbolic name (string).</summary>
        public void Input(string name, params object[] dims) => Graph.Input.Add(Value(name, dims));

        /// <summary>A float graph output; each dimension a size (int) or a symbolic name (string).</summary>
        public void Output(string name, params object[] dims) => Graph.Output.Add(Value(name, dims));

        private static ValueInfoProto Value(string name, object[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
            {
                shape.Dim.Add(d is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = (int)d });
            }
            var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape };
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
        }
    }
}
