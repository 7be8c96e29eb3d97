using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// Inference that runs a recurrent model once per distinct input prefix rather than once per
/// sample. Sequences that agree on their first t steps reach the same state after step t, so
/// over a data set whose sequences share prefixes (all pairs of 8-bit numbers, bit by bit:
/// 2, 4, ..., 65,536 distinct prefixes of lengths 1..16, about 131,000 states instead of
/// 1,048,576) the work falls by the sharing factor, eight times there. Each sample's result is
/// bit-identical to <see cref="Sequential{T}.Predict"/>'s whenever the step products take the
/// packed kernel both ways (a hidden size of 32 or more on AVX2): every row of a product and
/// every element of the cell is then computed the same way whatever else is in the batch.
/// </summary>
internal static class PrefixSharing
{
    /// <summary>True when the model's shape allows it: a forward recurrent layer returning its last output, then per-sample layers.</summary>
    public static bool Applies<T>(Sequential<T> model, Tensor<T> inputs) where T : unmanaged, IFloatingPointIeee754<T>
        => inputs.Rank == 3 && model.Layers.Count > 0
            && model.Layers[0] is RecurrentLayer<T> { Reverse: false, ReturnSequences: false } first
            && first is not Bidirectional<T>;

    /// <summary>Predicts <c>[N, ...]</c> for <c>inputs [N, T, F]</c>, computing each distinct prefix once, in chunks of at most <paramref name="chunkSize"/> states.</summary>
    public static Tensor<T> Predict<T>(Sequential<T> model, Tensor<T> inputs, int chunkSize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var recurrent = (RecurrentLayer<T>)model.Layers[0];
        int n = inputs.Dim(0), time = inputs.Dim(1), features = inputs.Dim(2);
        int stateSize = recurrent.StateSize;
        bool hasCell = recurrent.HasCell;
        int[] outShape = [n, .. model.OutputShape(inputs.Shape[1..])];
        var result = new Tensor<T>(outShape);
        int outPer = result.Length / n;

        // node[s]: the id of sample s's prefix at the current level; parents and representatives per level.
        var node = new int[n];
        // Level -1 is the empty prefix: one node, the zero state.
        var parentHidden = new T[stateSize];        // [parents, S]
        var parentCell = new T[hasCell ? stateSize : 0];
        for (int t = 0; t < time; t++)
        {
            // Distinct (parent, x_t) pairs, numbered in order of first appearance.
            var comparer = new StepKeyComparer<T>(node, inputs.Data, time, features, t);
            var ids = new Dictionary<int, int>(comparer);
            var representative = new List<int>();
            var nextNode = new int[n];
            for (int s = 0; s < n; s++)
            {
                if (!ids.TryGetValue(s, out int id))
                {
                    id = representative.Count;
                    ids.Add(s, id);
                    representative.Add(s);
                }
                nextNode[s] = id;
            }
            int count = representative.Count;
            bool last = t == time - 1;
            var hidden = last ? [] : new T[count * stateSize];
            var cell = last || !hasCell ? [] : new T[count * stateSize];
            for (int start = 0; start < count; start += chunkSize)
            {
                int rows = Math.Min(chunkSize, count - start);
                var x = new Tensor<T>(rows, 1, features);
                var h0 = new Tensor<T>(rows, stateSize);
                var c0 = hasCell ? new Tensor<T>(rows, stateSize) : null;
                for (int r = 0; r < rows; r++)
                {
                    int s = representative[start + r];
                    inputs.Data.AsSpan(((s * time) + t) * features, features).CopyTo(x.Span.Slice(r * features, features));
                    int parent = t == 0 ? 0 : node[s];
                    parentHidden.AsSpan(parent * stateSize, stateSize).CopyTo(h0.Span.Slice(r * stateSize, stateSize));
                    if (c0 is not null) parentCell.AsSpan(parent * stateSize, stateSize).CopyTo(c0.Span.Slice(r * stateSize, stateSize));
                }
                var step = recurrent.Forward(x, new RecurrentState<T>(h0, c0), training: false);
                if (!last)
                {
                    step.FinalState.Hidden.Span.CopyTo(hidden.AsSpan(start * stateSize, rows * stateSize));
                    if (hasCell) step.FinalState.Cell!.Span.CopyTo(cell.AsSpan(start * stateSize, rows * stateSize));
                    continue;
                }
                // Last step: the rest of the model on this chunk, then every sample ending here gets the row.
                var y = step.Output;
                for (int i = 1; i < model.Layers.Count; i++) y = model.Layers[i].Forward(y, training: false);
                for (int r = 0; r < rows; r++)
                {
                    y.Span.Slice(r * outPer, outPer).CopyTo(result.Span.Slice(representative[start + r] * outPer, outPer));
                }
            }
            if (last)
            {
                // Duplicated samples share their representative's row.
                for (int s = 0; s < n; s++)
                {
                    int rep = representative[nextNode[s]];
                    if (rep != s) result.Span.Slice(rep * outPer, outPer).CopyTo(result.Span.Slice(s * outPer, outPer));
                }
            }
            node = nextNode;
            parentHidden = hidden;
            parentCell = cell;
        }
        return result;
    }

    /// <summary>Two samples are the same node at step t when their parents and their inputs at t agree.</summary>
    private sealed class StepKeyComparer<T>(int[] parent, T[] inputs, int time, int features, int t) : IEqualityComparer<int>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public bool Equals(int x, int y)
        {
            if (parent[x] != parent[y]) return false;
            var a = inputs.AsSpan(((x * time) + t) * features, features);
            var b = inputs.AsSpan(((y * time) + t) * features, features);
            return a.SequenceEqual(b);
        }

        public int GetHashCode(int s)
        {
            var hash = new HashCode();
            hash.Add(parent[s]);
            foreach (var v in inputs.AsSpan(((s * time) + t) * features, features)) hash.Add(v);
            return hash.ToHashCode();
        }
    }
}
