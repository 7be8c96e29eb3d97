using System.Text.Json;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>Recurrent layers against PyTorch 1.13 (../shared/fixtures/pytorch), every shape read from the file.</summary>
public sealed class LayerParityTests
{
    [Theory]
    [InlineData("pytorch/rnn_tanh.json")]
    [InlineData("pytorch/rnn_tanh_nobias.json")]
    public void GivenThePyTorchRnnFixture_WhenRunForwardAndBackward_ThenOutputsAndGradientsMatchInDouble(string file)
    {
        var f = Fixtures.Load(file);
        int inputSize = f.GetProperty("input_size").GetInt32(), hidden = f.GetProperty("hidden_size").GetInt32();
        bool bias = f.GetProperty("bias").GetBoolean();
        var activation = Activations.Parse(f.GetProperty("nonlinearity").GetString()!);
        var layer = new SimpleRnn<double>(inputSize, hidden, activation, bias, returnSequences: true);
        RunSingleDirection(layer, f, 1e-9);
    }

    [Theory]
    [InlineData("pytorch/lstm.json")]
    [InlineData("pytorch/gru.json")]
    public void GivenThePyTorchGatedFixture_WhenRunForwardAndBackward_ThenOutputsAndGradientsMatchInDouble(string file)
    {
        var f = Fixtures.Load(file);
        int inputSize = f.GetProperty("input_size").GetInt32(), hidden = f.GetProperty("hidden_size").GetInt32();
        bool bias = f.GetProperty("bias").GetBoolean();
        RecurrentLayer<double> layer = f.GetProperty("kind").GetString() == "lstm"
            ? new Lstm<double>(inputSize, hidden, bias, returnSequences: true)
            : new Gru<double>(inputSize, hidden, bias, returnSequences: true);
        RunSingleDirection(layer, f, 1e-9);
    }

    internal static void RunSingleDirection(RecurrentLayer<double> layer, JsonElement f, double tol)
    {
        var parameters = f.GetProperty("parameters");
        foreach (var p in layer.Parameters) Fixtures.Tensor<double>(parameters.GetProperty(p.Name)).Span.CopyTo(p.Value.Span);
        var input = Fixtures.Tensor<double>(f.GetProperty("input"));
        int batch = input.Dim(0);
        var h0 = Fixtures.Tensor<double>(f.GetProperty("h0")).Reshape(batch, layer.StateSize);
        Tensor<double>? c0 = f.TryGetProperty("c0", out var c0e) ? Fixtures.Tensor<double>(c0e).Reshape(batch, layer.StateSize) : null;
        var result = layer.Forward(input, new RecurrentState<double>(h0, c0), training: true);
        Close.All(Fixtures.Tensor<double>(f.GetProperty("output")), result.Output, tol, "output");
        Close.All(Fixtures.Tensor<double>(f.GetProperty("h_n")).Reshape(batch, layer.StateSize), result.FinalState.Hidden, tol, "h_n");

        var dOut = Fixtures.Tensor<double>(f.GetProperty("dOutput"));
        var dHn = Fixtures.Tensor<double>(f.GetProperty("dHn")).Reshape(batch, layer.StateSize);
        Tensor<double>? dCn = f.TryGetProperty("dCn", out var dcne) ? Fixtures.Tensor<double>(dcne).Reshape(batch, layer.StateSize) : null;
        var grads = layer.Backward(dOut, new RecurrentState<double>(dHn, dCn));
        Close.All(Fixtures.Tensor<double>(f.GetProperty("grad_input")), grads.DInput, tol, "grad_input");
        Close.All(Fixtures.Tensor<double>(f.GetProperty("grad_h0")).Reshape(batch, layer.StateSize), grads.DInitialState.Hidden, tol, "grad_h0");
        var gp = f.GetProperty("grad_parameters");
        foreach (var p in layer.Parameters) Close.All(Fixtures.Tensor<double>(gp.GetProperty(p.Name)), p.Gradient, tol, "grad " + p.Name);
    }
}
