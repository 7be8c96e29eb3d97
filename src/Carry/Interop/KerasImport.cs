using System.Globalization;
using System.Text.Json;
using Carry.Layers;
using Carry.Numerics;
using PureHDF;
using PureHDF.VOL.Native;

namespace Carry.Interop;

/// <summary>A Keras model brought into Carry: the model with its weights, its layers, and where it came from.</summary>
/// <param name="Model">The model, weights loaded (float).</param>
/// <param name="Layers">Its layers' specs, in order.</param>
/// <param name="KerasVersion">The <c>keras_version</c> the file names (e.g. <c>2.8.0</c>).</param>
/// <param name="InputShape">Per-sample input shape from the file (<c>[time, features]</c>, -1 where Keras leaves it open), or null when the file names none.</param>
public sealed record KerasModel(Sequential<float> Model, IReadOnlyList<LayerSpec> Layers, string KerasVersion, int[]? InputShape);

/// <summary>
/// Reads a Keras HDF5 model file (<c>model.save("x.h5")</c>) with a managed HDF5 reader: the
/// architecture from the root attribute <c>model_config</c> (a Sequential model; in standalone
/// Keras 2.x files its config is a bare list of layers), each layer's weights from
/// <c>model_weights/{layer}</c> in the order of its <c>weight_names</c> attribute — whichever of
/// the layouts names them (<c>lstm_1/kernel:0</c>, <c>lstm/lstm_cell/kernel:0</c>, Keras 3's
/// <c>.../kernel</c>). Whatever Carry cannot represent is a <see cref="KerasFormatException"/>
/// naming the layer.
/// </summary>
public static class KerasImport
{
    /// <summary>Reads the model in <paramref name="path"/>.</summary>
    /// <exception cref="KerasFormatException">Not a Keras model file, or a layer or setting Carry cannot represent.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static KerasModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such Keras file.", path);
        NativeFile file;
        try
        {
            file = H5File.OpenRead(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new KerasFormatException(path, $"not an HDF5 file ({e.Message.ReplaceLineEndings(" ")})");
        }
        using (file)
        {
            try
            {
                return new Reader(path, file).Read();
            }
            catch (Exception e) when (e is not (KerasFormatException or OutOfMemoryException))
            {
                throw new KerasFormatException(path, $"cannot be read as a Keras model: {e.Message.ReplaceLineEndings(" ")}");
            }
        }
    }

    /// <summary>One file's reading: the configuration walked layer by layer, the width carried from each to the next.</summary>
    private sealed class Reader(string path, NativeFile file)
    {
        private readonly List<LayerSpec> _specs = [];
        private readonly List<Action<Layer<float>>> _loaders = []; // one per spec: copies the file's weights in
        private int _majorVersion;

