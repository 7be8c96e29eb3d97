using System.Numerics;
using Carry.Layers;

namespace Carry.Optimizers;

/// <summary>
/// Updates parameters from their gradients with PyTorch's rules. State (moments, accumulators)
/// is kept per parameter in named slots, so checkpoints can save and restore it.
/// </summary>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<string, List<T[]>> _slots = [];

    /// <param name="learningRate">Step size (lr).</param>
    protected Optimizer(double learningRate)
    {
        if (!(learningRate > 0.0) || double.IsInfinity(learningRate)) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be a positive finite number.");
        LearningRate = learningRate;
    }

    /// <summary>The learning rate; a schedule may change it between steps.</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken so far (Adam's bias correction counts them).</summary>
    public long StepCount { get; set; }

    /// <summary>Name as used on the command line (<c>sgd</c>, <c>momentum</c>, <c>adam</c>, ...).</summary>
    public abstract string Name { get; }

    /// <summary>Names of the per-parameter state slots (e.g. <c>m</c>, <c>v</c>).</summary>
    protected abstract string[] SlotNames { get; }

    /// <summary>Applies one update to every parameter from its accumulated gradient.</summary>
    public void Step(IReadOnlyList<Parameter<T>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        EnsureSlots(parameters);
        StepCount++;
        for (int i = 0; i < parameters.Count; i++)
        {
            Update(i, parameters[i].Value.Span, parameters[i].Gradient.Span);
        }
    }

    /// <summary>Update of parameter <paramref name="index"/>.</summary>
    protected abstract void Update(int index, Span<T> value, ReadOnlySpan<T> gradient);

    /// <summary>State slot <paramref name="name"/> of parameter <paramref name="index"/>.</summary>
    protected Span<T> Slot(string name, int index) => _slots[name][index];

    /// <summary>Every state array by <c>slot.index</c>, for checkpoints.</summary>
    public IReadOnlyDictionary<string, T[]> GetState()
    {
        var state = new Dictionary<string, T[]>();
        foreach (var (name, list) in _slots)
        {
            for (int i = 0; i < list.Count; i++) state[$"{name}.{i}"] = list[i];
        }
        return state;
    }

    /// <summary>Restores state saved by <see cref="GetState"/> for the same parameter list.</summary>
    public void SetState(IReadOnlyList<Parameter<T>> parameters, IReadOnlyDictionary<string, T[]> state, long stepCount)
    {
        EnsureSlots(parameters);
        foreach (var (name, list) in _slots)
        {
            for (int i = 0; i < list.Count; i++)
            {
                if (!state.TryGetValue($"{name}.{i}", out var values) || values.Length != list[i].Length)
                {
                    throw new ArgumentException($"Optimizer state '{name}.{i}' is missing or has the wrong size.", nameof(state));
                }
                values.CopyTo(list[i], 0);
            }
        }
        StepCount = stepCount;
    }

    private void EnsureSlots(IReadOnlyList<Parameter<T>> parameters)
    {
        foreach (var name in SlotNames)
        {
            if (!_slots.TryGetValue(name, out var list))
            {
                list = [];
                _slots[name] = list;
            }
            if (SameLayout(list, parameters)) continue;
            // A different parameter list (count or sizes): fresh state, as for a first step.
            list.Clear();
            foreach (var p in parameters) list.Add(new T[p.Length]);
        }
    }

    private static bool SameLayout(List<T[]> slots, IReadOnlyList<Parameter<T>> parameters)
    {
        if (slots.Count != parameters.Count) return false;
        for (int i = 0; i < slots.Count; i++)
        {
            if (slots[i].Length != parameters[i].Length) return false;
        }
        return true;
    }

    /// <summary>Creates an optimizer by name: <c>sgd</c>, <c>momentum</c>, <c>nesterov</c>, <c>adagrad</c>, <c>rmsprop</c>, <c>adam</c>.</summary>
    /// <param name="name">The optimizer.</param>
    /// <param name="learningRate">Its learning rate.</param>
    /// <param name="epsilon">Adam's ε (PyTorch 1e-8, Keras 1e-7).</param>
    public static Optimizer<T> Create(string name, double learningRate, double epsilon = 1e-7) => name.ToLowerInvariant() switch
    {
        "sgd" => new Sgd<T>(learningRate),
        "momentum" => new Sgd<T>(learningRate, momentum: 0.9),
        "nesterov" => new Sgd<T>(learningRate, momentum: 0.9, nesterov: true),
        "adagrad" => new Adagrad<T>(learningRate),
        "rmsprop" => new RmsProp<T>(learningRate),
        "adam" => new Adam<T>(learningRate, epsilon: epsilon),
        _ => throw new ArgumentException($"Unknown optimizer '{name}' (expected sgd, momentum, nesterov, adagrad, rmsprop or adam).", nameof(name)),
    };
}

