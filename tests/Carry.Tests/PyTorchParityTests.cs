using System.Numerics;
using System.Text.Json;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;

namespace Carry.Tests;

/// <summary>
/// Bidirectional and stacked layers, Dense with every loss, and every optimizer against PyTorch
/// (../shared/fixtures/pytorch). Every shape and hyperparameter is read from the file, so
/// regenerated fixtures still apply. Double within 1e-9, float within 1e-4 (relative to
/// max(1, |expected|), see <see cref="Close"/>).
/// </summary>
public sealed class PyTorchParityTests
{
    private const double DoubleTolerance = 1e-9;
    private const double FloatTolerance = 1e-4;

    [Theory]
    [InlineData("pytorch/gru_bidirectional.json", "double")]
    [InlineData("pytorch/gru_bidirectional.json", "float")]
    [InlineData("pytorch/lstm_2layer_bidirectional.json", "double")]
    [InlineData("pytorch/lstm_2layer_bidirectional.json", "float")]
    public void GivenAStackedBidirectionalFixture_WhenDrivenLayerByLayer_ThenOutputsFinalStatesAndGradientsMatch(string file, string precision)
    {
        if (precision == "double") RecurrentParity.Run<double>(file, DoubleTolerance);
        else RecurrentParity.Run<float>(file, FloatTolerance);
    }

    [Theory]
    [InlineData("double")]
    [InlineData("float")]
    public void GivenADenseSigmoidFixture_WhenEachLossIsBackpropagated_ThenLossAndGradientsMatch(string precision)
    {
        if (precision == "double") RunDenseLosses<double>(DoubleTolerance);
        else RunDenseLosses<float>(FloatTolerance);
    }

    [Theory]
    [InlineData("double")]
    [InlineData("float")]
    public void GivenTheBceFixture_WhenLogitsGoThroughBceFromLogits_ThenTheSameLossAndGradientsResult(string precision)
    {
        if (precision == "double") RunBceFromLogits<double>(DoubleTolerance);
        else RunBceFromLogits<float>(FloatTolerance);
    }

    [Theory]
    [InlineData("double")]
    [InlineData("float")]
    public void GivenTheOptimizerFixture_WhenEachOptimizerTakesSixSteps_ThenEveryStepMatchesPyTorch(string precision)
    {
        if (precision == "double") RunOptimizers<double>(DoubleTolerance);
        else RunOptimizers<float>(FloatTolerance);
    }

    /// <summary>The fixture's loss keys: <c>mse_mean</c>, <c>bce_mean</c>, <c>half_sum_squares</c>.</summary>
    private static Loss<T> LossFor<T>(string key) where T : unmanaged, IFloatingPointIeee754<T> => key switch
    {
        "mse_mean" => new MeanSquaredError<T>(),
        "bce_mean" => new BinaryCrossEntropy<T>(fromLogits: false),
        "half_sum_squares" => new HalfSumOfSquares<T>(),
        _ => throw new InvalidDataException($"dense_sigmoid_losses.json: no Carry loss for '{key}'"),
    };

