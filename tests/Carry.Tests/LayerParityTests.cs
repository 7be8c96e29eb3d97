namespace Carry.Tests;

/// <summary>
/// Single recurrent layers against PyTorch 1.13 (tests/fixtures/pytorch, or <c>$CARRY_FIXTURES</c>):
/// output, final state and every gradient, double within 1e-9 and float within 1e-4, with kind,
/// sizes, layers, directions and bias read from the file (<see cref="RecurrentParity"/>).
/// </summary>
public sealed class LayerParityTests
{
    [Theory]
    [InlineData("pytorch/rnn_tanh.json")]
    [InlineData("pytorch/rnn_tanh_nobias.json")]
    [InlineData("pytorch/lstm.json")]
    [InlineData("pytorch/gru.json")]
    public void GivenAPyTorchLayerFixture_WhenRunForwardAndBackward_ThenOutputsAndGradientsMatchInDoubleAndFloat(string file)
    {
        RecurrentParity.Run<double>(file, 1e-9);
        RecurrentParity.Run<float>(file, 1e-4);
    }
}