/// <summary>
/// <c>torch.optim.SGD</c>: <c>p -= lr g</c>; with momentum μ, <c>b = μ b + (1 - dampening) g</c>
/// (b = g at the first step) and <c>p -= lr b</c>, or with Nesterov <c>p -= lr (g + μ b)</c>.
/// </summary>
public sealed class Sgd<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="learningRate">lr (e.g. 0.1).</param>
    /// <param name="momentum">μ (default 0).</param>
    /// <param name="dampening">Dampening (default 0).</param>
    /// <param name="nesterov">Nesterov momentum (default false).</param>
    public Sgd(double learningRate, double momentum = 0.0, double dampening = 0.0, bool nesterov = false) : base(learningRate)
    {
        if (!(momentum >= 0.0 && momentum < 1.0)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Momentum must be in [0, 1).");
        if (nesterov && momentum == 0.0) throw new ArgumentException("Nesterov momentum needs a momentum above 0.", nameof(nesterov));
        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
    }

    /// <summary>Momentum μ (0 for plain SGD).</summary>
    public double Momentum { get; }
    /// <summary>Dampening of the momentum buffer (PyTorch's <c>dampening</c>).</summary>
    public double Dampening { get; }
    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; }
    /// <inheritdoc />
    public override string Name => Nesterov ? "nesterov" : Momentum > 0 ? "momentum" : "sgd";
    /// <inheritdoc />
    protected override string[] SlotNames => Momentum > 0 ? MomentumSlots : [];

    private static readonly string[] MomentumSlots = ["momentum_buffer"];

    /// <inheritdoc />
    protected override void Update(int index, Span<T> value, ReadOnlySpan<T> gradient)
    {
        T lr = T.CreateChecked(LearningRate);
        if (Momentum == 0.0)
        {
            for (int i = 0; i < value.Length; i++) value[i] -= lr * gradient[i];
            return;
        }
        T mu = T.CreateChecked(Momentum), damp = T.One - T.CreateChecked(Dampening);
        var buf = Slot("momentum_buffer", index);
        bool first = StepCount == 1;
        for (int i = 0; i < value.Length; i++)
        {
            buf[i] = first ? gradient[i] : (mu * buf[i]) + (damp * gradient[i]);
            T step = Nesterov ? gradient[i] + (mu * buf[i]) : buf[i];
            value[i] -= lr * step;
        }
    }
}

/// <summary><c>torch.optim.Adagrad</c>: <c>s += g²</c>, <c>p -= lr g / (√s + ε)</c>.</summary>
public sealed class Adagrad<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="learningRate">lr (PyTorch default 0.01).</param>
    /// <param name="epsilon">ε (default 1e-10).</param>
    public Adagrad(double learningRate, double epsilon = 1e-10) : base(learningRate) => Epsilon = epsilon;

    /// <summary>ε added to the denominator.</summary>
    public double Epsilon { get; }
    /// <inheritdoc />
    public override string Name => "adagrad";
    /// <inheritdoc />
    protected override string[] SlotNames => Slots;

    private static readonly string[] Slots = ["sum"];

    /// <inheritdoc />
    protected override void Update(int index, Span<T> value, ReadOnlySpan<T> gradient)
    {
        T lr = T.CreateChecked(LearningRate), eps = T.CreateChecked(Epsilon);
        var sum = Slot("sum", index);
        for (int i = 0; i < value.Length; i++)
        {
            sum[i] += gradient[i] * gradient[i];
            value[i] -= lr * gradient[i] / (T.Sqrt(sum[i]) + eps);
        }
    }
}

/// <summary><c>torch.optim.RMSprop</c>: <c>s = α s + (1-α) g²</c>, <c>p -= lr g / (√s + ε)</c>.</summary>
public sealed class RmsProp<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="learningRate">lr (PyTorch default 0.01, Keras 0.001).</param>
    /// <param name="alpha">α, the decay of the squared average (default 0.99).</param>
    /// <param name="epsilon">ε (default 1e-8).</param>
    public RmsProp(double learningRate, double alpha = 0.99, double epsilon = 1e-8) : base(learningRate)
    {
        Alpha = alpha;
        Epsilon = epsilon;
    }

    /// <summary>Smoothing constant α of the squared-gradient average.</summary>
    public double Alpha { get; }
    /// <summary>ε added to the denominator.</summary>
    public double Epsilon { get; }
    /// <inheritdoc />
    public override string Name => "rmsprop";
    /// <inheritdoc />
    protected override string[] SlotNames => Slots;

    private static readonly string[] Slots = ["square_avg"];

    /// <inheritdoc />
    protected override void Update(int index, Span<T> value, ReadOnlySpan<T> gradient)
    {
        T lr = T.CreateChecked(LearningRate), eps = T.CreateChecked(Epsilon), a = T.CreateChecked(Alpha);
        var sq = Slot("square_avg", index);
        for (int i = 0; i < value.Length; i++)
        {
            sq[i] = (a * sq[i]) + ((T.One - a) * gradient[i] * gradient[i]);
            value[i] -= lr * gradient[i] / (T.Sqrt(sq[i]) + eps);
        }
    }
}

