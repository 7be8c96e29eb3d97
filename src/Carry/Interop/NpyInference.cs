using System.Numerics;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Interop;

/// <summary>
/// Runs any model on a batch held in a .npy array: <c>[batch, time, features]</c> numbers, or
/// indices for an embedding (an integer array <c>[batch, time]</c> or <c>[batch, time, 1]</c>,
/// or float32 holding whole numbers). The output is float32, in the model's output shape
/// (<c>[batch, out]</c> or <c>[batch, time, out]</c>).
/// </summary>
public static class NpyInference
{
    /// <summary>Largest integer index that every float type Carry computes in holds exactly (2²⁴).</summary>
    private const long MaxExactIndex = 1 << 24;

    /// <summary>Predicts <paramref name="input"/> with <paramref name="model"/> in batches of <paramref name="batchSize"/>.</summary>
    /// <exception cref="ArgumentException">The array's rank, type or feature count does not fit the model.</exception>
    public static NpyArray Predict<T>(Sequential<T> model, NpyArray input, int batchSize = 1024) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var x = ToTensor<T>(input);
        var y = model.Predict(x, batchSize);
        var values = new float[y.Length];
        for (int i = 0; i < values.Length; i++) values[i] = float.CreateChecked(y.Data[i]);
        return NpyArray.Of(values, y.Shape.ToArray());
    }

    /// <summary>
    /// The model input <c>[batch, time, features]</c> for <paramref name="input"/>: a rank-3 array
    /// as it is, or a rank-2 integer array of indices as <c>[batch, time, 1]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Another rank, an empty array, or an index a float cannot hold exactly.</exception>
    public static Tensor<T> ToTensor<T>(NpyArray input) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        int[] shape = input.Shape.Count switch
        {
            3 => [.. input.Shape],
            2 when input.IsInteger => [input.Shape[0], input.Shape[1], 1],
            _ => throw new ArgumentException(
                $"the input array has shape ({string.Join(", ", input.Shape)}) of {input.Type}; a model reads [batch, time, features], or integer indices [batch, time].",
                nameof(input)),
        };
        if (input.Length == 0) throw new ArgumentException($"the input array ({string.Join(", ", input.Shape)}) is empty.", nameof(input));
        var data = new T[input.Length];
        for (int i = 0; i < data.Length; i++)
        {
            double v = input[i];
            if (input.IsInteger && Math.Abs(v) > MaxExactIndex)
            {
                throw new ArgumentException($"index {v} at element {i} is beyond {MaxExactIndex}, the largest a float32 holds exactly.", nameof(input));
            }
            data[i] = T.CreateChecked(v);
        }
        return new Tensor<T>(data, shape);
    }
}