    private static Dense<T> FixtureDense<T>(JsonElement f, Activation activation) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weight = Fixtures.Tensor<T>(f.GetProperty("weight"));
        var dense = new Dense<T>(weight.Dim(1), weight.Dim(0), activation);
        RecurrentParity.CopyInto(weight, dense.Weight, "weight");
        RecurrentParity.CopyInto(Fixtures.Tensor<T>(f.GetProperty("bias")), dense.Bias!, "bias");
        return dense;
    }

    private static void RunDenseLosses<T>(double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var f = Fixtures.Load("pytorch/dense_sigmoid_losses.json");
        var dense = FixtureDense<T>(f, Activations.Parse(f.GetProperty("activation").GetString()!));
        var input = Fixtures.Tensor<T>(f.GetProperty("input"));
        var target = Fixtures.Tensor<T>(f.GetProperty("target"));
        int checkedLosses = 0;
        foreach (var entry in f.GetProperty("losses").EnumerateObject())
        {
            var loss = LossFor<T>(entry.Name);
            foreach (var p in dense.Parameters) p.Gradient.Fill(T.Zero);
            var output = dense.Forward(input, training: true);
            Close.All(Fixtures.Tensor<T>(f.GetProperty("output")), output, tol, "output");
            var dOutput = new Tensor<T>(output.Shape.ToArray());
            T value = loss.Compute(output.Span, target.Span, dOutput.Span);
            var dInput = dense.Backward(dOutput);
            var expected = entry.Value;
            Close.All<T>([T.CreateChecked(expected.GetProperty("loss").GetDouble())], [value], tol, $"{entry.Name} loss");
            Close.All(Fixtures.Tensor<T>(expected.GetProperty("grad_input")), dInput, tol, $"{entry.Name} grad_input");
            Close.All(Fixtures.Tensor<T>(expected.GetProperty("grad_weight")), dense.Weight.Gradient, tol, $"{entry.Name} grad_weight");
            Close.All(Fixtures.Tensor<T>(expected.GetProperty("grad_bias")), dense.Bias!.Gradient, tol, $"{entry.Name} grad_bias");
            checkedLosses++;
        }
        Assert.True(checkedLosses >= 3, $"only {checkedLosses} losses in the fixture");
    }

    /// <summary>
    /// BCE of sigmoid(z) equals BCE-from-logits of z, value and gradient with respect to z, so the
    /// <c>bce_mean</c> case also checks <see cref="BinaryCrossEntropy{T}"/> with <c>fromLogits</c>
    /// behind a linear Dense.
    /// </summary>
    private static void RunBceFromLogits<T>(double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var f = Fixtures.Load("pytorch/dense_sigmoid_losses.json");
        Assert.Equal("sigmoid", f.GetProperty("activation").GetString()); // the identity below holds for a sigmoid output only
        var dense = FixtureDense<T>(f, Activation.Identity);
        var input = Fixtures.Tensor<T>(f.GetProperty("input"));
        var target = Fixtures.Tensor<T>(f.GetProperty("target"));
        var expected = f.GetProperty("losses").GetProperty("bce_mean");
        var logits = dense.Forward(input, training: true);
        var dLogits = new Tensor<T>(logits.Shape.ToArray());
        T value = new BinaryCrossEntropy<T>(fromLogits: true).Compute(logits.Span, target.Span, dLogits.Span);
        var dInput = dense.Backward(dLogits);
        Close.All<T>([T.CreateChecked(expected.GetProperty("loss").GetDouble())], [value], tol, "bce-logits loss");
        Close.All(Fixtures.Tensor<T>(expected.GetProperty("grad_input")), dInput, tol, "bce-logits grad_input");
        Close.All(Fixtures.Tensor<T>(expected.GetProperty("grad_weight")), dense.Weight.Gradient, tol, "bce-logits grad_weight");
        Close.All(Fixtures.Tensor<T>(expected.GetProperty("grad_bias")), dense.Bias!.Gradient, tol, "bce-logits grad_bias");
    }

    private static void RunOptimizers<T>(double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var f = Fixtures.Load("pytorch/optimizers.json");
        var w0 = Fixtures.Tensor<T>(f.GetProperty("w0"));
        var gradients = Fixtures.Tensor<T>(f.GetProperty("gradients"));
        int steps = gradients.Dim(0), per = w0.Length;
        int count = 0;
        foreach (var entry in f.GetProperty("optimizers").EnumerateObject())
        {
            var optimizer = OptimizerFrom<T>(entry.Name, entry.Value.GetProperty("hyperparameters"));
            var after = Fixtures.Tensor<T>(entry.Value.GetProperty("after_each_step"));
            Assert.Equal(steps, after.Dim(0));
            var w = new Parameter<T>("w", w0.Shape.ToArray());
            w0.Span.CopyTo(w.Value.Span);
            Parameter<T>[] list = [w];
            for (int s = 0; s < steps; s++)
            {
                gradients.Span.Slice(s * per, per).CopyTo(w.Gradient.Span);
                optimizer.Step(list);
                Close.All<T>(after.Span.Slice(s * per, per), w.Value.Span, tol, $"{entry.Name} ({optimizer.Name}) after step {s + 1}");
            }
            count++;
        }
        Assert.True(count >= 6, $"only {count} optimizers in the fixture");
    }

    /// <summary>Builds the optimizer a fixture entry names, from its PyTorch hyperparameters; refuses options Carry lacks.</summary>
    private static Optimizer<T> OptimizerFrom<T>(string key, JsonElement hp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double Num(string name) => hp.GetProperty(name).GetDouble();
        bool Flag(string name) => hp.TryGetProperty(name, out var v) && v.GetBoolean();
        void Unsupported(string name, bool used)
        {
            Assert.False(used, $"{key}: the fixture sets {name}, which Carry's optimizer does not implement");
        }
        Unsupported("weight_decay", hp.TryGetProperty("weight_decay", out var wd) && wd.GetDouble() != 0);
        Unsupported("maximize", Flag("maximize"));
        double lr = Num("lr");
        if (key.StartsWith("sgd", StringComparison.Ordinal))
        {
            return new Sgd<T>(lr, Num("momentum"), Num("dampening"), Flag("nesterov"));
        }
        if (key.StartsWith("adagrad", StringComparison.Ordinal))
        {
            Unsupported("lr_decay", Num("lr_decay") != 0);
            Unsupported("initial_accumulator_value", Num("initial_accumulator_value") != 0);
            return new Adagrad<T>(lr, Num("eps"));
        }
        if (key.StartsWith("rmsprop", StringComparison.Ordinal))
        {
            Unsupported("momentum", Num("momentum") != 0);
            Unsupported("centered", Flag("centered"));
            return new RmsProp<T>(lr, Num("alpha"), Num("eps"));
        }
        if (key.StartsWith("adam", StringComparison.Ordinal))
        {
            Unsupported("amsgrad", Flag("amsgrad"));
            var betas = hp.GetProperty("betas");
            return new Adam<T>(lr, betas[0].GetDouble(), betas[1].GetDouble(), Num("eps"));
        }
        throw new InvalidDataException($"optimizers.json: no Carry optimizer for '{key}'");
    }
}
