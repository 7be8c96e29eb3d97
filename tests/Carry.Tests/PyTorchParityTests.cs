using System.Numerics;
using System.Text.Json;
using System.Text.RegularExpressions;
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
public sealed partial class PyTorchParityTests
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
        if (precision == "double") RunStacked<double>(file, DoubleTolerance);
        else RunStacked<float>(file, FloatTolerance);
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

    /// <summary>
    /// Builds a <see cref="Sequential{T}"/> of <c>num_layers</c> (Bidirectional) recurrent layers
    /// with returnSequences, maps PyTorch's <c>weight_ih_l1_reverse</c> onto layer 1's
    /// <c>weight_ih_l0_reverse</c>, and drives it layer by layer so that each layer gets its own
    /// initial state. PyTorch's states are <c>[num_layers·dirs, B, H]</c> (l0 forward, l0 reverse,
    /// l1 forward, ...); a Bidirectional layer's are <c>[B, dirs·H]</c>, forward then backward.
    /// </summary>
    private static void RunStacked<T>(string file, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var f = Fixtures.Load(file);
        string kind = f.GetProperty("kind").GetString()!;
        int inputSize = f.GetProperty("input_size").GetInt32(), hidden = f.GetProperty("hidden_size").GetInt32();
        int layers = f.GetProperty("num_layers").GetInt32();
        int dirs = f.GetProperty("bidirectional").GetBoolean() ? 2 : 1;
        bool bias = f.GetProperty("bias").GetBoolean();
        int batch = f.GetProperty("batch").GetInt32(), time = f.GetProperty("time").GetInt32();

        var model = new Sequential<T>();
        for (int l = 0; l < layers; l++)
        {
            int inSize = l == 0 ? inputSize : dirs * hidden;
            RecurrentLayer<T> cell = kind switch
            {
                "lstm" => new Lstm<T>(inSize, hidden, bias, returnSequences: true),
                "gru" => new Gru<T>(inSize, hidden, bias, returnSequences: true),
                "rnn" or "rnn_tanh" or "rnn_relu" => new SimpleRnn<T>(inSize, hidden, Activations.Parse(f.GetProperty("nonlinearity").GetString()!), bias, returnSequences: true),
                _ => throw new InvalidDataException($"{file}: unknown kind '{kind}'"),
            };
            model.Add(dirs == 2 ? new Bidirectional<T>(cell) : cell);
        }

        // Parameters: every PyTorch tensor lands on exactly one of ours, and none of ours is left out.
        var ours = model.Parameters.ToDictionary(p => p.Name, p => p.Parameter);
        var parameters = f.GetProperty("parameters");
        var gradParameters = f.GetProperty("grad_parameters");
        var mapped = new Dictionary<string, string>(); // ours → PyTorch's
        foreach (var p in parameters.EnumerateObject())
        {
            string name = OurName(p.Name);
            Assert.True(ours.TryGetValue(name, out var param), $"{file}: PyTorch's {p.Name} has no counterpart {name} among {string.Join(", ", ours.Keys)}");
            var value = Fixtures.Tensor<T>(p.Value);
            Assert.True(value.HasShape(param.Shape), $"{p.Name} {value.ShapeString} vs {name} {param.Value.ShapeString}");
            value.Span.CopyTo(param.Value.Span);
            mapped[name] = p.Name;
        }
        Assert.Equal(ours.Count, mapped.Count);
        model.ZeroGradients();

        var input = Fixtures.Tensor<T>(f.GetProperty("input"));
        Assert.True(input.HasShape([batch, time, inputSize]), $"input {input.ShapeString}");
        bool hasCell = f.TryGetProperty("c0", out var c0e);
        var h0 = ToLayerStates(Fixtures.Tensor<T>(f.GetProperty("h0")), layers, dirs);
        var c0 = hasCell ? ToLayerStates(Fixtures.Tensor<T>(c0e), layers, dirs) : null;

        // Forward, layer by layer.
        var x = input;
        var hn = new Tensor<T>[layers];
        var cn = new Tensor<T>[layers];
        for (int l = 0; l < layers; l++)
        {
            var layer = (RecurrentLayer<T>)model.Layers[l];
            Assert.Equal(hasCell, layer.HasCell);
            var result = layer.Forward(x, new RecurrentState<T>(h0[l], c0?[l]), training: true);
            hn[l] = result.FinalState.Hidden.Clone();
            if (hasCell) cn[l] = result.FinalState.Cell!.Clone();
            x = result.Output;
        }
        Close.All(Fixtures.Tensor<T>(f.GetProperty("output")), x, tol, "output");
        Close.All(Fixtures.Tensor<T>(f.GetProperty("h_n")), FromLayerStates(hn, dirs), tol, "h_n");
        if (hasCell) Close.All(Fixtures.Tensor<T>(f.GetProperty("c_n")), FromLayerStates(cn, dirs), tol, "c_n");

        // Backward, from the last layer down; each layer's dFinalState is its slice of dHn (dCn).
        var dHn = ToLayerStates(Fixtures.Tensor<T>(f.GetProperty("dHn")), layers, dirs);
        var dCn = hasCell ? ToLayerStates(Fixtures.Tensor<T>(f.GetProperty("dCn")), layers, dirs) : null;
        var d = Fixtures.Tensor<T>(f.GetProperty("dOutput"));
        var dH0 = new Tensor<T>[layers];
        var dC0 = new Tensor<T>[layers];
        for (int l = layers - 1; l >= 0; l--)
        {
            var layer = (RecurrentLayer<T>)model.Layers[l];
            var g = layer.Backward(d, new RecurrentState<T>(dHn[l], dCn?[l]));
            dH0[l] = g.DInitialState.Hidden.Clone();
            if (hasCell) dC0[l] = g.DInitialState.Cell!.Clone();
            d = g.DInput.Clone();
        }
        Close.All(Fixtures.Tensor<T>(f.GetProperty("grad_input")), d, tol, "grad_input");
        Close.All(Fixtures.Tensor<T>(f.GetProperty("grad_h0")), FromLayerStates(dH0, dirs), tol, "grad_h0");
        if (hasCell) Close.All(Fixtures.Tensor<T>(f.GetProperty("grad_c0")), FromLayerStates(dC0, dirs), tol, "grad_c0");
        foreach (var (name, torchName) in mapped)
        {
            Close.All(Fixtures.Tensor<T>(gradParameters.GetProperty(torchName)), ours[name].Gradient, tol, $"grad {torchName} ({name})");
        }
    }

    /// <summary><c>weight_ih_l1_reverse</c> → <c>layers.1.weight_ih_l0_reverse</c>.</summary>
    private static string OurName(string torchName)
    {
        var m = LayerSuffix().Match(torchName);
        Assert.True(m.Success, $"unexpected PyTorch parameter name {torchName}");
        return $"layers.{m.Groups[2].Value}.{m.Groups[1].Value}_l0{m.Groups[3].Value}";
    }

    [GeneratedRegex(@"^(.+)_l(\d+)(_reverse)?$")]
    private static partial Regex LayerSuffix();

    /// <summary>PyTorch's <c>[L·D, B, H]</c> → per layer <c>[B, D·H]</c>, direction d at columns d·H.</summary>
    private static Tensor<T>[] ToLayerStates<T>(Tensor<T> torch, int layers, int dirs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(layers * dirs, torch.Dim(0));
        int batch = torch.Dim(1), h = torch.Dim(2);
        var states = new Tensor<T>[layers];
        for (int l = 0; l < layers; l++)
        {
            states[l] = new Tensor<T>(batch, dirs * h);
            for (int dir = 0; dir < dirs; dir++)
            {
                for (int b = 0; b < batch; b++)
                {
                    for (int j = 0; j < h; j++) states[l][b, (dir * h) + j] = torch[(l * dirs) + dir, b, j];
                }
            }
        }
        return states;
    }

    /// <summary>Per layer <c>[B, D·H]</c> → PyTorch's <c>[L·D, B, H]</c>.</summary>
    private static Tensor<T> FromLayerStates<T>(Tensor<T>[] states, int dirs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int layers = states.Length, batch = states[0].Dim(0), h = states[0].Dim(1) / dirs;
        var torch = new Tensor<T>(layers * dirs, batch, h);
        for (int l = 0; l < layers; l++)
        {
            for (int dir = 0; dir < dirs; dir++)
            {
                for (int b = 0; b < batch; b++)
                {
                    for (int j = 0; j < h; j++) torch[(l * dirs) + dir, b, j] = states[l][b, (dir * h) + j];
                }
            }
        }
        return torch;
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
        weight.Span.CopyTo(dense.Weight.Value.Span);
        Fixtures.Tensor<T>(f.GetProperty("bias")).Span.CopyTo(dense.Bias!.Value.Span);
        return dense;
    }

    private static void RunDenseLosses<T>(double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var f = Fixtures.Load("pytorch/dense_sigmoid_losses.json");
        var dense = FixtureDense<T>(f, Activation.Sigmoid);
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
