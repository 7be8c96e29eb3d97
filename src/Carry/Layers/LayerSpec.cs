using System.Numerics;
using System.Text.Json.Serialization;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>The layer kinds a <see cref="LayerSpec"/> names.</summary>
public static class LayerKinds
{
    /// <summary>Fully connected (<see cref="Dense{T}"/>).</summary>
    public const string Dense = "dense";
    /// <summary>Inverted dropout (<see cref="Dropout{T}"/>).</summary>
    public const string Dropout = "dropout";
    /// <summary>Elman network, PyTorch's <c>nn.RNN</c> (<see cref="SimpleRnn{T}"/>).</summary>
    public const string Elman = "elman";
    /// <summary>Jordan network: the output fed back (<see cref="Jordan{T}"/>).</summary>
    public const string Jordan = "jordan";
    /// <summary>LSTM, PyTorch's <c>nn.LSTM</c> (<see cref="Lstm{T}"/>).</summary>
    public const string Lstm = "lstm";
    /// <summary>GRU, PyTorch's <c>nn.GRU</c> (<see cref="Gru{T}"/>).</summary>
    public const string Gru = "gru";
    /// <summary>A recurrent layer run both ways (<see cref="Bidirectional{T}"/>).</summary>
    public const string Bidirectional = "bidirectional";
    /// <summary>A table of learned vectors read by token index (<see cref="Embedding{T}"/>).</summary>
    public const string Embedding = "embedding";
    /// <summary>A parameter-free activation, softmax included (<see cref="ActivationLayer{T}"/>).</summary>
    public const string Activation = "activation";
    /// <summary>Keras's <c>RepeatVector</c> (<see cref="RepeatVector{T}"/>).</summary>
    public const string RepeatVector = "repeat_vector";
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

    /// <summary>Activation name (dense, elman, jordan; activation, which also takes <c>softmax</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Activation { get; init; }

    /// <summary>Jordan's output activation.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OutputActivation { get; init; }

    /// <summary>
    /// LSTM and GRU: the gates' σ (Keras's <c>recurrent_activation</c>); null is the logistic
    /// sigmoid, also <c>hard_sigmoid</c> (Keras 2: <c>clip(0.2 x + 0.5, 0, 1)</c>) and
    /// <c>hard_sigmoid_v3</c> (Keras 3: <c>clip(x / 6 + 0.5, 0, 1)</c>).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RecurrentActivation { get; init; }

    /// <summary>
    /// GRU: apply the reset gate after the recurrent product, <c>n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))</c>
    /// (true, the default: PyTorch's GRU and Keras's <c>reset_after=True</c>), or before it,
    /// <c>n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)</c> (false: Keras's <c>reset_after=False</c>).
    /// </summary>
    [JsonIgnore]
    public bool ResetAfter { get; init; } = true;

    /// <summary><see cref="ResetAfter"/> as JSON: written only when false, so other layers' configs do not change.</summary>
    [JsonInclude]
    [JsonPropertyName("resetAfter")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    internal bool? ResetAfterJson
    {
        get => ResetAfter ? null : false;
        init => ResetAfter = value ?? true;
    }

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

    /// <summary>Steps of the output (repeat_vector).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Repeats { get; init; }

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
    /// <exception cref="ArgumentException">The spec is not a valid layer (see <see cref="ParameterShapes.Of"/>).</exception>
    public Layer<T> Create<T>(bool reverse = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParameterShapes.Of(this); // validates the spec: sizes, names and fields, one message per problem
        return Kind switch
        {
            LayerKinds.Dense => new Dense<T>(InputSize, Units, ParseActivation(Activation, Numerics.Activation.Identity), Bias),
            LayerKinds.Dropout => new Dropout<T>(Rate, Seed),
            LayerKinds.Elman => new SimpleRnn<T>(InputSize, Units, ParseActivation(Activation, Numerics.Activation.Tanh), Bias, ReturnSequences, reverse),
            LayerKinds.Jordan => new Jordan<T>(InputSize, Units, OutputSize, ParseActivation(Activation, Numerics.Activation.Tanh), ParseActivation(OutputActivation, Numerics.Activation.Sigmoid), Bias, ReturnSequences, reverse),
            LayerKinds.Lstm => new Lstm<T>(InputSize, Units, Bias, ReturnSequences, reverse, ParseActivation(RecurrentActivation, Numerics.Activation.Sigmoid)),
            LayerKinds.Gru => new Gru<T>(InputSize, Units, Bias, ReturnSequences, reverse, ParseActivation(RecurrentActivation, Numerics.Activation.Sigmoid), ResetAfter),
            LayerKinds.Embedding => new Embedding<T>(InputSize, Units),
            LayerKinds.Activation => new ActivationLayer<T>(Activation!), // Of has checked an activation layer names one
            LayerKinds.RepeatVector => new RepeatVector<T>(Repeats),
            _ => new Bidirectional<T>((RecurrentLayer<T>)Inner!.Create<T>()), // Of has checked it is bidirectional over a recurrent kind
        };
    }

    /// <summary>The <see cref="RecurrentActivation"/> a layer writes: null for the sigmoid, otherwise the activation's name.</summary>
    public static string? RecurrentActivationName(Activation activation) => activation == Numerics.Activation.Sigmoid ? null : activation.Name();

    private static Activation ParseActivation(string? name, Activation fallback) => name is null ? fallback : Activations.Parse(name);
}
