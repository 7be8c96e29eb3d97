using System.Numerics;
using Carry.Layers;
using Carry.Numerics;

namespace Carry.Analysis;

/// <summary>
/// One recurrent layer's weights in double and its cell over intervals: the same formulas as the
/// layer's forward pass (see each layer's documentation), with every operation replaced by its
/// interval enclosure.
/// </summary>
internal sealed class LayerWeights
{
    private readonly string _kind;
    private readonly int _h, _offset;                  // units; where the layer's state starts in a row
    private readonly double[] _wIh, _wHh, _bIh, _bHh;  // Elman/LSTM/GRU: [G·H, I], [G·H, H], [G·H], [G·H]; Jordan: weight_ih, weight_yh, bias_h, (none)
    private readonly double[] _wHy, _bY;               // Jordan: [O, H], [O]
    private readonly Activation _f, _g;                 // Elman/Jordan hidden activation; Jordan output activation

    private LayerWeights(string kind, int h, int offset, double[] wIh, double[] wHh, double[] bIh, double[] bHh,
        Activation f = Activation.Tanh, double[]? wHy = null, double[]? bY = null, Activation g = Activation.Sigmoid)
    {
        _kind = kind;
        _h = h;
        _offset = offset;
        _wIh = wIh;
        _wHh = wHh;
        _bIh = bIh;
        _bHh = bHh;
        _f = f;
        _wHy = wHy ?? [];
        _bY = bY ?? [];
        _g = g;
    }

    public static LayerWeights From<T>(RecurrentLayer<T> layer, int offset) where T : unmanaged, IFloatingPointIeee754<T>
    {
        static double[] D(Parameter<T>? p, int length) => p is null ? new double[length] : IntervalNetwork.ToDouble<T>(p.Value.Span);
        switch (layer)
        {
            case SimpleRnn<T> rnn:
                return new LayerWeights(LayerKinds.Elman, rnn.HiddenSize, offset, D(rnn.WeightIh, 0), D(rnn.WeightHh, 0), D(rnn.BiasIh, rnn.HiddenSize), D(rnn.BiasHh, rnn.HiddenSize), rnn.ActivationFunction);
            case Lstm<T> lstm:
                return new LayerWeights(LayerKinds.Lstm, lstm.HiddenSize, offset, D(lstm.WeightIh, 0), D(lstm.WeightHh, 0), D(lstm.BiasIh, 4 * lstm.HiddenSize), D(lstm.BiasHh, 4 * lstm.HiddenSize));
            case Gru<T> gru:
                return new LayerWeights(LayerKinds.Gru, gru.HiddenSize, offset, D(gru.WeightIh, 0), D(gru.WeightHh, 0), D(gru.BiasIh, 3 * gru.HiddenSize), D(gru.BiasHh, 3 * gru.HiddenSize));
            case Jordan<T> jordan:
                return new LayerWeights(LayerKinds.Jordan, jordan.HiddenSize, offset, D(jordan.WeightIh, 0), D(jordan.WeightYh, 0), D(jordan.BiasH, jordan.HiddenSize), [],
                    jordan.ActivationFunction, D(jordan.WeightHy, 0), D(jordan.BiasY, jordan.OutputUnits), jordan.OutputActivation);
            default:
                throw new NotSupportedException($"verify has no interval bound for layer {layer.Spec.Kind}.");
        }
    }

    /// <summary>Writes the range of this layer's state numbers into <paramref name="range"/>.</summary>
    public void Range(Interval[] range)
    {
        int width = _kind == LayerKinds.Jordan ? _bY.Length : _h;
        var bound = Bound(_kind == LayerKinds.Jordan ? _g : _kind == LayerKinds.Elman ? _f : Activation.Tanh);
        for (int j = 0; j < width; j++) range[_offset + j] = bound;
        if (_kind == LayerKinds.Lstm)
        {
            for (int j = 0; j < _h; j++) range[_offset + _h + j] = new(double.NegativeInfinity, double.PositiveInfinity);
        }
    }

    private static Interval Bound(Activation a) => a switch
    {
        Activation.Sigmoid => new(0, 1),
        Activation.Tanh => new(-1, 1),
        _ => new(double.NegativeInfinity, double.PositiveInfinity),
    };

    /// <summary>One step over intervals: reads this layer's state from <paramref name="state"/>, writes it to <paramref name="next"/>, returns the layer's output.</summary>
    public Interval[] Step(IntervalNetwork net, Interval[] x, ReadOnlySpan<Interval> state, Span<Interval> next) => _kind switch
    {
        LayerKinds.Elman => Elman(net, x, state, next),
        LayerKinds.Lstm => Lstm(net, x, state, next),
        LayerKinds.Gru => Gru(net, x, state, next),
        _ => Jordan(net, x, state, next),
    };

    // h_t = f(W_ih x + b_ih + W_hh h + b_hh)
    private Interval[] Elman(IntervalNetwork net, Interval[] x, ReadOnlySpan<Interval> state, Span<Interval> next)
    {
        var h = state.Slice(_offset, _h);
        var output = new Interval[_h];
        for (int j = 0; j < _h; j++) output[j] = net.Activate(_f, net.Affine(_wIh, j, x, _wHh, j, h, _bIh[j], _bHh[j]));
        output.CopyTo(next.Slice(_offset, _h));
        return output;
    }

