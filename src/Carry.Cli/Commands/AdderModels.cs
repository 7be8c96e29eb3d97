using System.Numerics;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Cli.Commands;

/// <summary>Builds adder models from <see cref="TrainSettings"/> and the data they train on.</summary>
internal static class AdderModels
{
    /// <summary>
    /// The model: <c>Layers</c> recurrent layers (each bidirectional if asked; every one but the
    /// last returns sequences for concat, all of them for aligned), dropout, then
    /// <c>Dense(→bits+1, sigmoid)</c> on the last output (concat) or <c>Dense(→1, sigmoid)</c> per step (aligned).
    /// </summary>
    public static Sequential<float> Build(TrainSettings s)
    {
        bool aligned = s.Encoding == AlignedEncoding.Name;
        var model = new Sequential<float>();
        int features = aligned ? 2 : 1;
        for (int l = 0; l < s.Layers; l++)
        {
            bool sequences = aligned || l < s.Layers - 1;
            var spec = new LayerSpec
            {
                Kind = s.Cell,
                InputSize = features,
                Units = s.Hidden,
                OutputSize = s.Cell == LayerKinds.Jordan ? s.Hidden : 0,
                Activation = s.Cell is LayerKinds.Elman or LayerKinds.Jordan ? s.Activation : null,
                OutputActivation = s.Cell == LayerKinds.Jordan ? "sigmoid" : null,
                ReturnSequences = sequences,
            };
            var layer = (RecurrentLayer<float>)spec.Create<float>();
            if (s.Bidirectional) layer = new Bidirectional<float>(layer);
            model.Add(layer);
            features = layer.OutputSize;
        }
        if (s.Dropout > 0) model.Add(new Dropout<float>(s.Dropout, s.Seed + 1));
        model.Add(new Dense<float>(features, aligned ? 1 : s.Bits + 1, Activation.Sigmoid));
        return model;
    }

    /// <summary>The task a model of these settings solves (stored in the file).</summary>
    public static TaskInfo Task(TrainSettings s) => new(s.Encoding, s.Bits);

    /// <summary>Per-sample input shape of a task: concat <c>[2·bits, 1]</c>, aligned <c>[bits+1, 2]</c>.</summary>
    public static int[] InputShape(TaskInfo task) => task.Encoding == AlignedEncoding.Name
        ? [AlignedEncoding.Steps(task.Bits), 2]
        : [2 * task.Bits, 1];

    /// <summary>Encodes pairs for a model's task.</summary>
    public static Tensor<float> Encode(TaskInfo task, IReadOnlyList<(BigInteger A, BigInteger B)> pairs) => task.Encoding == AlignedEncoding.Name
        ? AlignedEncoding.Batch<float>(pairs, AlignedEncoding.Steps(task.Bits)).Inputs
        : ConcatEncoding.Batch<float>(pairs, task.Bits).Inputs;

    /// <summary>Reads the sums out of a prediction for <paramref name="task"/>.</summary>
    public static BigInteger[] Decode(TaskInfo task, Tensor<float> prediction)
    {
        int n = prediction.Dim(0), per = prediction.Length / n;
        var sums = new BigInteger[n];
        for (int i = 0; i < n; i++)
        {
            var row = prediction.Span.Slice(i * per, per);
            sums[i] = task.Encoding == AlignedEncoding.Name ? AlignedEncoding.Decode<float>(row) : ConcatEncoding.Decode<float>(row);
        }
        return sums;
    }

    /// <summary>Loads a model that was trained for an addition task, or throws <see cref="UsageException"/>.</summary>
    public static (LoadedModel<float> Loaded, TaskInfo Task) LoadAdder(string path)
    {
        var loaded = ModelFile.Load<float>(path);
        var task = loaded.Metadata.Task ?? throw new UsageException($"{path}: the model records no addition task (encoding and bit width).");
        if (task.Encoding == ConcatEncoding.Name && task.Bits > 4096) throw new UsageException($"{path}: {task.Bits} bits is too wide for a concat model.");
        return (loaded, task);
    }
}
