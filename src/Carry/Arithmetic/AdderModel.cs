using System.Numerics;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Arithmetic;

/// <summary>The adder architectures of <c>carry train</c> and <c>carry experiments</c>.</summary>
public static class AdderModel
{
    /// <summary>
    /// <paramref name="layers"/> recurrent layers of <paramref name="cell"/> (each bidirectional if
    /// asked; every one but the last returns sequences for concat, all of them for aligned), dropout,
    /// then <c>Dense(→bits+1, sigmoid)</c> on the last output (concat) or <c>Dense(→1, sigmoid)</c> per step (aligned).
    /// A Jordan layer feeds back an output as wide as its hidden layer.
    /// </summary>
    /// <param name="cell"><c>elman</c>, <c>jordan</c>, <c>lstm</c> or <c>gru</c>.</param>
    /// <param name="encoding"><see cref="AlignedEncoding.Name"/> or <see cref="ConcatEncoding.Name"/>.</param>
    /// <param name="bits">Operand width (concat models only add this width).</param>
    /// <param name="hidden">Hidden units per recurrent layer.</param>
    /// <param name="layers">Stacked recurrent layers (default 1).</param>
    /// <param name="bidirectional">Wrap each recurrent layer in a forward and a backward pass (default false).</param>
    /// <param name="dropout">Dropout rate after the recurrent stack (default 0: none).</param>
    /// <param name="activation">Hidden non-linearity of Elman and Jordan cells (default tanh).</param>
    /// <param name="dropoutSeed">Seed of the dropout generator (default 1).</param>
    public static Sequential<T> Build<T>(string cell, string encoding, int bits, int hidden, int layers = 1, bool bidirectional = false,
        double dropout = 0, string activation = "tanh", ulong dropoutSeed = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool aligned = encoding == AlignedEncoding.Name;
        var model = new Sequential<T>();
        int features = aligned ? 2 : 1;
        for (int l = 0; l < layers; l++)
        {
            var spec = new LayerSpec
            {
                Kind = cell,
                InputSize = features,
                Units = hidden,
                OutputSize = cell == LayerKinds.Jordan ? hidden : 0,
                Activation = cell is LayerKinds.Elman or LayerKinds.Jordan ? activation : null,
                OutputActivation = cell == LayerKinds.Jordan ? "sigmoid" : null,
                ReturnSequences = aligned || l < layers - 1,
            };
            var layer = (RecurrentLayer<T>)spec.Create<T>();
            if (bidirectional) layer = new Bidirectional<T>(layer);
            model.Add(layer);
            features = layer.OutputSize;
        }
        if (dropout > 0) model.Add(new Dropout<T>(dropout, dropoutSeed));
        model.Add(new Dense<T>(features, aligned ? 1 : bits + 1, Activation.Sigmoid));
        return model;
    }

    /// <summary>
    /// An aligned Jordan adder whose only output is the sum bit: <c>Jordan(2→H→1)</c>, the sum bit
    /// <c>y_t</c> its output and the only state fed back — no dense layer after it.
    /// </summary>
    public static Sequential<T> JordanSumBit<T>(int hidden) where T : unmanaged, IFloatingPointIeee754<T> =>
        new(new Jordan<T>(2, hidden, 1, Activation.Tanh, Activation.Sigmoid, returnSequences: true));
}
