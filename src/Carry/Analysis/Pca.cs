namespace Carry.Analysis;

/// <summary>
/// Principal component analysis: the sample covariance of the rows, its eigenvectors by the
/// cyclic Jacobi method (Golub and Van Loan, Matrix Computations, §8.5), sorted by eigenvalue,
/// largest first. Each component's sign is fixed so that its largest-magnitude entry is positive.
/// </summary>
public sealed class Pca
{
    private Pca(double[] mean, double[,] components, double[] variances, double totalVariance)
    {
        Mean = mean;
        Components = components;
        Variances = variances;
        TotalVariance = totalVariance;
    }

    /// <summary>Column means of the fitted rows <c>[D]</c>.</summary>
    public IReadOnlyList<double> Mean { get; }

    /// <summary>Unit-length principal directions, one per row <c>[K, D]</c>.</summary>
    public double[,] Components { get; }

    /// <summary>Variance along each component (the covariance's eigenvalues) <c>[K]</c>, largest first.</summary>
    public IReadOnlyList<double> Variances { get; }

    /// <summary>Total variance (the covariance's trace), for the explained fraction.</summary>
    public double TotalVariance { get; }

    /// <summary>Fraction of the total variance along component <paramref name="k"/> (0 when there is none).</summary>
    public double ExplainedFraction(int k) => TotalVariance > 0 ? Variances[k] / TotalVariance : 0;

    /// <summary>
    /// Fits the first <paramref name="components"/> principal components of <paramref name="rows"/>
    /// <c>[N, D]</c> (N ≥ 2), using the sample covariance <c>Σ (x - μ)(x - μ)ᵀ / (N - 1)</c>.
    /// </summary>
    public static Pca Fit(double[,] rows, int components)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int n = rows.GetLength(0), d = rows.GetLength(1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 2, nameof(rows));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(components);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(components, d);
        var mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) mean[j] += rows[i, j] / n;
        }
        var covariance = new double[d, d];
        for (int i = 0; i < n; i++)
        {
            for (int a = 0; a < d; a++)
            {
                double da = rows[i, a] - mean[a];
                for (int b = a; b < d; b++) covariance[a, b] += da * (rows[i, b] - mean[b]) / (n - 1);
            }
        }
        double trace = 0;
        for (int a = 0; a < d; a++)
        {
            trace += covariance[a, a];
            for (int b = 0; b < a; b++) covariance[a, b] = covariance[b, a];
        }
        var (values, vectors) = SymmetricEigen(covariance);
        var order = Enumerable.Range(0, d).OrderByDescending(k => values[k]).Take(components).ToArray();
        var result = new double[components, d];
        for (int k = 0; k < components; k++)
        {
            int col = order[k], largest = 0;
            for (int j = 1; j < d; j++) largest = Math.Abs(vectors[j, col]) > Math.Abs(vectors[largest, col]) ? j : largest;
            double sign = vectors[largest, col] < 0 ? -1 : 1;
            for (int j = 0; j < d; j++) result[k, j] = sign * vectors[j, col];
        }
        return new Pca(mean, result, order.Select(k => Math.Max(values[k], 0)).ToArray(), trace);
    }

    /// <summary>Coordinates of <paramref name="rows"/> <c>[N, D]</c> along the components <c>[N, K]</c>: <c>(x - μ)·Vᵀ</c>.</summary>
    public double[,] Project(double[,] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int n = rows.GetLength(0), d = Mean.Count, k = Components.GetLength(0);
        if (rows.GetLength(1) != d) throw new ArgumentException($"rows have {rows.GetLength(1)} columns, the fit had {d}.", nameof(rows));
        var result = new double[n, k];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < k; c++)
            {
                double sum = 0;
                for (int j = 0; j < d; j++) sum += (rows[i, j] - Mean[j]) * Components[c, j];
                result[i, c] = sum;
            }
        }
        return result;
    }

    /// <summary>
    /// Eigenvalues and eigenvectors (columns of <c>Vectors</c>) of a symmetric matrix by cyclic
    /// Jacobi rotations: each rotation zeroes one off-diagonal pair, sweeps repeat until the
    /// off-diagonal mass is negligible. <paramref name="matrix"/> is overwritten.
    /// </summary>
    public static (double[] Values, double[,] Vectors) SymmetricEigen(double[,] matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        int d = matrix.GetLength(0);
        if (matrix.GetLength(1) != d) throw new ArgumentException("the matrix must be square.", nameof(matrix));
        var a = matrix;
        var v = new double[d, d];
        for (int i = 0; i < d; i++) v[i, i] = 1;
        double scale = 0;
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++) scale += a[i, j] * a[i, j];
        }
        for (int sweep = 0; sweep < 100 && OffDiagonal(a) > 1e-30 * scale; sweep++)
        {
            for (int p = 0; p < d - 1; p++)
            {
                for (int q = p + 1; q < d; q++) Rotate(a, v, p, q);
            }
        }
        var values = new double[d];
        for (int i = 0; i < d; i++) values[i] = a[i, i];
        return (values, v);
    }

    private static double OffDiagonal(double[,] a)
    {
        double sum = 0;
        int d = a.GetLength(0);
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++) sum += i == j ? 0 : a[i, j] * a[i, j];
        }
        return sum;
    }

    /// <summary>One Jacobi rotation in the (p, q) plane: <c>A ← JᵀAJ</c>, <c>V ← VJ</c>, making <c>A[p, q] = 0</c>.</summary>
    private static void Rotate(double[,] a, double[,] v, int p, int q)
    {
        if (a[p, q] == 0) return;
        int d = a.GetLength(0);
        // θ = (a_qq - a_pp) / (2 a_pq); t = sign(θ) / (|θ| + √(θ² + 1)) is the smaller root of t² + 2θt - 1 = 0.
        double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
        double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
        double c = 1 / Math.Sqrt((t * t) + 1), s = t * c;
        for (int k = 0; k < d; k++)
        {
            double akp = a[k, p], akq = a[k, q];
            a[k, p] = (c * akp) - (s * akq);
            a[k, q] = (s * akp) + (c * akq);
        }
        for (int k = 0; k < d; k++)
        {
            double apk = a[p, k], aqk = a[q, k];
            a[p, k] = (c * apk) - (s * aqk);
            a[q, k] = (s * apk) + (c * aqk);
        }
        for (int k = 0; k < d; k++)
        {
            double vkp = v[k, p], vkq = v[k, q];
            v[k, p] = (c * vkp) - (s * vkq);
            v[k, q] = (s * vkp) + (c * vkq);
        }
    }
}
