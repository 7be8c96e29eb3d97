using System.Numerics;
using System.Text.Json.Serialization;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>The layer kinds a <see cref="LayerSpec"/> names.</summary>
public static class LayerKinds
{
    public const string Dense = "dense";
    public const string Dropout = "dropout";
    public const string Elman = "elman";
    public const string Jordan = "jordan";
    public const string Lstm = "lstm";
    public const string Gru = "gru";
    public const string Bidirectional = "bidirectional";
    public const string Embedding = "embedding";
}

/// <summary>
/// A layer's architecture without its weights: what a .carry file stores in its <c>config</c>
/// and what rebuilds the layer when the file is loaded. Validated in <see cref="Create{T}"/>.
/// </summary>
public sealed record LayerSpec
{
    /// <summary>One of <see cref="LayerKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>Input features (per step for recurrent layers); the vocabulary size for an embedding.</summary>
    public int InputSize { get; init; }

    /// <summary>Hidden units (recurrent), output features (dense) or vector width (embedding).</summary>
    public int Units { get; init; }

    /// <summary>Jordan's output size.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int OutputSize { get; init; }

    /// <summary>Activation name (dense, elman, jordan).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Activation { get; init; }

    /// <summary>Jordan's output activation.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OutputActivation { get; init; }

    /// <summary>Whether the layer has biases.</summary>
    public bool Bias { get; init; } = true;

    /// <summary>Recurrent layers: every step's output or the last.</summary>
    public bool ReturnSequences { get; init; }

    /// <summary>Dropout rate.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double Rate { get; init; }

    /// <summary>Dropout seed.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public ulong Seed { get; init; }

    /// <summary>The wrapped layer (bidirectional).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LayerSpec? Inner { get; init; }

    /// <summary>
    /// Features per input step the layer reads: 1 for an embedding (the token index), the inner
    /// layer's input size for a bidirectional one, otherwise <see cref="InputSize"/> (0 when the
    /// layer takes any width, as dropout does).
    /// </summary>
    [JsonIgnore]
    public int InputFeatures => Kind switch
    {
        LayerKinds.Embedding => 1,
        LayerKinds.Bidirectional => Inner?.InputSize ?? 0,
        _ => InputSize,
    };

    /// <summary>Builds the layer this spec describes (weights zero until initialised or loaded).</summary>
    /// <param name="reverse">Build the time-reversed twin (used by <see cref="Bidirectional{T}"/>).</param>
    public Layer<T> Create<T>(bool reverse = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Kind is not LayerKinds.Dropout and not LayerKinds.Bidirectional)
        {
            if (InputSize <= 0) throw new ArgumentException($"Layer '{Kind}' has input size {InputSize}; it must be positive.", nameof(InputSize));
            if (Units <= 0) throw new ArgumentException($"Layer '{Kind}' has {Units} units; it must be positive.", nameof(Units));
        }
        return Kind switch
        {
            LayerKinds.Dense => new Dense<T>(InputSize, Units, ParseActivation(Activation, Numerics.Activation.Identity), Bias),
            LayerKinds.Dropout => new Dropout<T>(Rate, Seed),
            LayerKinds.Elman => new SimpleRnn<T>(InputSize, Units, ParseActivation(Activation, Numerics.Activation.Tanh), Bias, ReturnSequences, reverse),
            LayerKinds.Jordan => OutputSize > 0
                ? new Jordan<T>(InputSize, Units, OutputSize, ParseActivation(Activation, Numerics.Activation.Tanh), ParseActivation(OutputActivation, Numerics.Activation.Sigmoid), Bias, ReturnSequences, reverse)
                : throw new ArgumentException($"Jordan layer has output size {OutputSize}; it must be positive.", nameof(OutputSize)),
            LayerKinds.Lstm => new Lstm<T>(InputSize, Units, Bias, ReturnSequences, reverse),
            LayerKinds.Gru => new Gru<T>(InputSize, Units, Bias, ReturnSequences, reverse),
            LayerKinds.Embedding => new Embedding<T>(InputSize, Units),
            LayerKinds.Bidirectional => Inner is { Kind: not LayerKinds.Bidirectional and not LayerKinds.Dense and not LayerKinds.Dropout } inner
                ? new Bidirectional<T>((RecurrentLayer<T>)inner.Create<T>())
                : throw new ArgumentException("A bidirectional layer needs an inner recurrent layer.", nameof(Inner)),
            _ => throw new ArgumentException($"Unknown layer kind '{Kind}'.", nameof(Kind)),
        };
    }

    private static Activation ParseActivation(string? name, Activation fallback) => name is null ? fallback : Activations.Parse(name);
}
