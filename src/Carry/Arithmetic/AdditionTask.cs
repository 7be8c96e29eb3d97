using System.Numerics;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;
using Carry.Training;

namespace Carry.Arithmetic;

/// <summary>
/// Learning to add, as a task of the fit loop (<see cref="Trainer{T}"/>): every pair of
/// <see cref="Bits"/>-bit operands when there are few enough (<see cref="ConcatEncoding.MaxAllPairsBits"/>
/// bits or fewer), otherwise <see cref="SamplesPerEpoch"/> fresh random pairs each epoch, in the
/// aligned or the concat encoding. Each epoch shuffles the pairs afresh and trains in batches;
/// after it, the model is scored on the epoch's pairs — <c>exact</c> (every sum bit right),
/// <c>bit_accuracy</c> and <c>eval_loss</c> — through <see cref="AllPairsInference"/> for a
/// concat model on all pairs.
/// </summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public sealed class AdditionTask<T> : ITrainingTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The checkpoint name of the data generator.</summary>
    private const string DataGenerator = "data";

    private readonly BatchLoop<T> _loop = new() { ContinueOrder = false };
    private readonly RandomGenerator _random;
    private ulong[] _stateBeforeDraw;
    private int _dataEpoch = -1;
    private Tensor<T>? _inputs, _targets;
    private Sequential<T>? _scoredModel;
    private AllPairsScorer<T>? _scorer;

    /// <param name="encoding"><see cref="AlignedEncoding.Name"/> or <see cref="ConcatEncoding.Name"/>.</param>
    /// <param name="bits">Operand width in bits (1 to 64; e.g. 8).</param>
    /// <param name="samplesPerEpoch">Random pairs per epoch when the operands are wider than <see cref="ConcatEncoding.MaxAllPairsBits"/> bits (default 65,536).</param>
    /// <param name="dataSeed">Seed of the random pairs (default 2, as <c>carry train</c>'s default seed 0 gives).</param>
    public AdditionTask(string encoding, int bits, int samplesPerEpoch = 65536, ulong dataSeed = 2)
    {
        if (encoding is not (AlignedEncoding.Name or ConcatEncoding.Name)) throw new ArgumentException($"Unknown encoding '{encoding}' (expected aligned or concat).", nameof(encoding));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, 64);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samplesPerEpoch);
        Encoding = encoding;
        Bits = bits;
        SamplesPerEpoch = samplesPerEpoch;
        _random = new RandomGenerator(dataSeed);
        _stateBeforeDraw = _random.GetState();
    }

    /// <summary>The encoding.</summary>
    public string Encoding { get; }

    /// <summary>Operand width in bits.</summary>
    public int Bits { get; }

    /// <summary>Random pairs per epoch when not every pair is enumerated.</summary>
    public int SamplesPerEpoch { get; }

    /// <summary>True when every pair is enumerated (otherwise random pairs are drawn each epoch).</summary>
    public bool AllPairs => Bits <= ConcatEncoding.MaxAllPairsBits;

    /// <summary>Pairs per epoch.</summary>
    public int SampleCount => AllPairs ? 1 << (2 * Bits) : SamplesPerEpoch;

    /// <summary>The current epoch's inputs (null before the first draw), for tests.</summary>
    internal Tensor<T>? CurrentInputs => _inputs;

    /// <summary>The task as a model file records it.</summary>
    public TaskInfo Info => new(Encoding, Bits);

    /// <inheritdoc />
    public EpochOutcome TrainEpoch(Sequential<T> model, EpochContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_inputs is null || (!AllPairs && _dataEpoch != context.Epoch)) Draw(context.Epoch);
        return _loop.Run(model, _inputs!, _targets!, context);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Evaluate(Sequential<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (_inputs is null) Draw(0);
        // All pairs of a concat model: score them through the prefix trie (same outputs, ~8x less work),
        // with the trie's buffers kept from one epoch to the next.
        var evaluation = Scorer(model) is { } scorer ? scorer.Evaluate(_targets!) : model.Evaluate(_inputs!, _targets!);
        return evaluation.ToMetrics();
    }

    /// <summary>The all-pairs scorer of <paramref name="model"/> (made once and kept); null when the task or the model does not fit the trie.</summary>
    private AllPairsScorer<T>? Scorer(Sequential<T> model)
    {
        if (!AllPairs || Encoding != ConcatEncoding.Name) return null;
        if (!ReferenceEquals(_scoredModel, model))
        {
            _scoredModel = model;
            _scorer = AllPairsInference.Supports(model, Bits) ? new AllPairsScorer<T>(model, Bits) : null;
        }
        return _scorer;
    }

    /// <summary>
    /// The data generator's state: from before the current epoch's draw while that epoch is
    /// under way (so that a resumed run draws the same pairs), else as it stands.
    /// </summary>
    public void SaveState(TaskState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Generators[DataGenerator] = state.Position.Epoch == _dataEpoch || AllPairs ? _stateBeforeDraw : _random.GetState();
    }

    /// <inheritdoc />
    public void LoadState(TaskState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Generators.TryGetValue(DataGenerator, out var generator)) _random.SetState(generator);
        _stateBeforeDraw = _random.GetState();
        _dataEpoch = -1;
        _inputs = _targets = null;
    }

    /// <summary>The epoch's data: every pair (once), or fresh random pairs.</summary>
    private void Draw(int epoch)
    {
        _stateBeforeDraw = _random.GetState();
        (_inputs, _targets) = Data(Encoding, Bits, SamplesPerEpoch, _random);
        _dataEpoch = epoch;
    }

    /// <summary>
    /// Training pairs: every pair when <c>bits ≤ 10</c> (i the outer loop), otherwise
    /// <paramref name="count"/> random pairs from <paramref name="random"/>.
    /// </summary>
    public static (Tensor<T> Inputs, Tensor<T> Targets) Data(string encoding, int bits, int count, RandomGenerator random)
    {
        ArgumentNullException.ThrowIfNull(random);
        bool aligned = encoding == AlignedEncoding.Name;
        if (bits <= ConcatEncoding.MaxAllPairsBits)
        {
            if (!aligned) return ConcatEncoding.AllPairs<T>(bits);
            int n = 1 << bits;
            var pairs = new List<(BigInteger, BigInteger)>(n * n);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++) pairs.Add((i, j));
            }
            return AlignedEncoding.Batch<T>(pairs, AlignedEncoding.Steps(bits));
        }
        if (!aligned) return ConcatEncoding.RandomPairs<T>(bits, count, random);
        var drawn = new List<(BigInteger, BigInteger)>(count);
        for (int i = 0; i < count; i++) drawn.Add((RandomBits.Next(bits, random), RandomBits.Next(bits, random)));
        return AlignedEncoding.Batch<T>(drawn, AlignedEncoding.Steps(bits));
    }
}
