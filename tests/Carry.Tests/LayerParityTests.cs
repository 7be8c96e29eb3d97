using System.Numerics;
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
    public void GivenThePyTorchRnnFixture_WhenRunForwardAndBackward_ThenOutputsAndGradientsMatchInDoubleAndFloat(string file)
    {
        var f = Fixtures.Load(file);
        int inputSize = f.GetProperty("input_size").GetInt32(), hidden = f.GetProperty("hidden_size").GetInt32();
        bool bias = f.GetProperty("bias").GetBoolean();
        var activation = Activations.Parse(f.GetProperty("nonlinearity").GetString()!);
        var layer = new SimpleRnn<double>(inputSize, hidden, activation, bias, returnSequences: true);
        RunSingleDirection(layer, f, 1e-9);
        RunSingleDirection(new SimpleRnn<float>(inputSize, hidden, activation, bias, returnSequences: true), f, 1e-4);
    }

    [Theory]
    [InlineData("pytorch/lstm.json")]
    [InlineData("pytorch/gru.json")]
    public void GivenThePyTorchGatedFixture_WhenRunForwardAndBackward_ThenOutputsAndGradientsMatchInDoubleAndFloat(string file)
    {
        var f = Fixtures.Load(file);
        int inputSize = f.GetProperty("input_size").GetInt32(), hidden = f.GetProperty("hidden_size").GetInt32();
        bool bias = f.GetProperty("bias").GetBoolean();
        RunSingleDirection(Build<double>(f, inputSize, hidden, bias), f, 1e-9);
        RunSingleDirection(Build<float>(f, inputSize, hidden, bias), f, 1e-4);
    }

    private static RecurrentLayer<T> Build<T>(JsonElement f, int inputSize, int hidden, bool bias) where T : unmanaged, IFloatingPointIeee754<T> =>
        f.GetProperty("kind").GetString() == "lstm"
            ? new Lstm<T>(inputSize, hidden, bias, returnSequences: true)
            : new Gru<T>(inputSize, hidden, bias, returnSequences: true);

    /// <summary>Runs one direction against a fixture: double within 1e-9, float within 1e-4.</summary>
    internal static void RunSingleDirection<T>(RecurrentLayer<T> layer, JsonElement f, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameters = f.GetProperty("parameters");
        foreach (var p in layer.Parameters) Fixtures.Tensor<T>(parameters.GetProperty(p.Name)).Span.CopyTo(p.Value.Span);
        var input = Fixtures.Tensor<T>(f.GetProperty("input"));
        int batch = input.Dim(0);
        var h0 = Fixtures.Tensor<T>(f.GetProperty("h0")).Reshape(batch, layer.StateSize);
        Tensor<T>? c0 = f.TryGetProperty("c0", out var c0e) ? Fixtures.Tensor<T>(c0e).Reshape(batch, layer.StateSize) : null;
        var result = layer.Forward(input, new RecurrentState<T>(h0, c0), training: true);
        Close.All(Fixtures.Tensor<T>(f.GetProperty("output")), result.Output, tol, "output");
        Close.All(Fixtures.Tensor<T>(f.GetProperty("h_n")).Reshape(batch, layer.StateSize), result.FinalState.Hidden, tol, "h_n");
        Assert.Equal(layer.HasCell, f.TryGetProperty("c_n", out var cn));
        if (layer.HasCell) Close.All(Fixtures.Tensor<T>(cn).Reshape(batch, layer.StateSize), result.FinalState.Cell!, tol, "c_n");

        var dOut = Fixtures.Tensor<T>(f.GetProperty("dOutput"));
        var dHn = Fixtures.Tensor<T>(f.GetProperty("dHn")).Reshape(batch, layer.StateSize);
        Tensor<T>? dCn = f.TryGetProperty("dCn", out var dcne) ? Fixtures.Tensor<T>(dcne).Reshape(batch, layer.StateSize) : null;
        var grads = layer.Backward(dOut, new RecurrentState<T>(dHn, dCn));
        Close.All(Fixtures.Tensor<T>(f.GetProperty("grad_input")), grads.DInput, tol, "grad_input");
        Close.All(Fixtures.Tensor<T>(f.GetProperty("grad_h0")).Reshape(batch, layer.StateSize), grads.DInitialState.Hidden, tol, "grad_h0");
        if (layer.HasCell) Close.All(Fixtures.Tensor<T>(f.GetProperty("grad_c0")).Reshape(batch, layer.StateSize), grads.DInitialState.Cell!, tol, "grad_c0");
        var gp = f.GetProperty("grad_parameters");
        foreach (var p in layer.Parameters) Close.All(Fixtures.Tensor<T>(gp.GetProperty(p.Name)), p.Gradient, tol, "grad " + p.Name);
    }
}
