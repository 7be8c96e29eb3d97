using Carry.Layers;

namespace Carry.Interop;

/// <summary>A Keras file that Carry cannot import or write: one line naming the file, the layer and the problem.</summary>
public sealed class KerasFormatException : IOException
{
    /// <summary>Names the file and the problem.</summary>
    public KerasFormatException(string path, string problem) : base($"{path}: {problem}")
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>An exception without a message (for serializers).</summary>
    public KerasFormatException() { }

    /// <summary>An exception with <paramref name="message"/> as it is.</summary>
    public KerasFormatException(string message) : base(message) { }

    /// <summary>An exception with <paramref name="message"/> caused by <paramref name="inner"/>.</summary>
    public KerasFormatException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The file.</summary>
    public string? FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string? Problem { get; }
}

/// <summary>
/// How Keras lays out the weights Carry stores in PyTorch's layout, shared by the import and the
/// export. Keras keeps a kernel <c>[in, G·H]</c> and a recurrent kernel <c>[H, G·H]</c> (inputs
/// times weights), PyTorch <c>weight_ih [G·H, in]</c> and <c>weight_hh [G·H, H]</c>: transposes.
/// Keras's LSTM gates (i, f, c, o) are PyTorch's order; its GRU gates (z, r, h) are PyTorch's
/// (r, z, n) with the first two swapped. Keras has one bias where PyTorch has two, except the
/// <c>reset_after=True</c> GRU, whose bias <c>[2, 3H]</c> holds the input and the recurrent half.
/// </summary>
internal static class KerasLayout
{
    /// <summary>For each of Carry's gate blocks, the Keras block it comes from (GRU: r ← 1, z ← 0, n ← 2).</summary>
    public static int[] KerasBlockOf(LayerSpec spec) => spec.Kind switch
    {
        LayerKinds.Gru => [1, 0, 2],
        LayerKinds.Lstm => [0, 1, 2, 3],
        _ => [0],
    };

    /// <summary>
    /// Keras kernel <c>[rows, G·H]</c> → PyTorch weight <c>[G·H, rows]</c>, gate blocks reordered:
    /// <c>weight[g·H + j, i] = kernel[i, block(g)·H + j]</c>.
    /// </summary>
    public static void KernelToWeight(ReadOnlySpan<float> kernel, int rows, int hidden, int[] kerasBlockOf, Span<float> weight)
    {
        foreach (var (k, w) in KernelPairs(rows, hidden, kerasBlockOf)) weight[w] = kernel[k];
    }

    /// <summary>The inverse of <see cref="KernelToWeight"/>: PyTorch weight <c>[G·H, rows]</c> → Keras kernel <c>[rows, G·H]</c>.</summary>
    public static void WeightToKernel(ReadOnlySpan<float> weight, int rows, int hidden, int[] kerasBlockOf, Span<float> kernel)
    {
        foreach (var (k, w) in KernelPairs(rows, hidden, kerasBlockOf)) kernel[k] = weight[w];
    }

    /// <summary>Each (kernel index, weight index) pair that holds the same value in the two layouts.</summary>
    private static IEnumerable<(int Kernel, int Weight)> KernelPairs(int rows, int hidden, int[] kerasBlockOf)
    {
        int gh = kerasBlockOf.Length * hidden;
        for (int g = 0; g < kerasBlockOf.Length; g++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int column = (kerasBlockOf[g] * hidden) + j, row = (g * hidden) + j;
                for (int i = 0; i < rows; i++) yield return ((i * gh) + column, (row * rows) + i);
            }
        }
    }

    /// <summary>Keras bias <c>[G·H]</c> ↔ PyTorch bias, gate blocks reordered (the permutation is its own inverse).</summary>
    public static void ReorderBias(ReadOnlySpan<float> source, int hidden, int[] kerasBlockOf, Span<float> destination)
    {
        for (int g = 0; g < kerasBlockOf.Length; g++) source.Slice(kerasBlockOf[g] * hidden, hidden).CopyTo(destination.Slice(g * hidden, hidden));
    }

    /// <summary>Keras's class name for a Carry layer kind.</summary>
    public static string ClassName(string kind) => kind switch
    {
        LayerKinds.Elman => "SimpleRNN",
        LayerKinds.Lstm => "LSTM",
        LayerKinds.Gru => "GRU",
        LayerKinds.Dense => "Dense",
        LayerKinds.Dropout => "Dropout",
        LayerKinds.Embedding => "Embedding",
        LayerKinds.RepeatVector => "RepeatVector",
        LayerKinds.Activation => "Activation",
        _ => throw new ArgumentException($"Keras has no layer for Carry's '{kind}'.", nameof(kind)),
    };

    /// <summary>Keras's base name for a layer (<c>lstm</c>, <c>simple_rnn</c>, <c>repeat_vector</c>); the cell's is <c>{name}_cell</c>.</summary>
    public static string BaseName(string kind) => kind switch
    {
        LayerKinds.Elman => "simple_rnn",
        _ => kind,
    };
}
