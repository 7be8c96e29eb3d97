using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// The vector paths of <see cref="Activations"/> held to the scalar formulas, element by element, at
/// every length from 0 to 70 (so that every vector-remainder case runs for 4-, 8- and 16-lane vectors).
/// </summary>
public sealed class ActivationTests
{
    public static TheoryData<string> Names() => new() { "identity", "sigmoid", "tanh", "relu", "hard_sigmoid", "hard_sigmoid_v3" };

    /// <summary>Inputs that cross every region: both tails, the hard sigmoids' corners, zero.</summary>
    private static double Input(int i) => ((i * 37) % 81 - 40) * 0.125;

    [Theory]
    [MemberData(nameof(Names))]
    public void GivenFloats_WhenApplyingInPlace_ThenEachElementIsTheScalarValueWithinOneUlpOrSo(string name)
    {
        var activation = Activations.Parse(name);
        for (int length = 0; length <= 70; length++)
        {
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)Input(i);
            var expected = values.Select(v => Activations.Value(activation, v)).ToArray();
            Activations.Apply(activation, values.AsSpan());
            for (int i = 0; i < length; i++)
            {
                // σ and tanh come from TensorPrimitives' kernels in float: within a few ulps of the scalar formula.
                Assert.True(Math.Abs(values[i] - expected[i]) <= 4e-7f, $"{name} at length {length}, element {i}: {values[i]} vs {expected[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GivenDoubles_WhenApplyingInPlace_ThenEachElementIsTheScalarValueExactly(string name)
    {
        var activation = Activations.Parse(name);
        var values = Enumerable.Range(0, 70).Select(Input).ToArray();
        var expected = values.Select(v => Activations.Value(activation, v)).ToArray();
        Activations.Apply(activation, values.AsSpan());
        Assert.Equal(expected, values);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GivenOutputsAndGradients_WhenMultiplyingByTheDerivative_ThenEachElementIsTheScalarProductBitForBit(string name)
    {
        var activation = Activations.Parse(name);
        for (int length = 0; length <= 70; length++)
        {
            var output = Enumerable.Range(0, length).Select(i => Activations.Value(activation, Input(i))).ToArray();
            var gradient = Enumerable.Range(0, length).Select(i => 1.0 + (i * 0.01)).ToArray();
            var expected = gradient.Select((g, i) => g * Activations.Derivative(activation, output[i])).ToArray();
            Activations.MultiplyDerivative(activation, output, gradient.AsSpan());
            Assert.Equal(expected, gradient);
            var outputF = output.Select(v => (float)v).ToArray();
            var gradientF = Enumerable.Range(0, length).Select(i => 1f + (i * 0.01f)).ToArray();
            var expectedF = gradientF.Select((g, i) => g * Activations.Derivative(activation, outputF[i])).ToArray();
            Activations.MultiplyDerivative(activation, outputF, gradientF.AsSpan());
            Assert.Equal(expectedF, gradientF);
        }
    }
}
