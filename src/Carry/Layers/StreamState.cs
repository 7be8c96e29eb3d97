using System.Numerics;
using Carry.Numerics;

namespace Carry.Layers;

/// <summary>
/// The recurrent state of every recurrent layer of a <see cref="Sequential{T}"/> for a fixed
/// number of parallel streams, carried from one <c>Forward</c> to the next: the final state of
/// one chunk of a sequence is the initial state of the next (Keras's <c>stateful=True</c>,
/// char-rnn's truncated backpropagation through time). Gradients do not flow across chunks.
/// Layers stay stateless; this object holds the state and the model copies it in and out.
/// </summary>
public sealed class StreamState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly RecurrentState<T>?[] _states; // per layer: [B, H] hidden (and cell), or null for stateless layers

    /// <summary>Zero state for <paramref name="streams"/> streams through <paramref name="model"/>'s recurrent layers.</summary>
    /// <param name="model">The model whose recurrent layers carry state.</param>
    /// <param name="streams">B, the batch size every <c>Forward</c> with this state must use (e.g. 50).</param>
    public StreamState(Sequential<T> model, int streams)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(streams);
        Streams = streams;
        _states = new RecurrentState<T>?[model.Layers.Count];
        for (int i = 0; i < model.Layers.Count; i++)
        {
            if (model.Layers[i] is RecurrentLayer<T> r)
            {
                if (r.Reverse) throw new ArgumentException($"Layer {i} runs backwards in time; its state cannot be carried forward to the next chunk.", nameof(model));
                _states[i] = new RecurrentState<T>(new Tensor<T>(streams, r.StateSize), r.HasCell ? new Tensor<T>(streams, r.StateSize) : null);
            }
            else if (model.Layers[i] is Bidirectional<T>)
            {
                throw new ArgumentException($"Layer {i} is bidirectional; its state cannot be carried forward to the next chunk.", nameof(model));
            }
        }
    }

    /// <summary>B, the number of parallel streams.</summary>
    public int Streams { get; }

    /// <summary>Layers of the model the state was made for (stateless ones included).</summary>
    public int LayerCount => _states.Length;

    /// <summary>The state layer <paramref name="index"/> starts its next chunk from; null for a stateless layer.</summary>
    public RecurrentState<T>? this[int index] => _states[index];

    /// <summary>Zeros every state (the start of an epoch, or of a new text).</summary>
    public void Reset()
    {
        foreach (var s in _states)
        {
            s?.Hidden.Fill(T.Zero);
            s?.Cell?.Fill(T.Zero);
        }
    }

    /// <summary>Keeps layer <paramref name="index"/>'s final state of this chunk for the next.</summary>
    internal void Carry(int index, RecurrentState<T> final)
    {
        var s = _states[index]!;
        final.Hidden.Span.CopyTo(s.Hidden.Span);
        if (s.Cell is not null) final.Cell!.Span.CopyTo(s.Cell.Span);
    }

    /// <summary>Throws unless this state belongs to a model of <paramref name="layerCount"/> layers and a batch of <paramref name="batch"/>.</summary>
    internal void CheckFits(int layerCount, int batch)
    {
        if (layerCount != _states.Length) throw new ArgumentException($"The stream state was made for a model of {_states.Length} layers, not {layerCount}.", "state");
        if (batch != Streams) throw new ArgumentException($"The stream state holds {Streams} streams, but the batch has {batch}.", "state");
    }
}
