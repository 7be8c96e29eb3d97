namespace Carry.Layers;

/// <summary>How a layer's weights are first drawn.</summary>
public enum Initialization
{
    /// <summary>
    /// PyTorch's defaults: recurrent layers draw every weight and bias from
    /// <c>U(-1/√H, 1/√H)</c>; <c>nn.Linear</c> draws weight and bias from <c>U(-1/√in, 1/√in)</c>.
    /// </summary>
    PyTorch,

    /// <summary>
    /// Keras's defaults: glorot-uniform input kernels (<c>±√(6/(fan_in+fan_out))</c>), orthogonal
    /// recurrent kernels, zero biases except the LSTM forget gate's, which is 1.
    /// </summary>
    Keras,
}
