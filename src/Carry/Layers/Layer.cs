using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// A differentiable layer. <see cref="Forward(Tensor{T}, bool)"/> caches exactly what
/// <see cref="Backward(Tensor{T})"/> needs; <c>Backward</c> accumulates parameter gradients with
/// <c>+=</c> and returns the gradient with respect to the input. Outputs live in buffers the
/// layer owns and reuses for the same shape: read them before the next <c>Forward</c>.
/// </summary>
public abstract class Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The trainable parameters, by PyTorch name. Empty for parameter-free layers.</summary>
    public abstract IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>The architecture, enough to rebuild this layer (without its weights).</summary>
    public abstract LayerSpec Spec { get; }

    /// <summary>Per-sample output shape (no batch dimension) for a per-sample input shape.</summary>
    public abstract int[] OutputShape(ReadOnlySpan<int> inputShape);

    /// <summary>Forward pass. <paramref name="training"/> turns on dropout.</summary>
    public abstract Tensor<T> Forward(Tensor<T> input, bool training);

    /// <summary>Backward pass for the last <c>Forward</c>; returns <c>dInput</c>.</summary>
    public abstract Tensor<T> Backward(Tensor<T> dOutput);

    /// <summary>Draws fresh weights with <paramref name="scheme"/> from <paramref name="random"/>.</summary>
    public abstract void Initialize(Initialization scheme, RandomGenerator random);

    private ComputeContext _compute = ComputeContext.Default;

    /// <summary>
    /// Threads and buffers for this layer's matrix products (default <see cref="ComputeContext.Default"/>,
    /// every core). Results do not depend on it. <c>Sequential&lt;T&gt;.Compute</c> sets it on every layer.
    /// </summary>
    public virtual ComputeContext Compute
    {
        get => _compute;
        set => _compute = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Total number of trainable scalars.</summary>
    public int ParameterCount => Parameters.Sum(p => p.Length);

    /// <summary>Returns the cached buffer if it already has <paramref name="shape"/>, otherwise a new one.</summary>
    protected static Tensor<T> Reuse(ref Tensor<T>? buffer, params int[] shape)
    {
        if (buffer is null || !buffer.HasShape(shape)) buffer = new Tensor<T>(shape);
        return buffer;
    }

    /// <summary>Adds <paramref name="bias"/> to every row of an <c>[rows, bias.Length]</c> block.</summary>
    protected static void AddBiasRows(Span<T> values, ReadOnlySpan<T> bias, int rows)
    {
        int n = bias.Length;
        for (int r = 0; r < rows; r++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(values.Slice(r * n, n), bias, values.Slice(r * n, n));
        }
    }

    /// <summary><c>dBias += Σ_rows values</c> for an <c>[rows, dBias.Length]</c> block.</summary>
    protected static void AccumulateColumnSums(ReadOnlySpan<T> values, Span<T> dBias, int rows)
    {
        int n = dBias.Length;
        for (int r = 0; r < rows; r++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(values.Slice(r * n, n), dBias, dBias);
        }
    }

    /// <summary>Fills <paramref name="values"/> from <c>U(-bound, bound)</c>.</summary>
    protected static void FillUniform(Span<T> values, double bound, RandomGenerator random)
    {
        for (int i = 0; i < values.Length; i++) values[i] = T.CreateChecked((random.NextDouble() * 2.0 * bound) - bound);
    }

    /// <summary>
    /// Fills a PyTorch-layout <c>[rows, cols]</c> weight with orthonormal columns (Keras's
    /// <c>Orthogonal</c> initialiser for the kernel <c>[cols, rows]</c>): a standard-normal matrix
    /// through Gram–Schmidt, signs fixed so that R has a positive diagonal, as in QR.
    /// When rows &lt; cols, the rows are orthonormal instead.
    /// </summary>
    protected static void FillOrthogonal(Span<T> values, int rows, int cols, RandomGenerator random)
    {
        bool tall = rows >= cols;
        int n = tall ? rows : cols, m = tall ? cols : rows; // m orthonormal vectors of length n
        var q = new double[m, n];
        for (int j = 0; j < m; j++)
        {
            for (int i = 0; i < n; i++) q[j, i] = random.NextNormal();
        }
        for (int j = 0; j < m; j++)
        {
            for (int pass = 0; pass < 2; pass++)
            {
                for (int p = 0; p < j; p++)
                {
                    double dot = 0;
                    for (int i = 0; i < n; i++) dot += q[j, i] * q[p, i];
                    for (int i = 0; i < n; i++) q[j, i] -= dot * q[p, i];
                }
            }
            double norm = 0;
            for (int i = 0; i < n; i++) norm += q[j, i] * q[j, i];
            norm = Math.Sqrt(norm);
            for (int i = 0; i < n; i++) q[j, i] /= norm;
        }
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                values[(r * cols) + c] = T.CreateChecked(tall ? q[c, r] : q[r, c]);
            }
        }
    }
}
