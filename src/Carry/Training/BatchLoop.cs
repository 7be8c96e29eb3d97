using System.Numerics;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Training;

/// <summary>
/// One epoch of minibatch training over fixed tensors: shuffle the sample order, then one
/// <see cref="Sequential{T}.TrainStep"/> per batch, reporting each to the loop. The batch
/// buffers are allocated once per shape, so a steady-state step allocates nothing.
/// </summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public sealed class BatchLoop<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private int[] _order = [];
    private Tensor<T>? _batchX, _batchY;

    /// <summary>
    /// True (default): every epoch shuffles on from the previous epoch's order, as Keras does.
    /// False: every epoch shuffles the order 0, 1, …, N−1 afresh (what <c>carry train</c> does,
    /// for data that may be drawn anew each epoch).
    /// </summary>
    public bool ContinueOrder { get; init; } = true;

    /// <summary>
    /// Trains one epoch on (<paramref name="inputs"/>, <paramref name="targets"/>) in batches of
    /// <see cref="FitOptions.BatchSize"/>, starting at <see cref="EpochContext.StartStep"/> when resuming.
    /// </summary>
    /// <param name="model">A compiled model.</param>
    /// <param name="inputs">Samples, batch-first: <c>[N, T, F]</c> or <c>[N, F]</c>.</param>
    /// <param name="targets">Targets: <c>[N, T, O]</c> or <c>[N, O]</c>.</param>
    /// <param name="context">The loop's epoch context.</param>
    /// <exception cref="TrainingDivergedException">A batch's loss was NaN or infinite.</exception>
    public EpochOutcome Run(Sequential<T> model, Tensor<T> inputs, Tensor<T> targets, EpochContext context)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options;
        int n = inputs.Dim(0);
        int batchSize = Math.Min(options.BatchSize, n);
        int batches = (n + batchSize - 1) / batchSize;
        StartOrder(n, context);
        int firstBatch = context.StartStep;
        if (firstBatch >= batches)
        {
            throw new ArgumentOutOfRangeException(nameof(context), firstBatch, $"The start step must be below the {batches} batches of an epoch.");
        }
        // Resuming mid-epoch: the order is already this epoch's, and the running loss is restored.
        if (options.Shuffle && firstBatch == 0) context.Shuffler.Shuffle(_order);
        context.BeginEpoch(batches);
        double lossSum = context.StartLossSum;
        int seen = firstBatch * batchSize;
        for (int b = firstBatch; b < batches; b++)
        {
            if (b > firstBatch && context.CancellationToken.IsCancellationRequested) return EpochOutcome.Cancel;
            int start = b * batchSize, count = Math.Min(batchSize, n - start);
            var (x, y) = Gather(inputs, targets, _order.AsSpan(start, count));
            double loss = double.CreateChecked(model.TrainStep(x, y, options.ClipValue, options.ClipNorm));
            if (!double.IsFinite(loss)) throw new TrainingDivergedException(context.Epoch, b, loss);
            lossSum += loss * count;
            seen += count;
            context.ReportBatch(new BatchProgress(context.Epoch, b, batches, seen, n, lossSum / seen) { Order = _order, LossSum = lossSum });
        }
        return new EpochOutcome(lossSum / n, false);
    }

    /// <summary>The order this epoch starts from: the checkpoint's, the previous epoch's, or 0, 1, …, N−1.</summary>
    private void StartOrder(int n, EpochContext context)
    {
        if (context.StartOrder is { } given && (ContinueOrder || context.StartStep > 0))
        {
            if (!IsPermutation(given, n)) throw new ArgumentException($"The start order must be a permutation of the {n} sample indices.", nameof(context));
            _order = (int[])given.Clone();
        }
        else if (_order.Length != n || !ContinueOrder)
        {
            if (_order.Length != n) _order = new int[n]; // refilled in place after that: 256 KB an epoch for 65,536 samples
            for (int i = 0; i < n; i++) _order[i] = i;
        }
    }

    private static bool IsPermutation(ReadOnlySpan<int> order, int n)
    {
        if (order.Length != n) return false;
        var seen = new bool[n];
        foreach (int i in order)
        {
            if ((uint)i >= (uint)n || seen[i]) return false;
            seen[i] = true;
        }
        return true;
    }

    private (Tensor<T> X, Tensor<T> Y) Gather(Tensor<T> inputs, Tensor<T> targets, ReadOnlySpan<int> rows)
    {
        int count = rows.Length;
        int inPer = inputs.Length / inputs.Dim(0), outPer = targets.Length / targets.Dim(0);
        Span<int> xShape = stackalloc int[inputs.Rank];
        inputs.Shape.CopyTo(xShape);
        xShape[0] = count;
        Span<int> yShape = stackalloc int[targets.Rank];
        targets.Shape.CopyTo(yShape);
        yShape[0] = count;
        var x = _batchX is not null && _batchX.HasShape(xShape) ? _batchX : _batchX = new Tensor<T>(xShape.ToArray());
        var y = _batchY is not null && _batchY.HasShape(yShape) ? _batchY : _batchY = new Tensor<T>(yShape.ToArray());
        for (int i = 0; i < count; i++)
        {
            inputs.Data.AsSpan(rows[i] * inPer, inPer).CopyTo(x.Span.Slice(i * inPer, inPer));
            targets.Data.AsSpan(rows[i] * outPer, outPer).CopyTo(y.Span.Slice(i * outPer, outPer));
        }
        return (x, y);
    }
}

/// <summary>
/// Supervised learning on fixed tensors — what <see cref="Sequential{T}.Fit"/> trains: batches
/// through <see cref="BatchLoop{T}"/>, and, when <see cref="Metrics"/> is on, the model's
/// <see cref="Sequential{T}.Evaluate"/> on the same data after each epoch.
/// </summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public sealed class SupervisedTask<T> : ITrainingTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly BatchLoop<T> _loop = new();

    /// <param name="inputs">Samples, batch-first: <c>[N, T, F]</c> or <c>[N, F]</c>.</param>
    /// <param name="targets">Targets matching the model's output: <c>[N, T, O]</c> or <c>[N, O]</c>.</param>
    public SupervisedTask(Tensor<T> inputs, Tensor<T> targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        Inputs = inputs;
        Targets = targets;
    }

    /// <summary>The samples.</summary>
    public Tensor<T> Inputs { get; }

    /// <summary>The targets.</summary>
    public Tensor<T> Targets { get; }

    /// <summary>Score the model after each epoch: <c>exact</c>, <c>bit_accuracy</c>, <c>eval_loss</c> on the training data (default true).</summary>
    public bool Metrics { get; init; } = true;

    /// <inheritdoc />
    public EpochOutcome TrainEpoch(Sequential<T> model, EpochContext context) => _loop.Run(model, Inputs, Targets, context);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Evaluate(Sequential<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Metrics ? model.Evaluate(Inputs, Targets).ToMetrics() : new Dictionary<string, double>();
    }
}
