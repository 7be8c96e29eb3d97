using System.Numerics;
using System.Text.RegularExpressions;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// Drives a PyTorch recurrent fixture (tests/fixtures/pytorch, or <c>$CARRY_FIXTURES</c>) through
/// Carry's layers. Kind, sizes, layers, directions, bias and nonlinearity all come from the file;
/// every PyTorch parameter is copied onto exactly one of Carry's, after a shape check.
/// </summary>
internal static partial class RecurrentParity
{
    /// <summary>
    /// Builds a <see cref="Sequential{T}"/> of <c>num_layers</c> (Bidirectional) recurrent layers
    /// with returnSequences, maps PyTorch's <c>weight_ih_l1_reverse</c> onto layer 1's
    /// <c>weight_ih_l0_reverse</c>, and drives it layer by layer so that each layer gets its own
    /// initial state. PyTorch's states are <c>[num_layers·dirs, B, H]</c> (l0 forward, l0 reverse,
    /// l1 forward, ...); a Bidirectional layer's are <c>[B, dirs·H]</c>, forward then backward.
    /// </summary>
    internal static void Run<T>(string file, double tol) where T : unmanaged, IFloatingPointIeee754<T>
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
                _ => throw new InvalidDataException($"{file}: no Carry layer for kind '{kind}'"),
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
            CopyInto(Fixtures.Tensor<T>(p.Value), param!, $"{p.Name} ({name})");
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

    /// <summary>Copies a fixture tensor into a parameter of the same shape.</summary>
    internal static void CopyInto<T>(Tensor<T> value, Parameter<T> parameter, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.True(value.HasShape(parameter.Shape), $"{what}: the fixture's {value.ShapeString}, Carry's {parameter.Value.ShapeString}");
        value.Span.CopyTo(parameter.Value.Span);
    }
}
