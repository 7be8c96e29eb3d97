using Carry.Analysis;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// Carry.Analysis: PCA against decompositions known in closed form, and the state trace against
/// the layers' own outputs and, for the LSTM's cell and gates, against the formulas computed here.
/// </summary>
public sealed class AnalysisTests
{
    private const int Batch = 3, Time = 5, InputSize = 2, Hidden = 4;

    /// <summary>An orthonormal basis of R³: a rotation by 30° about z, then by 45° about x.</summary>
    private static double[,] Rotation()
    {
        double a = Math.PI / 6, b = Math.PI / 4;
        double[,] rz = { { Math.Cos(a), -Math.Sin(a), 0 }, { Math.Sin(a), Math.Cos(a), 0 }, { 0, 0, 1 } };
        double[,] rx = { { 1, 0, 0 }, { 0, Math.Cos(b), -Math.Sin(b) }, { 0, Math.Sin(b), Math.Cos(b) } };
        var q = new double[3, 3];
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                for (int k = 0; k < 3; k++) q[i, j] += rx[i, k] * rz[k, j];
            }
        }
        return q;
    }

    [Fact]
    public void GivenQDiagQTransposed_WhenDecomposed_ThenTheEigenvaluesAndEigenvectorsAreQAndTheDiagonal()
    {
        var q = Rotation();
        double[] lambda = [5, 2, 0.5];
        var m = new double[3, 3];
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                for (int k = 0; k < 3; k++) m[i, j] += q[i, k] * lambda[k] * q[j, k];
            }
        }

        var (values, vectors) = Pca.SymmetricEigen(m);

        for (int k = 0; k < 3; k++)
        {
            int found = Array.FindIndex(values, v => Math.Abs(v - lambda[k]) < 1e-12);
            Assert.True(found >= 0, $"eigenvalue {lambda[k]} not among {string.Join(", ", values)}");
            double dot = 0;
            for (int i = 0; i < 3; i++) dot += vectors[i, found] * q[i, k];
            Assert.Equal(1.0, Math.Abs(dot), 12); // the same unit vector up to sign
        }
    }

    [Fact]
    public void GivenFourPointsOnTwoAxes_WhenFitted_ThenMeanVariancesComponentsAndProjectionAreTheClosedForm()
    {
        // Points μ ± 3u, μ ± v with u, v two columns of a rotation: covariance (18 uuᵀ + 2 vvᵀ) / 3.
        var q = Rotation();
        double[] mu = [1, -2, 0.5];
        double[] u = [q[0, 0], q[1, 0], q[2, 0]], v = [q[0, 2], q[1, 2], q[2, 2]];
        var rows = new double[4, 3];
        double[] scales = [3, -3, 1, -1];
        for (int p = 0; p < 4; p++)
        {
            var axis = p < 2 ? u : v;
            for (int j = 0; j < 3; j++) rows[p, j] = mu[j] + (scales[p] * axis[j]);
        }

        var pca = Pca.Fit(rows, 2);
        var projected = pca.Project(rows);

        for (int j = 0; j < 3; j++) Assert.Equal(mu[j], pca.Mean[j], 12);
        Assert.Equal(6.0, pca.Variances[0], 12);
        Assert.Equal(2.0 / 3, pca.Variances[1], 12);
        Assert.Equal(6.0 / (6 + (2.0 / 3)), pca.ExplainedFraction(0), 12);
        double sign0 = Math.Sign(Enumerable.Range(0, 3).Sum(j => pca.Components[0, j] * u[j]));
        double sign1 = Math.Sign(Enumerable.Range(0, 3).Sum(j => pca.Components[1, j] * v[j]));
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(u[j], sign0 * pca.Components[0, j], 12);
            Assert.Equal(v[j], sign1 * pca.Components[1, j], 12);
        }
        double[,] expected = { { 3, 0 }, { -3, 0 }, { 0, 1 }, { 0, -1 } };
        for (int p = 0; p < 4; p++)
        {
            Assert.Equal(expected[p, 0], sign0 * projected[p, 0], 12);
            Assert.Equal(expected[p, 1], sign1 * projected[p, 1], 12);
        }
    }

    [Fact]
    public void GivenTheSameDataTwice_WhenFitted_ThenEachComponentsLargestEntryIsPositive()
    {
        var rows = GradientCheck.Random(11, 1.0, 20, 5);
        var data = new double[20, 5];
        for (int i = 0; i < 20; i++)
        {
            for (int j = 0; j < 5; j++) data[i, j] = rows[i, j] * (j + 1);
        }

        var pca = Pca.Fit(data, 3);

        for (int k = 0; k < 3; k++)
        {
            var row = Enumerable.Range(0, 5).Select(j => pca.Components[k, j]).ToArray();
            Assert.Equal(1.0, Math.Sqrt(row.Sum(x => x * x)), 12);
            Assert.True(row.MaxBy(Math.Abs) > 0);
        }
        Assert.True(pca.Variances[0] >= pca.Variances[1] && pca.Variances[1] >= pca.Variances[2]);
    }

    [Theory]
    [InlineData("elman")]
    [InlineData("gru")]
    [InlineData("lstm")]
    [InlineData("jordan")]
    public void GivenAModel_WhenTraced_ThenTheHiddenStatesAndOutputAreWhatItsLayersReturn(string kind)
    {
        RecurrentLayer<double> layer = kind switch
        {
            "elman" => new SimpleRnn<double>(InputSize, Hidden, Activation.Tanh, returnSequences: true),
            "gru" => new Gru<double>(InputSize, Hidden, returnSequences: true),
            "lstm" => new Lstm<double>(InputSize, Hidden, returnSequences: true),
            _ => new Jordan<double>(InputSize, Hidden, 3, returnSequences: true),
        };
        var model = new Sequential<double>(layer, new Dense<double>(layer.OutputSize, 1, Activation.Sigmoid));
        model.Initialize(Initialization.PyTorch, 5);
        var input = GradientCheck.Random(3, 1.0, Batch, Time, InputSize);
        var expectedOutput = model.Forward(input, training: false).Clone();
        var expectedStates = layer.Forward(input, training: false).Clone();

        var trace = StateTrace.Run(model, input);

        Assert.Equal(expectedOutput.Shape.ToArray(), trace.Output.Shape.ToArray());
        Assert.Equal(expectedStates.Shape.ToArray(), trace.Find(0, kind == "jordan" ? StateTrace.JordanOutput : StateTrace.Hidden)!.Values.Shape.ToArray());
        Close.All(expectedOutput, trace.Output, 0, "model output");
        string state = kind == "jordan" ? StateTrace.JordanOutput : StateTrace.Hidden;
        Close.All(expectedStates, trace.Find(0, state)!.Values, 0, "layer output per step");
        Assert.Equal(kind == "lstm" ? 6 : kind == "jordan" ? 2 : 1, trace.Quantities.Count);
    }

    [Fact]
    public void GivenAnLstm_WhenTraced_ThenCellAndGatesFollowTheLstmEquationsStepByStep()
    {
        var lstm = new Lstm<double>(InputSize, Hidden, returnSequences: true);
        var model = new Sequential<double>(lstm);
        model.Initialize(Initialization.PyTorch, 9);
        var input = GradientCheck.Random(4, 1.0, Batch, Time, InputSize);

        var trace = StateTrace.Run(model, input);

        var gates = StateTrace.LstmGates.Select(g => trace.Find(0, g)!.Values).ToArray();
        var c = trace.Find(0, StateTrace.Cell)!.Values;
        var h = trace.Find(0, StateTrace.Hidden)!.Values;
        double[] wih = lstm.WeightIh.Value.Data, whh = lstm.WeightHh.Value.Data, bih = lstm.BiasIh!.Value.Data, bhh = lstm.BiasHh!.Value.Data;
        for (int b = 0; b < Batch; b++)
        {
            var hPrev = new double[Hidden];
            var cPrev = new double[Hidden];
            for (int t = 0; t < Time; t++)
            {
                for (int j = 0; j < Hidden; j++)
                {
                    // pre_k = W_ih[kH+j]·x_t + b_ih + W_hh[kH+j]·h_(t-1) + b_hh, k = i, f, g, o
                    var pre = new double[4];
                    for (int k = 0; k < 4; k++)
                    {
                        int r = (k * Hidden) + j;
                        pre[k] = bih[r] + bhh[r];
                        for (int i = 0; i < InputSize; i++) pre[k] += wih[(r * InputSize) + i] * input[b, t, i];
                        for (int i = 0; i < Hidden; i++) pre[k] += whh[(r * Hidden) + i] * hPrev[i];
                    }
                    double ig = Sigmoid(pre[0]), fg = Sigmoid(pre[1]), gg = Math.Tanh(pre[2]), og = Sigmoid(pre[3]);
                    Assert.Equal(ig, gates[0][b, t, j], 12);
                    Assert.Equal(fg, gates[1][b, t, j], 12);
                    Assert.Equal(gg, gates[2][b, t, j], 12);
                    Assert.Equal(og, gates[3][b, t, j], 12);
                    Assert.Equal((fg * cPrev[j]) + (ig * gg), c[b, t, j], 12); // c_t = f ⊙ c_(t-1) + i ⊙ g
                    Assert.Equal(og * Math.Tanh(c[b, t, j]), h[b, t, j], 12); // h_t = o ⊙ tanh c_t
                }
                for (int j = 0; j < Hidden; j++)
                {
                    hPrev[j] = h[b, t, j];
                    cPrev[j] = c[b, t, j];
                }
            }
        }
    }

    [Fact]
    public void GivenABidirectionalLayer_WhenTraced_ThenEachHalfIsTracedUnderItsDirection()
    {
        var both = new Bidirectional<double>(new Gru<double>(InputSize, Hidden, returnSequences: true));
        var model = new Sequential<double>(both);
        model.Initialize(Initialization.PyTorch, 2);
        var input = GradientCheck.Random(6, 1.0, Batch, Time, InputSize);
        var expected = model.Forward(input, training: false).Clone(); // [B, T, 2H]: forward half, then backward half

        var trace = StateTrace.Run(model, input);

        var forward = trace.Find(0, "forward " + StateTrace.Hidden)!.Values;
        var backward = trace.Find(0, "backward " + StateTrace.Hidden)!.Values;
        for (int b = 0; b < Batch; b++)
        {
            for (int t = 0; t < Time; t++)
            {
                for (int j = 0; j < Hidden; j++)
                {
                    Assert.Equal(expected[b, t, j], forward[b, t, j]);
                    Assert.Equal(expected[b, t, Hidden + j], backward[b, t, j]);
                }
            }
        }
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
