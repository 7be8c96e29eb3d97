using System.Numerics;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;

namespace Carry.Text;

/// <summary>
/// The architecture and hyper-parameters of a char-rnn (karpathy's defaults unless set):
/// symbols in (one-hot, or through an embedding), <see cref="Layers"/> stacked LSTMs of
/// <see cref="HiddenSize"/>, dropout after each when <see cref="Dropout"/> &gt; 0, and a dense
/// layer to one logit per symbol; softmax cross-entropy; RMSprop; element-wise clipping.
/// </summary>
public sealed record CharRnnOptions
{
    /// <summary>Recurrent cell: <c>lstm</c> (default), <c>gru</c> or <c>elman</c>.</summary>
    public string Cell { get; init; } = LayerKinds.Lstm;

    /// <summary>Stacked recurrent layers (default 2).</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Hidden units per layer (default 128).</summary>
    public int HiddenSize { get; init; } = 128;

    /// <summary>Width of the symbol embedding; 0 (default) feeds one-hot rows of the vocabulary's size.</summary>
    public int Embedding { get; init; }

    /// <summary>Dropout after each recurrent layer, in [0, 1) (default 0, as char-rnn).</summary>
    public double Dropout { get; init; }

    /// <summary>Steps per chunk of truncated BPTT (default 50).</summary>
    public int Seq { get; init; } = 50;

    /// <summary>Parallel streams, the batch (default 50).</summary>
    public int Batch { get; init; } = 50;

    /// <summary>RMSprop's learning rate (default 2e-3).</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>RMSprop's squared-gradient decay α (default 0.95, char-rnn's <c>decay_rate</c>).</summary>
    public double RmsDecay { get; init; } = 0.95;

    /// <summary>Clip each gradient element to ±this (default 5, char-rnn's <c>grad_clip</c>; 0: off).</summary>
    public double ClipValue { get; init; } = 5;

    /// <summary>Clip the global gradient norm to this (default 0: off).</summary>
    public double ClipNorm { get; init; }

    /// <summary>Multiply the learning rate by this after each epoch past <see cref="DecayAfter"/> (default 0.97).</summary>
    public double Decay { get; init; } = 0.97;

    /// <summary>Epochs before the learning rate starts to decay (default 10).</summary>
    public int DecayAfter { get; init; } = 10;

    /// <summary>Every parameter starts from U(-this, this) (default 0.08, char-rnn's <c>init_from</c> default).</summary>
    public double InitRange { get; init; } = 0.08;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (Cell is not (LayerKinds.Lstm or LayerKinds.Gru or LayerKinds.Elman)) throw new ArgumentOutOfRangeException(nameof(Cell), Cell, "The cell must be lstm, gru or elman.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(HiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegative(Embedding);
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Seq);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Batch);
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be a positive number.");
        if (!(RmsDecay >= 0 && RmsDecay < 1)) throw new ArgumentOutOfRangeException(nameof(RmsDecay), RmsDecay, "The RMSprop decay must be in [0, 1).");
        if (!(ClipValue >= 0) || double.IsInfinity(ClipValue)) throw new ArgumentOutOfRangeException(nameof(ClipValue), ClipValue, "The clip value must be ≥ 0.");
        if (!(ClipNorm >= 0) || double.IsInfinity(ClipNorm)) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "The clip norm must be ≥ 0.");
        if (!(Decay > 0 && Decay <= 1)) throw new ArgumentOutOfRangeException(nameof(Decay), Decay, "The learning-rate decay must be in (0, 1].");
        ArgumentOutOfRangeException.ThrowIfNegative(DecayAfter);
        if (!(InitRange > 0) || double.IsInfinity(InitRange)) throw new ArgumentOutOfRangeException(nameof(InitRange), InitRange, "The initial range must be positive.");
    }
}

/// <summary>Builds char-rnn models and reads what they need from one.</summary>
public static class CharRnn
{
    /// <summary>
    /// A char-rnn over <paramref name="vocabulary"/>, every parameter drawn from
    /// U(-InitRange, InitRange) with <paramref name="seed"/>, then each LSTM's input forget-gate
    /// bias set to 1 (char-rnn's train.lua), and compiled with softmax cross-entropy and RMSprop.
    /// </summary>
    public static Sequential<T> Create<T>(Vocabulary vocabulary, CharRnnOptions options, ulong seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int v = vocabulary.Count, h = options.HiddenSize;
        var model = new Sequential<T>();
        if (options.Embedding > 0) model.Add(new Embedding<T>(v, options.Embedding));
        int input = options.Embedding > 0 ? options.Embedding : v;
        for (int l = 0; l < options.Layers; l++)
        {
            model.Add(new LayerSpec { Kind = options.Cell, InputSize = l == 0 ? input : h, Units = h, ReturnSequences = true }.Create<T>());
            if (options.Dropout > 0) model.Add(new Dropout<T>(options.Dropout, seed + 1 + (ulong)l));
        }
        model.Add(new Dense<T>(h, v));
        var random = new RandomGenerator(seed);
        foreach (var p in model.ParameterList)
        {
            var values = p.Value.Span;
            for (int i = 0; i < values.Length; i++) values[i] = T.CreateChecked(((random.NextDouble() * 2) - 1) * options.InitRange);
        }
        foreach (var lstm in model.Layers.OfType<Lstm<T>>())
        {
            lstm.BiasIh?.Value.Span.Slice(h, h).Fill(T.One); // forget gate: remember at the start
        }
        Compile(model, vocabulary, options);
        return model;
    }

    /// <summary>Sets char-rnn's loss (softmax cross-entropy over the vocabulary) and optimizer (RMSprop) on <paramref name="model"/>.</summary>
    public static void Compile<T>(Sequential<T> model, Vocabulary vocabulary, CharRnnOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(options);
        model.Compile(new SoftmaxCrossEntropy<T>(vocabulary.Count), new RmsProp<T>(options.LearningRate, alpha: options.RmsDecay));
    }

    /// <summary>
    /// The width of one input step: 1 (an index) when the first layer is an embedding, otherwise
    /// the vocabulary size (one-hot). Checks that the model outputs one logit per symbol.
    /// </summary>
    /// <exception cref="ArgumentException">The model does not fit the vocabulary.</exception>
    public static int InputWidth<T>(Sequential<T> model, Vocabulary vocabulary) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (model.Layers.Count == 0) throw new ArgumentException("The model has no layers.", nameof(model));
        var first = model.Layers[0].Spec;
        int width = first.InputFeatures;
        if (first.InputSize != vocabulary.Count)
        {
            throw new ArgumentException($"The model's first layer takes {first.InputSize} symbols, but the vocabulary has {vocabulary.Count}.", nameof(model));
        }
        int[] output = model.OutputShape([1, width]);
        if (output.Length != 2 || output[^1] != vocabulary.Count)
        {
            throw new ArgumentException($"The model outputs {Tensor<T>.ShapeText(output)} per step, not one logit per symbol of the vocabulary ({vocabulary.Count}).", nameof(model));
        }
        return width;
    }
}
