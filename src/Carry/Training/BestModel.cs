using System.Numerics;
using Carry.Layers;

namespace Carry.Training;

/// <summary>
/// A copy of the best epoch's weights so far. Best means the most <c>exact</c>, then the lowest
/// <c>eval_loss</c> (the training loss when there is none); for a task without <c>exact</c>, the
/// lowest <c>val_loss</c>, else the lowest training loss.
/// </summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public sealed class BestModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Sequential<T> _model;
    private T[][]? _values;

    /// <summary>Keeps the best of <paramref name="model"/>'s epochs.</summary>
    public BestModel(Sequential<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>True once an epoch has been offered.</summary>
    public bool HasModel => _values is not null;

    /// <summary>The best epoch's summary; null before the first epoch ends.</summary>
    public EpochSummary? Epoch { get; private set; }

    /// <summary>Keeps the model's current weights if <paramref name="epoch"/> beats the best so far.</summary>
    /// <returns>True when it did.</returns>
    public bool Offer(EpochSummary epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        if (Epoch is { } best && !IsBetter(epoch, best)) return false;
        var parameters = _model.ParameterList;
        _values ??= parameters.Select(p => new T[p.Length]).ToArray(); // allocated once, overwritten by each better epoch
        for (int i = 0; i < parameters.Count; i++) parameters[i].Value.Span.CopyTo(_values[i]);
        Epoch = epoch;
        return true;
    }

    /// <summary>Whether <paramref name="candidate"/> beats <paramref name="best"/> (ties keep the earlier one).</summary>
    public static bool IsBetter(EpochSummary candidate, EpochSummary best)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(best);
        if (candidate.Find(MetricNames.Exact) is { } exact && best.Find(MetricNames.Exact) is { } bestExact)
        {
            if (exact != bestExact) return exact > bestExact;
            return candidate.Find(MetricNames.EvaluationLoss) is { } loss && best.Find(MetricNames.EvaluationLoss) is { } bestLoss
                ? loss < bestLoss
                : candidate.Loss < best.Loss;
        }
        string monitor = candidate.Find(MetricNames.ValidationLoss) is not null && best.Find(MetricNames.ValidationLoss) is not null ? MetricNames.ValidationLoss : MetricNames.Loss;
        return candidate.Get(monitor) < best.Get(monitor);
    }

    /// <summary>The kept weights, one array per parameter in <see cref="Sequential{T}.ParameterList"/> order (for a checkpoint); null before the first epoch.</summary>
    public IReadOnlyList<T[]>? Values => _values;

    /// <summary>Restores the best epoch from a checkpoint: its summary and its weights.</summary>
    /// <exception cref="ArgumentException">The arrays do not fit the model's parameters.</exception>
    public void Load(EpochSummary epoch, IReadOnlyList<T[]> values)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        ArgumentNullException.ThrowIfNull(values);
        var parameters = _model.ParameterList;
        if (values.Count != parameters.Count) throw new ArgumentException($"{values.Count} arrays for {parameters.Count} parameters.", nameof(values));
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i].Length != parameters[i].Length) throw new ArgumentException($"Array {i} has {values[i].Length} values for a parameter of {parameters[i].Length}.", nameof(values));
        }
        _values = values.Select(v => (T[])v.Clone()).ToArray(); // own copies: later epochs overwrite them
        Epoch = epoch;
    }

    /// <summary>Copies the best epoch's weights into the model (nothing before the first epoch).</summary>
    public void Restore()
    {
        if (_values is null) return;
        var parameters = _model.ParameterList;
        for (int i = 0; i < parameters.Count; i++) _values[i].CopyTo(parameters[i].Value.Span);
    }
}