        public KerasModel Read()
        {
            string config = StringAttribute(file, "model_config") ?? throw Fail("has no 'model_config' attribute: a weights-only file, or not a Keras model saved whole.");
            IH5Group weights = file.LinkExists("model_weights") ? file.Group("model_weights") : file;
            string version = StringAttribute(file, "keras_version") ?? StringAttribute(weights, "keras_version") ?? "unknown";
            _majorVersion = int.TryParse(version.Split('.')[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major) ? major : 2;
            using var json = JsonDocument.Parse(config, new JsonDocumentOptions { MaxDepth = 64 });
            var root = json.RootElement;
            string className = Text(root, "class_name") ?? "?";
            if (className != "Sequential") throw Fail($"the model is a Keras '{className}'; only Sequential models import.");
            var body = root.GetProperty("config");
            var layers = body.ValueKind == JsonValueKind.Array ? body : body.GetProperty("layers");
            int[]? inputShape = null;
            int width = -1; // features reaching the next layer; -1 before the first
            foreach (var entry in layers.EnumerateArray())
            {
                var layerConfig = entry.GetProperty("config");
                inputShape ??= InputShapeOf(layerConfig);
                if (width < 0 && inputShape is { Length: > 0 }) width = inputShape[^1];
                string kind = Text(entry, "class_name") ?? "?";
                if (kind == "InputLayer") continue;
                string name = Text(layerConfig, "name") ?? $"layer {_specs.Count}";
                var layerWeights = WeightsOf(weights, name);
                width = AddLayer(kind, name, layerConfig, layerWeights, width);
            }
            if (_specs.Count == 0) throw Fail("the model has no layers.");
            var model = new Sequential<float>();
            for (int i = 0; i < _specs.Count; i++)
            {
                model.Add(_specs[i].Create<float>());
                _loaders[i](model.Layers[i]);
            }
            int first = _specs[0].InputFeatures;
            try
            {
                model.OutputShape([Math.Max(1, inputShape is { Length: 2 } && inputShape[0] > 0 ? inputShape[0] : 1), first > 0 ? first : Math.Max(1, width)]);
            }
            catch (ArgumentException e)
            {
                throw Fail($"the layers do not fit together in Carry: {e.Message}");
            }
            return new KerasModel(model, model.Layers.Select(l => l.Spec).ToArray(), version, inputShape);
        }

        /// <summary>Maps one Keras layer onto Carry's (a softmax Dense becomes Dense + Activation); returns its output width.</summary>
        private int AddLayer(string kind, string name, JsonElement config, Dictionary<string, Weight> weights, int width)
        {
            string where = $"layer '{name}' ({kind})";
            switch (kind)
            {
                case "Dropout":
                    Add(new LayerSpec { Kind = LayerKinds.Dropout, Rate = Number(config, "rate", where) }, _ => { });
                    return width;
                case "RepeatVector":
                    Add(new LayerSpec { Kind = LayerKinds.RepeatVector, Repeats = (int)Number(config, "n", where), Bias = false }, _ => { });
                    return width;
                case "Activation":
                    Add(new LayerSpec { Kind = LayerKinds.Activation, Activation = ActivationName(config, "activation", where, softmax: true), Bias = false }, _ => { });
                    return width;
                case "Softmax":
                    if (config.TryGetProperty("axis", out var axis) && !(axis.ValueKind == JsonValueKind.Number && axis.GetInt32() == -1)) throw Fail($"{where}: a softmax over axis {axis} (Carry's is over the last axis).");
                    Add(new LayerSpec { Kind = LayerKinds.Activation, Activation = ActivationLayer<float>.SoftmaxName, Bias = false }, _ => { });
                    return width;
                case "Embedding":
                    return AddEmbedding(config, weights, where);
                case "Dense":
                    return AddDense(config, weights, where);
                case "TimeDistributed":
                    var inner = config.GetProperty("layer");
                    if (Text(inner, "class_name") != "Dense") throw Fail($"{where}: wraps a {Text(inner, "class_name")}; Carry applies only Dense per step.");
                    return AddDense(inner.GetProperty("config"), weights, where);
                case "SimpleRNN" or "LSTM" or "GRU":
                    return AddRecurrent(kind, config, weights, where);
                default:
                    throw Fail($"{where}: Carry has no such layer (it imports InputLayer, Embedding, SimpleRNN, LSTM, GRU, Dense, TimeDistributed(Dense), Dropout, RepeatVector, Activation, Softmax).");
            }
        }

        private int AddEmbedding(JsonElement config, Dictionary<string, Weight> weights, string where)
        {
            if (Flag(config, "mask_zero")) throw Fail($"{where}: mask_zero=True masks the steps whose index is 0, and Carry has no mask; save the model with mask_zero=False or without padding.");
            int vocab = (int)Number(config, "input_dim", where), dim = (int)Number(config, "output_dim", where);
            var table = Need(weights, "embeddings", where, vocab, dim);
            Add(new LayerSpec { Kind = LayerKinds.Embedding, InputSize = vocab, Units = dim, Bias = false },
                layer => table.Values.CopyTo(((Embedding<float>)layer).Weight.Value.Span));
            return dim;
        }

        private int AddDense(JsonElement config, Dictionary<string, Weight> weights, string where)
        {
            int units = (int)Number(config, "units", where);
            bool useBias = !config.TryGetProperty("use_bias", out var b) || b.GetBoolean();
            if (!weights.TryGetValue("kernel", out var kernel) || kernel.Shape.Length != 2) throw Fail($"{where}: has no 2-D kernel.");
            int inputs = kernel.Shape[0];
            Need(weights, "kernel", where, inputs, units);
            Weight? bias = useBias ? Need(weights, "bias", where, units) : null;
            string activation = ActivationName(config, "activation", where, softmax: true);
            bool softmax = activation == ActivationLayer<float>.SoftmaxName;
            Add(new LayerSpec { Kind = LayerKinds.Dense, InputSize = inputs, Units = units, Activation = softmax ? "identity" : activation, Bias = useBias }, layer =>
            {
                var dense = (Dense<float>)layer;
                KerasLayout.KernelToWeight(kernel.Values, inputs, units, [0], dense.Weight.Value.Span);
                bias?.Values.CopyTo(dense.Bias!.Value.Span);
            });
            if (softmax) Add(new LayerSpec { Kind = LayerKinds.Activation, Activation = ActivationLayer<float>.SoftmaxName, Bias = false }, _ => { });
            return units;
        }

        private int AddRecurrent(string kind, JsonElement config, Dictionary<string, Weight> weights, string where)
        {
            foreach (var flag in new[] { "stateful", "go_backwards", "return_state", "time_major" })
            {
                if (Flag(config, flag)) throw Fail($"{where}: {flag}=True has no Carry equivalent.");
            }
            foreach (var rate in new[] { "dropout", "recurrent_dropout" })
            {
                if (config.TryGetProperty(rate, out var r) && r.ValueKind == JsonValueKind.Number && r.GetDouble() != 0)
                {
                    throw Fail($"{where}: {rate}={r.GetDouble().ToString(CultureInfo.InvariantCulture)} inside the recurrent layer has no Carry equivalent (use a Dropout layer).");
                }
            }
            int units = (int)Number(config, "units", where);
            bool useBias = !config.TryGetProperty("use_bias", out var ub) || ub.GetBoolean();
            bool sequences = Flag(config, "return_sequences");
            string carryKind = kind switch { "SimpleRNN" => LayerKinds.Elman, "LSTM" => LayerKinds.Lstm, _ => LayerKinds.Gru };
            string activation = ActivationName(config, "activation", where, softmax: false);
            if (carryKind != LayerKinds.Elman && activation != "tanh") throw Fail($"{where}: activation '{activation}'; Carry's {kind} uses tanh.");
            string? recurrentActivation = carryKind == LayerKinds.Elman ? null : LayerSpec.RecurrentActivationName(Activations.Parse(ActivationName(config, "recurrent_activation", where, softmax: false)));
            // reset_after: absent in Keras 2.0–2.1 files, where the GRU reset before the product.
            bool resetAfter = carryKind == LayerKinds.Gru && config.TryGetProperty("reset_after", out var ra) && ra.GetBoolean();
            if (!weights.TryGetValue("kernel", out var kernel) || kernel.Shape.Length != 2) throw Fail($"{where}: has no 2-D kernel.");
            var spec = new LayerSpec
            {
                Kind = carryKind, InputSize = kernel.Shape[0], Units = units, Bias = useBias, ReturnSequences = sequences,
                Activation = carryKind == LayerKinds.Elman ? activation : null, RecurrentActivation = recurrentActivation, ResetAfter = carryKind != LayerKinds.Gru || resetAfter,
            };
            int[] blocks = KerasLayout.KerasBlockOf(spec);
            int gh = blocks.Length * units, inputs = spec.InputSize;
            Need(weights, "kernel", where, inputs, gh);
            var recurrent = Need(weights, "recurrent_kernel", where, units, gh);
            Weight? bias = !useBias ? null : resetAfter ? Need(weights, "bias", where, 2, gh) : Need(weights, "bias", where, gh);
            Add(spec, layer =>
            {
                var rnn = (GatedRecurrentLayer<float>)layer;
                KerasLayout.KernelToWeight(kernel.Values, inputs, units, blocks, rnn.WeightIh.Value.Span);
                KerasLayout.KernelToWeight(recurrent.Values, units, units, blocks, rnn.WeightHh.Value.Span);
                if (bias is null) return;
                // One Keras bias: all of it input-side, the recurrent one zero; reset_after's [2, 3H]: the input half, then the recurrent half.
                KerasLayout.ReorderBias(bias.Values.AsSpan(0, gh), units, blocks, rnn.BiasIh!.Value.Span);
                if (resetAfter) KerasLayout.ReorderBias(bias.Values.AsSpan(gh, gh), units, blocks, rnn.BiasHh!.Value.Span);
                else rnn.BiasHh!.Value.Fill(0f);
            });
            return units;
        }

        private void Add(LayerSpec spec, Action<Layer<float>> load)
        {
            _specs.Add(spec);
            _loaders.Add(load);
        }

        /// <summary>An activation's Carry name, with <c>hard_sigmoid</c> as the file's Keras version defines it.</summary>
        private string ActivationName(JsonElement config, string key, string where, bool softmax)
        {
            if (!config.TryGetProperty(key, out var value)) return key == "recurrent_activation" ? (_majorVersion >= 3 ? "sigmoid" : "hard_sigmoid") : "tanh";
            string name = value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Fail($"{where}: {key} is not a built-in activation ({Clip(value.GetRawText())}).");
            return name switch
            {
                "linear" => "identity",
                "hard_sigmoid" => _majorVersion >= 3 ? "hard_sigmoid_v3" : "hard_sigmoid",
                "softmax" when softmax => ActivationLayer<float>.SoftmaxName,
                "sigmoid" or "tanh" or "relu" => name,
                _ => throw Fail($"{where}: {key} '{Clip(name)}' has no Carry equivalent (Carry has linear, sigmoid, tanh, relu, hard_sigmoid{(softmax ? ", softmax" : "")})."),
            };
        }

        /// <summary>The weights of one layer group, by the last part of each name in <c>weight_names</c> (<c>kernel</c>, <c>recurrent_kernel</c>, <c>bias</c>, <c>embeddings</c>).</summary>
        private Dictionary<string, Weight> WeightsOf(IH5Group weights, string name)
        {
            var found = new Dictionary<string, Weight>(StringComparer.Ordinal);
            if (!weights.LinkExists(name)) return found;
            var group = weights.Group(name);
            if (!group.AttributeExists("weight_names")) return found;
            var attribute = group.Attribute("weight_names");
            if (!IsString(attribute.Type)) return found; // Keras writes an empty float array for a layer without weights
            foreach (var weightName in attribute.Read<string[]>())
            {
                string key = weightName.Split('/')[^1];
                if (key.EndsWith(":0", StringComparison.Ordinal)) key = key[..^2];
                var dataset = group.Dataset(weightName);
                int[] shape = dataset.Space.Dimensions.Select(d => checked((int)d)).ToArray();
                float[] values = dataset.Type.Class == H5DataTypeClass.FloatingPoint && dataset.Type.Size == 8
                    ? dataset.Read<double[]>().Select(v => (float)v).ToArray()
                    : dataset.Type.Class == H5DataTypeClass.FloatingPoint && dataset.Type.Size == 4
                        ? dataset.Read<float[]>()
                        : throw Fail($"layer '{name}': weight '{weightName}' is not float32 or float64.");
                found[key] = new Weight(weightName, shape, values);
            }
            return found;
        }

        /// <summary>The weight <paramref name="key"/> with exactly <paramref name="shape"/>, or a line naming the layer.</summary>
        private Weight Need(Dictionary<string, Weight> weights, string key, string where, params int[] shape)
        {
            if (!weights.TryGetValue(key, out var w)) throw Fail($"{where}: the file has no '{key}' weight for it.");
            if (!w.Shape.SequenceEqual(shape)) throw Fail($"{where}: weight '{w.Name}' has shape ({string.Join(", ", w.Shape)}), but its config needs ({string.Join(", ", shape)}).");
            return w;
        }

        /// <summary>The per-sample input shape a layer's config declares (<c>batch_input_shape</c>, Keras 3's <c>batch_shape</c>), null for open dims → -1.</summary>
        private static int[]? InputShapeOf(JsonElement config)
        {
            foreach (var key in new[] { "batch_input_shape", "batch_shape" })
            {
                if (config.TryGetProperty(key, out var shape) && shape.ValueKind == JsonValueKind.Array)
                {
                    return shape.EnumerateArray().Skip(1).Select(d => d.ValueKind == JsonValueKind.Number ? d.GetInt32() : -1).ToArray();
                }
            }
            return null;
        }

        private KerasFormatException Fail(string problem) => new(path, problem);

        private double Number(JsonElement config, string key, string where)
            => config.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Fail($"{where}: its config has no number '{key}'.");

        private static bool Flag(JsonElement config, string key) => config.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;

        private static string? Text(JsonElement element, string key) => element.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        private static string Clip(string text) => text.Length <= 60 ? text : text[..60] + "...";

        private static string? StringAttribute(IH5Object owner, string name)
            => owner.AttributeExists(name) && owner.Attribute(name) is { } a && IsString(a.Type) ? a.Read<string>() : null;

        /// <summary>A fixed-length string (old h5py, bytes) or a variable-length one (h5py 3's <c>str</c>).</summary>
        private static bool IsString(IH5DataType type) => type.Class is H5DataTypeClass.String or H5DataTypeClass.VariableLength;
    }

    /// <summary>One dataset of a layer group: its name in the file, shape and values (row-major).</summary>
    private sealed record Weight(string Name, int[] Shape, float[] Values);
}