/// <summary>
/// <c>torch.optim.Adam</c>: <c>m = β1 m + (1-β1) g</c>, <c>v = β2 v + (1-β2) g²</c>,
/// <c>p -= (lr / (1-β1^t)) m / (√v / √(1-β2^t) + ε)</c>.
/// </summary>
public sealed class Adam<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="learningRate">lr (default 0.001).</param>
    /// <param name="beta1">β1 (default 0.9).</param>
    /// <param name="beta2">β2 (default 0.999).</param>
    /// <param name="epsilon">ε (default 1e-7, Keras's; PyTorch's is 1e-8).</param>
    public Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) : base(learningRate)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "β1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "β2 must be in [0, 1).");
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be positive.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>Decay β₁ of the first-moment average.</summary>
    public double Beta1 { get; }
    /// <summary>Decay β₂ of the second-moment average.</summary>
    public double Beta2 { get; }
    /// <summary>ε added to the denominator.</summary>
    public double Epsilon { get; }
    /// <inheritdoc />
    public override string Name => "adam";
    /// <inheritdoc />
    protected override string[] SlotNames => Slots;

    private static readonly string[] Slots = ["exp_avg", "exp_avg_sq"];

    /// <inheritdoc />
    protected override void Update(int index, Span<T> value, ReadOnlySpan<T> gradient)
    {
        double bc1 = 1.0 - Math.Pow(Beta1, StepCount), bc2 = 1.0 - Math.Pow(Beta2, StepCount);
        T stepSize = T.CreateChecked(LearningRate / bc1), sqrtBc2 = T.CreateChecked(Math.Sqrt(bc2));
        T b1 = T.CreateChecked(Beta1), b2 = T.CreateChecked(Beta2), eps = T.CreateChecked(Epsilon);
        var m = Slot("exp_avg", index);
        var v = Slot("exp_avg_sq", index);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // The same operations in the same order as the scalar loop below, lane by lane
            // (IEEE sqrt and division are correctly rounded), so the result is bit-identical.
            Vector<T> vb1 = new(b1), vb2 = new(b2), c1 = new(T.One - b1), c2 = new(T.One - b2);
            Vector<T> vStep = new(stepSize), vSqrtBc2 = new(sqrtBc2), vEps = new(eps);
            for (; i <= value.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var g = new Vector<T>(gradient[i..]);
                var mi = (vb1 * new Vector<T>(m[i..])) + (c1 * g);
                var vi = (vb2 * new Vector<T>(v[i..])) + (c2 * g * g);
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
                (new Vector<T>(value[i..]) - (vStep * mi / ((Vector.SquareRoot(vi) / vSqrtBc2) + vEps))).CopyTo(value[i..]);
            }
        }
        for (; i < value.Length; i++)
        {
            T g = gradient[i];
            m[i] = (b1 * m[i]) + ((T.One - b1) * g);
            v[i] = (b2 * v[i]) + ((T.One - b2) * g * g);
            value[i] -= stepSize * m[i] / ((T.Sqrt(v[i]) / sqrtBc2) + eps);
        }
    }
}

/// <summary>Gradient clipping, applied between backward and the optimizer step.</summary>
public static class GradientClipping
{
    /// <summary>Clamps every gradient element to [-<paramref name="limit"/>, <paramref name="limit"/>] (<c>clip_grad_value_</c>).</summary>
    public static void ByValue<T>(IReadOnlyList<Parameter<T>> parameters, double limit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        T hi = T.CreateChecked(limit), lo = -hi;
        foreach (var p in parameters)
        {
            var g = p.Gradient.Span;
            for (int i = 0; i < g.Length; i++) g[i] = T.Clamp(g[i], lo, hi);
        }
    }

    /// <summary>
    /// Scales all gradients by <c>maxNorm / (‖g‖ + 1e-6)</c> when the global L2 norm exceeds
    /// <paramref name="maxNorm"/> (<c>clip_grad_norm_</c>); returns the norm before clipping.
    /// </summary>
    public static double ByGlobalNorm<T>(IReadOnlyList<Parameter<T>> parameters, double maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxNorm);
        double sum = 0;
        foreach (var p in parameters)
        {
            foreach (var g in p.Gradient.Span) sum += double.CreateChecked(g * g);
        }
        double norm = Math.Sqrt(sum);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1.0)
        {
            T c = T.CreateChecked(coef);
            foreach (var p in parameters)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(p.Gradient.Span, c, p.Gradient.Span);
            }
        }
        return norm;
    }
}