    // i, f, o = σ(·), g = tanh(·); c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh c'
    private Interval[] Lstm(IntervalNetwork net, Interval[] x, ReadOnlySpan<Interval> state, Span<Interval> next)
    {
        var h = state.Slice(_offset, _h);
        var c = state.Slice(_offset + _h, _h);
        var output = new Interval[_h];
        var cell = new Interval[_h];
        for (int j = 0; j < _h; j++)
        {
            var i = net.Activate(Activation.Sigmoid, net.Affine(_wIh, j, x, _wHh, j, h, _bIh[j], _bHh[j]));
            var f = net.Activate(Activation.Sigmoid, net.Affine(_wIh, _h + j, x, _wHh, _h + j, h, _bIh[_h + j], _bHh[_h + j]));
            var g = net.Activate(Activation.Tanh, net.Affine(_wIh, (2 * _h) + j, x, _wHh, (2 * _h) + j, h, _bIh[(2 * _h) + j], _bHh[(2 * _h) + j]));
            var o = net.Activate(Activation.Sigmoid, net.Affine(_wIh, (3 * _h) + j, x, _wHh, (3 * _h) + j, h, _bIh[(3 * _h) + j], _bHh[(3 * _h) + j]));
            cell[j] = net.Rounded(net.Rounded(f * c[j]) + net.Rounded(i * g));
            output[j] = net.Rounded(o * net.Activate(Activation.Tanh, cell[j]));
        }
        output.CopyTo(next.Slice(_offset, _h));
        cell.CopyTo(next.Slice(_offset + _h, _h));
        return output;
    }

    // r = σ(·), z = σ(·), n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); h' = (1 − z) ⊙ n + z ⊙ h
    private Interval[] Gru(IntervalNetwork net, Interval[] x, ReadOnlySpan<Interval> state, Span<Interval> next)
    {
        var h = state.Slice(_offset, _h);
        var output = new Interval[_h];
        for (int j = 0; j < _h; j++)
        {
            var r = net.Activate(Activation.Sigmoid, net.Affine(_wIh, j, x, _wHh, j, h, _bIh[j], _bHh[j]));
            var z = net.Activate(Activation.Sigmoid, net.Affine(_wIh, _h + j, x, _wHh, _h + j, h, _bIh[_h + j], _bHh[_h + j]));
            var xn = net.Affine(_wIh, (2 * _h) + j, x, null, 0, [], _bIh[(2 * _h) + j], 0);
            var hn = net.Affine(_wHh, (2 * _h) + j, h, null, 0, [], _bHh[(2 * _h) + j], 0);
            var n = net.Activate(Activation.Tanh, net.Rounded(xn + net.Rounded(r * hn)));
            output[j] = net.Rounded(ConvexCombination(z, n, h[j]), n.Magnitude + h[j].Magnitude); // fl(fl(1 − z)·n) + fl(z·h): three roundings
        }
        output.CopyTo(next.Slice(_offset, _h));
        return output;
    }

    /// <summary>
    /// <c>(1 − z) n + z h</c> for z in [0, 1]: increasing in n and in h, so its extremes lie at
    /// (n.Lo, h.Lo) and (n.Hi, h.Hi), each at an end of z's interval (linear in z). The enclosure
    /// is also clipped to the hull of n and h, which a convex combination never leaves.
    /// </summary>
    private static Interval ConvexCombination(Interval z, Interval n, Interval h)
    {
        Interval At(double zv, double nv, double hv) => (Interval.Point(1 - zv) * Interval.Point(nv)).Widen(0, Math.Abs(nv) * Interval.MachineEpsilon) + (Interval.Point(zv) * Interval.Point(hv));
        var low = Interval.Hull(At(z.Lo, n.Lo, h.Lo), At(z.Hi, n.Lo, h.Lo));
        var high = Interval.Hull(At(z.Lo, n.Hi, h.Hi), At(z.Hi, n.Hi, h.Hi));
        double lo = Math.Max(low.Lo, Math.Min(n.Lo, h.Lo)), hi = Math.Min(high.Hi, Math.Max(n.Hi, h.Hi));
        return new(lo, hi);
    }

    // h = f(W_ih x + W_yh y + b_h); y' = g(W_hy h + b_y); the state is y
    private Interval[] Jordan(IntervalNetwork net, Interval[] x, ReadOnlySpan<Interval> state, Span<Interval> next)
    {
        int o = _bY.Length;
        var y = state.Slice(_offset, o);
        var hidden = new Interval[_h];
        for (int j = 0; j < _h; j++) hidden[j] = net.Activate(_f, net.Affine(_wIh, j, x, _wHh, j, y, _bIh[j], 0));
        var output = new Interval[o];
        for (int k = 0; k < o; k++) output[k] = net.Activate(_g, net.Affine(_wHy, k, hidden, null, 0, [], _bY[k], 0));
        output.CopyTo(next.Slice(_offset, o));
        return output;
    }
}
