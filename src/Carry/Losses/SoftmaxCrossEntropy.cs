using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Carry.Losses;

/// <summary>
/// Softmax cross-entropy from logits over <see cref="Classes"/> classes (PyTorch's
/// <c>nn.CrossEntropyLoss</c>, mean reduction): predictions are logits <c>[..., C]</c>, targets
/// the class indices <c>[..., 1]</c> (whole numbers held as <typeparamref name="T"/>). Per row,
/// softmax and log in one pass, stable for any logit size:
/// <code>
/// L_row = log Σ_j e^(x_j - m) + m - x_t        (m = max_j x_j)
/// ∂L/∂x_j = (softmax(x)_j - [j = t]) / N        (N rows)
/// </code>
/// </summary>
public sealed class SoftmaxCrossEntropy<T> : Loss<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[]? _row; // [C] scratch for Value

    /// <param name="classes">C, the number of classes (the vocabulary size for char-rnn, e.g. 65).</param>
    public SoftmaxCrossEntropy(int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        Classes = classes;
    }

    /// <summary>C, the width of every logit row.</summary>
    public int Classes { get; }

    /// <inheritdoc />
    public override string Name => "softmax-ce";

    /// <inheritdoc />
    public override int[] TargetShape(ReadOnlySpan<int> predictionShape)
    {
        if (predictionShape.Length == 0 || predictionShape[^1] != Classes)
        {
            throw new ArgumentException($"softmax cross-entropy over {Classes} classes needs logits [..., {Classes}], got {Numerics.Tensor<T>.ShapeText(predictionShape)}.", nameof(predictionShape));
        }
        int[] shape = predictionShape.ToArray();
        shape[^1] = 1;
        return shape;
    }

    /// <inheritdoc />
    public override bool TargetsFit(ReadOnlySpan<int> predictionShape, ReadOnlySpan<int> targetShape) =>
        predictionShape.Length > 0 && predictionShape[^1] == Classes && targetShape.Length == predictionShape.Length
        && targetShape[^1] == 1 && targetShape[..^1].SequenceEqual(predictionShape[..^1]);

    /// <inheritdoc />
    protected override int TargetLength(int predictionLength) => predictionLength % Classes == 0 ? predictionLength / Classes : -1;

    /// <inheritdoc />
    protected override T ComputeCore(ReadOnlySpan<T> prediction, ReadOnlySpan<T> target, Span<T> dPrediction)
    {
        int c = Classes, rows = target.Length;
        T inverseRows = T.One / T.CreateChecked(rows);
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            var logits = prediction.Slice(r * c, c);
            var dLogits = dPrediction.Slice(r * c, c);
            int t = ClassOf(target[r], r);
            sum += RowLoss(logits, t, dLogits, out T total);
            // ∂L/∂x = (e^(x - m) / Σ e^(x - m) - onehot(t)) / N
            TensorPrimitives.Multiply(dLogits, inverseRows / total, dLogits);
            dLogits[t] -= inverseRows;
        }
        return T.CreateChecked(sum / rows);
    }

    /// <summary>The mean loss alone, without a gradient buffer of the predictions' size.</summary>
    public override T Value(ReadOnlySpan<T> prediction, ReadOnlySpan<T> target)
    {
        CheckLengths(prediction, target);
        var row = _row ??= new T[Classes];
        double sum = 0;
        for (int r = 0; r < target.Length; r++) sum += RowLoss(prediction.Slice(r * Classes, Classes), ClassOf(target[r], r), row, out _);
        return T.CreateChecked(sum / target.Length);
    }

    /// <summary>
    /// <c>log Σ e^(x - m) + m - x_t</c> for one row; leaves <c>e^(x - m)</c> in <paramref name="exps"/>
    /// and its sum in <paramref name="total"/>.
    /// </summary>
    private static double RowLoss(ReadOnlySpan<T> logits, int t, Span<T> exps, out T total)
    {
        T max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, exps);
        TensorPrimitives.Exp(exps, exps);
        total = TensorPrimitives.Sum<T>(exps);
        return Math.Log(double.CreateChecked(total)) + double.CreateChecked(max - logits[t]);
    }

    private int ClassOf(T value, int row)
    {
        if (!T.IsInteger(value) || value < T.Zero || value >= T.CreateChecked(Classes))
        {
            throw new ArgumentException($"target {row} is {value}, not a class index in 0..{Classes - 1}.", "target");
        }
        return int.CreateChecked(value);
    }
}
