using System.Buffers;
using System.Numerics;

namespace Carry.Losses;

/// <summary>
/// A loss over a batch of predictions. <see cref="Compute"/> returns the loss and writes its
/// gradient with respect to every prediction, so one pass serves both.
/// </summary>
public abstract class Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Name as used on the command line and in files (<c>mse</c>, <c>half-sse</c>, <c>bce</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Loss of <paramref name="prediction"/> against <paramref name="target"/>; writes <c>dLoss/dPrediction</c>.</summary>
    public T Compute(ReadOnlySpan<T> prediction, ReadOnlySpan<T> target, Span<T> dPrediction)
    {
        CheckLengths(prediction, target);
        if (dPrediction.Length != prediction.Length)
        {
            throw new ArgumentException($"dPrediction has {dPrediction.Length} values, prediction {prediction.Length}.", nameof(dPrediction));
        }
        return ComputeCore(prediction, target, dPrediction);
    }

    /// <summary>The loss alone (the gradient goes to a pooled scratch array, so scoring a large set every epoch does not allocate it anew).</summary>
    public virtual T Value(ReadOnlySpan<T> prediction, ReadOnlySpan<T> target)
    {
        var scratch = ArrayPool<T>.Shared.Rent(prediction.Length);
        try
        {
            return Compute(prediction, target, scratch.AsSpan(0, prediction.Length));
        }
        finally
        {
            ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// The targets' shape for predictions of <paramref name="predictionShape"/>: the same shape for
    /// element-wise losses, one class index per row (<c>[..., 1]</c>) for <see cref="SoftmaxCrossEntropy{T}"/>.
    /// </summary>
    public virtual int[] TargetShape(ReadOnlySpan<int> predictionShape) => predictionShape.ToArray();

    /// <summary>True when targets of <paramref name="targetShape"/> go with predictions of <paramref name="predictionShape"/> (allocates nothing).</summary>
    public virtual bool TargetsFit(ReadOnlySpan<int> predictionShape, ReadOnlySpan<int> targetShape) => predictionShape.SequenceEqual(targetShape);

    /// <summary>How many target values go with <paramref name="predictionLength"/> predictions; -1 when none fits.</summary>
    protected virtual int TargetLength(int predictionLength) => predictionLength;

    /// <summary>Throws unless the target length fits the prediction length and the batch is not empty.</summary>
    protected void CheckLengths(ReadOnlySpan<T> prediction, ReadOnlySpan<T> target)
    {
        if (prediction.Length == 0) throw new ArgumentException("The batch is empty.", nameof(prediction));
        if (TargetLength(prediction.Length) != target.Length)
        {
            throw new ArgumentException($"prediction has {prediction.Length} values but target has {target.Length}.", nameof(target));
        }
    }

    /// <summary>Implementation; lengths already checked and equal.</summary>
    protected abstract T ComputeCore(ReadOnlySpan<T> prediction, ReadOnlySpan<T> target, Span<T> dPrediction);

    /// <summary>Creates a loss by name: <c>mse</c>, <c>half-sse</c>, <c>bce</c>, <c>bce-logits</c>.</summary>
    public static Loss<T> Create(string name) => name.ToLowerInvariant() switch
    {
        "mse" => new MeanSquaredError<T>(),
        "half-sse" or "halfsse" or "sse" => new HalfSumOfSquares<T>(),
        "bce" => new BinaryCrossEntropy<T>(fromLogits: false),
        "bce-logits" => new BinaryCrossEntropy<T>(fromLogits: true),
        _ => throw new ArgumentException($"Unknown loss '{name}' (expected mse, half-sse, bce or bce-logits).", nameof(name)),
    };
}

/// <summary>Mean squared error, <c>L = mean((p - t)²)</c> over every element (Keras and PyTorch); <c>dL/dp = 2(p - t)/N</c>.</summary>
public sealed class MeanSquaredError<T> : Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc />
    public override string Name => "mse";

    /// <inheritdoc />
    protected override T ComputeCore(ReadOnlySpan<T> prediction, ReadOnlySpan<T> target, Span<T> dPrediction)
    {
        T sum = T.Zero;
        T scale = T.CreateChecked(2.0) / T.CreateChecked(prediction.Length);
        for (int i = 0; i < prediction.Length; i++)
        {
            T e = prediction[i] - target[i];
            sum += e * e;
            dPrediction[i] = scale * e;
        }
        return sum / T.CreateChecked(prediction.Length);
    }
}

/// <summary>Half the sum of squares, <c>L = ½ Σ (p - t)²</c>, the numpy experiment's (its update uses <c>e = t - p</c>); <c>dL/dp = p - t</c>.</summary>
public sealed class HalfSumOfSquares<T> : Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc />
    public override string Name => "half-sse";

    /// <inheritdoc />
    protected override T ComputeCore(ReadOnlySpan<T> prediction, ReadOnlySpan<T> target, Span<T> dPrediction)
    {
        T sum = T.Zero;
        for (int i = 0; i < prediction.Length; i++)
        {
            T e = prediction[i] - target[i];
            sum += e * e;
            dPrediction[i] = e;
        }
        return sum / T.CreateChecked(2.0);
    }
}

/// <summary>
/// Binary cross-entropy, mean over every element. From probabilities it follows PyTorch's
/// <c>BCELoss</c>: each log clamped at -100 and the gradient <c>(p - t) / max(p(1-p), 1e-12) / N</c>,
/// so p = 0 or 1 gives a finite answer. From logits it is the stable
/// <c>max(x, 0) - x t + log(1 + e^-|x|)</c> with gradient <c>(σ(x) - t)/N</c>.
/// </summary>
public sealed class BinaryCrossEntropy<T> : Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="fromLogits">Predictions are logits (no sigmoid applied) rather than probabilities.</param>
    public BinaryCrossEntropy(bool fromLogits = false) => FromLogits = fromLogits;

    /// <summary>Whether predictions are logits.</summary>
    public bool FromLogits { get; }

    /// <inheritdoc />
    public override string Name => FromLogits ? "bce-logits" : "bce";

    /// <inheritdoc />
    protected override T ComputeCore(ReadOnlySpan<T> prediction, ReadOnlySpan<T> target, Span<T> dPrediction)
    {
        T n = T.CreateChecked(prediction.Length);
        T sum = T.Zero;
        T minLog = T.CreateChecked(-100.0);
        T eps = T.CreateChecked(1e-12);
        for (int i = 0; i < prediction.Length; i++)
        {
            T p = prediction[i], t = target[i];
            if (FromLogits)
            {
                sum += T.Max(p, T.Zero) - (p * t) + T.Log(T.One + T.Exp(-T.Abs(p)));
                dPrediction[i] = (Numerics.Activations.Sigmoid(p) - t) / n;
            }
            else
            {
                T logP = T.Max(T.Log(p), minLog);
                T log1P = T.Max(T.Log(T.One - p), minLog);
                sum -= (t * logP) + ((T.One - t) * log1P);
                dPrediction[i] = (p - t) / T.Max((T.One - p) * p, eps) / n;
            }
        }
        return sum / n;
    }
}
