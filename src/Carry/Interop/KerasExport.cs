using System.Text.Json;
using System.Text.Json.Nodes;
using Carry.Layers;
using PureHDF;

namespace Carry.Interop;

/// <summary>
/// Writes a Carry model as a Keras HDF5 model file in tf.keras 2.x's layout, so that
/// <c>keras.models.load_model("x.h5")</c> opens it: root attributes <c>model_config</c> (a
/// Sequential with an InputLayer), <c>keras_version</c> and <c>backend</c>; under
/// <c>model_weights</c> one group per layer with its <c>weight_names</c>, recurrent weights under
/// <c>{layer}/{layer}/{layer}_cell/kernel:0</c>, dense ones under <c>{layer}/{layer}/kernel:0</c>.
/// The two PyTorch biases of a recurrent layer become Keras's one (their sum; for a reset-after GRU,
/// Keras's <c>[2, 3H]</c> input and recurrent halves). No optimizer state is written.
/// </summary>
public static class KerasExport
{
    /// <summary>The Keras version the file claims: the tf.keras release whose layout it follows.</summary>
    public const string KerasVersion = "2.8.0";

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>.</summary>
    /// <param name="model">The model (float32 in the file whatever its precision).</param>
    /// <param name="path">The .h5 file to write (replaced atomically).</param>
    /// <param name="inputShape">Per-sample input shape <c>[time, features]</c> for the InputLayer, -1 for an open length (e.g. <c>[16, 1]</c>).</param>
    /// <exception cref="KerasFormatException">A layer Keras has no equivalent for (Jordan, bidirectional, Keras 3's hard sigmoid).</exception>
    public static void Save<T>(Sequential<T> model, string path, int[] inputShape) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(inputShape);
        var names = new List<string>();
        var seen = new Dictionary<string, int>();
        var input = InputLayer(model.Layers.Count > 0 ? model.Layers[0].Spec : null, inputShape);
        var configs = new JsonArray { (JsonNode)input }; // JsonNode, not JsonArray.Add<T>: that one reflects (trimming, AOT)
        var weights = new H5Group();
        foreach (var layer in model.Layers)
        {
            var spec = layer.Spec;
            string baseName = spec.Kind is LayerKinds.Jordan or LayerKinds.Bidirectional
                ? throw new KerasFormatException(path, $"a {spec.Kind} layer has no Keras equivalent that Carry writes.")
                : KerasLayout.BaseName(spec.Kind);
            int k = seen.TryGetValue(baseName, out int c) ? c : 0;
            seen[baseName] = k + 1;
            string name = k == 0 ? baseName : $"{baseName}_{k}";
            names.Add(name);
            var config = LayerConfig(spec, name, path);
            if (configs.Count == 1) config["batch_input_shape"] = input["config"]!["batch_input_shape"]!.DeepClone(); // tf.keras repeats it on the first layer
            configs.Add((JsonNode)new JsonObject { ["class_name"] = KerasLayout.ClassName(spec.Kind), ["config"] = config });
            weights[name] = LayerGroup(layer, spec, name);
        }
        weights.Attributes["backend"] = "tensorflow";
        weights.Attributes["keras_version"] = KerasVersion;
        weights.Attributes["layer_names"] = names.ToArray();
        weights["top_level_model_weights"] = new H5Group { Attributes = { ["weight_names"] = Array.Empty<double>() } };
        var modelConfig = new JsonObject { ["class_name"] = "Sequential", ["config"] = new JsonObject { ["name"] = "sequential", ["layers"] = configs } };
        var file = new H5File { ["model_weights"] = weights };
        file.Attributes["backend"] = "tensorflow";
        file.Attributes["keras_version"] = KerasVersion;
        file.Attributes["model_config"] = modelConfig.ToJsonString();
        string temporary = path + ".tmp";
        file.Write(temporary);
        File.Move(temporary, path, overwrite: true);
    }

    private static JsonObject InputLayer(LayerSpec? first, int[] inputShape)
    {
        // Keras feeds an Embedding [batch, time] indices where Carry has [batch, time, 1].
        var shape = new JsonArray { null };
        var dims = first?.Kind == LayerKinds.Embedding ? inputShape[..^1] : inputShape;
        foreach (int d in dims) shape.Add(d < 0 ? null : (JsonNode)d);
        return new JsonObject
        {
            ["class_name"] = "InputLayer",
            ["config"] = new JsonObject { ["batch_input_shape"] = shape, ["dtype"] = "float32", ["sparse"] = false, ["ragged"] = false, ["name"] = $"{KerasLayout.BaseName(first?.Kind ?? "input")}_input" },
        };
    }

    /// <summary>The layer's Keras config: the keys tf.keras 2.8 writes for it.</summary>
    private static JsonObject LayerConfig(LayerSpec spec, string name, string path)
    {
        var config = new JsonObject { ["name"] = name, ["trainable"] = true, ["dtype"] = "float32" };
        switch (spec.Kind)
        {
            case LayerKinds.Dropout:
                config["rate"] = spec.Rate;
                config["noise_shape"] = null;
                config["seed"] = null;
                break;
            case LayerKinds.RepeatVector:
                config["n"] = spec.Repeats;
                break;
            case LayerKinds.Activation:
                config["activation"] = KerasActivation(spec.Activation!, name, path);
                break;
            case LayerKinds.Embedding:
                config["input_dim"] = spec.InputSize;
                config["output_dim"] = spec.Units;
                config["embeddings_initializer"] = Initializer("RandomUniform", new JsonObject { ["minval"] = -0.05, ["maxval"] = 0.05, ["seed"] = null });
                config["embeddings_regularizer"] = null;
                config["activity_regularizer"] = null;
                config["embeddings_constraint"] = null;
                config["mask_zero"] = false;
                config["input_length"] = null;
                break;
            case LayerKinds.Dense:
                config["units"] = spec.Units;
                config["activation"] = KerasActivation(spec.Activation ?? "identity", name, path);
                config["use_bias"] = spec.Bias;
                config["kernel_initializer"] = Initializer("GlorotUniform", new JsonObject { ["seed"] = null });
                config["bias_initializer"] = Initializer("Zeros", []);
                NoRegularizers(config, recurrent: false);
                break;
            default: // elman, lstm, gru
                foreach (var flag in new[] { "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "time_major" }) config[flag] = flag == "return_sequences" && spec.ReturnSequences;
                config["units"] = spec.Units;
                config["activation"] = KerasActivation(spec.Kind == LayerKinds.Elman ? spec.Activation ?? "tanh" : "tanh", name, path);
                if (spec.Kind != LayerKinds.Elman) config["recurrent_activation"] = KerasActivation(spec.RecurrentActivation ?? "sigmoid", name, path);
                config["use_bias"] = spec.Bias;
                config["kernel_initializer"] = Initializer("GlorotUniform", new JsonObject { ["seed"] = null });
                config["recurrent_initializer"] = Initializer("Orthogonal", new JsonObject { ["gain"] = 1.0, ["seed"] = null });
                config["bias_initializer"] = Initializer("Zeros", []);
                if (spec.Kind == LayerKinds.Lstm) config["unit_forget_bias"] = true;
                NoRegularizers(config, recurrent: true);
                config["dropout"] = 0.0;
                config["recurrent_dropout"] = 0.0;
                if (spec.Kind != LayerKinds.Elman) config["implementation"] = 2;
                if (spec.Kind == LayerKinds.Gru) config["reset_after"] = spec.ResetAfter;
                break;
        }
        return config;
    }

    /// <summary>The regularizer and constraint keys tf.keras writes, all null (Carry has none).</summary>
    private static void NoRegularizers(JsonObject config, bool recurrent)
    {
        foreach (var key in new[] { "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint" }) config[key] = null;
        if (!recurrent) return;
        config["recurrent_regularizer"] = null;
        config["recurrent_constraint"] = null;
    }

    private static JsonObject Initializer(string className, JsonObject config) => new() { ["class_name"] = className, ["config"] = config };

    /// <summary>Carry's activation name as tf.keras 2.x spells it.</summary>
    private static string KerasActivation(string name, string layer, string path) => name switch
    {
        "identity" => "linear",
        "sigmoid" or "tanh" or "relu" or "hard_sigmoid" or "softmax" => name,
        _ => throw new KerasFormatException(path, $"layer '{layer}': activation '{name}' has no tf.keras 2 equivalent."),
    };

    /// <summary><c>model_weights/{name}</c>: the <c>weight_names</c> attribute and the datasets it names.</summary>
    private static H5Group LayerGroup<T>(Layer<T> layer, LayerSpec spec, string name) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var group = new H5Group();
        var values = layer.Parameters.ToDictionary(p => p.Name, p => p.Value.Span.ToArray().Select(float.CreateChecked).ToArray());
        var items = new List<(string Name, float[] Data, ulong[] Dims)>();
        string prefix = spec.Kind is LayerKinds.Elman or LayerKinds.Lstm or LayerKinds.Gru ? $"{name}/{KerasLayout.BaseName(spec.Kind)}_cell/" : $"{name}/";
        switch (spec.Kind)
        {
            case LayerKinds.Embedding:
                items.Add(("embeddings:0", values["weight"], [(ulong)spec.InputSize, (ulong)spec.Units]));
                break;
            case LayerKinds.Dense:
                items.Add(("kernel:0", Kernel(values["weight"], spec.InputSize, spec.Units, [0]), [(ulong)spec.InputSize, (ulong)spec.Units]));
                if (spec.Bias) items.Add(("bias:0", values["bias"], [(ulong)spec.Units]));
                break;
            case LayerKinds.Elman or LayerKinds.Lstm or LayerKinds.Gru:
                int[] blocks = KerasLayout.KerasBlockOf(spec);
                int h = spec.Units, gh = blocks.Length * h;
                items.Add(("kernel:0", Kernel(values["weight_ih_l0"], spec.InputSize, h, blocks), [(ulong)spec.InputSize, (ulong)gh]));
                items.Add(("recurrent_kernel:0", Kernel(values["weight_hh_l0"], h, h, blocks), [(ulong)h, (ulong)gh]));
                if (spec.Bias) items.Add(Bias(spec, values["bias_ih_l0"], values["bias_hh_l0"], blocks));
                break;
        }
        if (items.Count == 0)
        {
            group.Attributes["weight_names"] = Array.Empty<double>(); // as Keras writes a layer without weights
            return group;
        }
        group.Attributes["weight_names"] = items.Select(i => $"{prefix}{i.Name}").ToArray();
        var inner = new H5Group();
        var target = inner;
        if (prefix.Count(ch => ch == '/') == 2)
        {
            target = new H5Group();
            inner[prefix.Split('/')[1]] = target;
        }
        foreach (var (itemName, data, dims) in items) target[itemName] = new H5Dataset(data, fileDims: dims);
        group[name] = inner;
        return group;
    }

    private static float[] Kernel(float[] weight, int rows, int hidden, int[] blocks)
    {
        var kernel = new float[weight.Length];
        KerasLayout.WeightToKernel(weight, rows, hidden, blocks, kernel);
        return kernel;
    }

    /// <summary>Keras's one bias: <c>b_ih + b_hh</c> per gate (they add in every equation but a reset-after GRU's n), or that GRU's <c>[2, 3H]</c>.</summary>
    private static (string, float[], ulong[]) Bias(LayerSpec spec, float[] biasIh, float[] biasHh, int[] blocks)
    {
        int gh = biasIh.Length;
        if (spec.Kind == LayerKinds.Gru && spec.ResetAfter)
        {
            var both = new float[2 * gh];
            KerasLayout.ReorderBias(biasIh, spec.Units, blocks, both.AsSpan(0, gh));
            KerasLayout.ReorderBias(biasHh, spec.Units, blocks, both.AsSpan(gh, gh));
            return ("bias:0", both, [2, (ulong)gh]);
        }
        var sum = new float[gh];
        System.Numerics.Tensors.TensorPrimitives.Add(biasIh, biasHh, sum);
        var bias = new float[gh];
        KerasLayout.ReorderBias(sum, spec.Units, blocks, bias);
        return ("bias:0", bias, [(ulong)gh]);
    }
}
