using System.Globalization;
using System.Numerics;
using Carry.Analysis;
using Carry.Arithmetic;
using Carry.Cli.Commands;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;
using Carry.Training;

namespace Carry.Cli.Pictures;

/// <summary>
/// <c>carry train --epochs-snapshots DIR</c>: after every epoch, the hidden states of the same
/// random additions projected by PCA (as <c>carry inspect --states</c>) to <c>DIR/epoch-NNN.png</c>,
/// so that the carry clusters can be watched forming. Each epoch has its own PCA basis: compare
/// how separated the clusters are, not where they sit.
/// </summary>
internal sealed class StateSnapshots : ITrainingCallback
{
    private const int Samples = 200;
    private readonly Sequential<float> _model;
    private readonly TaskInfo _task;
    private readonly string _folder;
    private readonly IReadOnlyList<(BigInteger A, BigInteger B)> _pairs;
    private readonly Tensor<float> _inputs;

    /// <param name="model">The model being trained.</param>
    /// <param name="task">Its task (encoding and width).</param>
    /// <param name="folder">Where the pictures go (created if missing).</param>
    /// <param name="seed">Seed of the fixed random additions.</param>
    public StateSnapshots(Sequential<float> model, TaskInfo task, string folder, ulong seed)
    {
        _model = model;
        _task = task;
        _folder = folder;
        var random = new RandomGenerator(seed + 3);
        _pairs = Enumerable.Range(0, Samples).Select(_ => (RandomBits.Next(task.Bits, random), RandomBits.Next(task.Bits, random))).ToList();
        _inputs = AdderModels.Encode(task, _pairs);
        Directory.CreateDirectory(folder);
    }

    /// <inheritdoc />
    public void OnEpochEnd(EpochSummary summary, TrainingControl control)
    {
        string path = Path.Combine(_folder, string.Create(CultureInfo.InvariantCulture, $"epoch-{summary.Epoch + 1:D3}.png"));
        var exact = summary.Find(MetricNames.Exact);
        string title = string.Create(CultureInfo.InvariantCulture,
            $"epoch {summary.Epoch + 1}: loss {summary.Loss:F4}{(exact is { } e ? $", exact {100 * e:0.#}%" : "")}");
        InspectCommand.WriteStates(_model, _task, _pairs, _inputs, title, path);
    }
}
