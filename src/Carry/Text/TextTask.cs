using System.Numerics;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Training;

namespace Carry.Text;

/// <summary>
/// char-rnn as a task of the fit loop (<see cref="Trainer{T}"/>): each epoch reads the training
/// text as <see cref="CharRnnOptions.Batch"/> parallel streams in chunks of
/// <see cref="CharRnnOptions.Seq"/> steps, one <see cref="Sequential{T}.TrainStep"/> per chunk,
/// the recurrent state carried from chunk to chunk (truncated BPTT) and reset at the epoch's
/// start. Its metric is <c>val_loss</c>: the mean loss per character over the validation text
/// (the last 5%), read the same way with as many streams as it can fill.
/// </summary>
/// <typeparam name="T">Precision of the model.</typeparam>
public sealed class TextTask<T> : ITrainingTask<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const string StatePrefix = "stream.";
    private readonly TextStreams _training, _validation;
    private readonly Tensor<T> _x, _y;             // [B, seq, width], [B, seq, 1]
    private readonly Tensor<T>? _validX, _validY;  // [Bv, seq, width], [Bv, seq, 1]
    private StreamState<T>? _state;
    private IReadOnlyDictionary<string, T[]>? _resumedState;

    /// <param name="corpus">The text, split into training and validation parts.</param>
    /// <param name="options">Streams (batch), steps per chunk (seq), clipping.</param>
    /// <param name="inputWidth">1 when the model starts with an embedding (indices in), else the vocabulary size (one-hot in): <see cref="CharRnn.InputWidth{T}"/>.</param>
    public TextTask(TextCorpus corpus, CharRnnOptions options, int inputWidth)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputWidth);
        options.Validate();
        Corpus = corpus;
        Options = options;
        _training = new TextStreams(corpus.Training, options.Batch, options.Seq);
        if (_training.Streams < options.Batch || _training.ChunkCount == 0)
        {
            throw new ArgumentException($"The training text ({corpus.ValidationStart} characters) is shorter than one batch of {options.Batch} × ({options.Seq} + 1).", nameof(corpus));
        }
        _validation = new TextStreams(corpus.Validation, options.Batch, options.Seq);
        _x = new Tensor<T>(options.Batch, options.Seq, inputWidth);
        _y = new Tensor<T>(options.Batch, options.Seq, 1);
        if (_validation.Streams > 0)
        {
            _validX = new Tensor<T>(_validation.Streams, options.Seq, inputWidth);
            _validY = new Tensor<T>(_validation.Streams, options.Seq, 1);
        }
    }

    /// <summary>The text.</summary>
    public TextCorpus Corpus { get; }

    /// <summary>The hyper-parameters the task reads (batch, seq, clipping).</summary>
    public CharRnnOptions Options { get; }

    /// <summary>Training steps (chunks) per epoch.</summary>
    public int StepsPerEpoch => _training.ChunkCount;

    /// <summary>Characters one training step predicts: batch × seq.</summary>
    public int CharactersPerStep => Options.Batch * Options.Seq;

    /// <summary>The mean loss per character of the last training step (nats).</summary>
    public double LastStepLoss { get; private set; } = double.NaN;

    /// <summary>Parallel streams the validation text fills (at most the batch; 0 when it is shorter than one chunk).</summary>
    public int ValidationStreams => _validation.Streams;

    /// <inheritdoc />
    public EpochOutcome TrainEpoch(Sequential<T> model, EpochContext context)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(context);
        if (_state is null || _state.Streams != Options.Batch) _state = new StreamState<T>(model, Options.Batch);
        int first = context.StartStep, steps = _training.ChunkCount;
        if (first >= steps) throw new ArgumentOutOfRangeException(nameof(context), first, $"The start step must be below the {steps} steps of an epoch.");
        if (first > 0 && _resumedState is not null) RestoreState(_resumedState);
        else _state.Reset(); // each epoch reads the streams from their start
        _resumedState = null;
        context.BeginEpoch(steps);
        double lossSum = context.StartLossSum;
        int perStep = CharactersPerStep;
        for (int k = first; k < steps; k++)
        {
            if (k > first && context.CancellationToken.IsCancellationRequested) return EpochOutcome.Cancel;
            _training.Fill(k, _x, _y);
            double loss = double.CreateChecked(model.TrainStep(_x, _y, Options.ClipValue, Options.ClipNorm, _state));
            if (!double.IsFinite(loss)) throw new TrainingDivergedException(context.Epoch, k, loss);
            LastStepLoss = loss;
            lossSum += loss * perStep;
            int seen = (k + 1) * perStep;
            context.ReportBatch(new BatchProgress(context.Epoch, k, steps, seen, steps * perStep, lossSum / seen) { LossSum = lossSum });
        }
        return new EpochOutcome(lossSum / ((long)steps * perStep), false);
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Evaluate(Sequential<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ValidationStreams == 0 ? new Dictionary<string, double>() : new Dictionary<string, double> { [MetricNames.ValidationLoss] = ValidationLoss(model) };
    }

    /// <summary>
    /// Mean loss per character (nats) over the validation text, in inference mode, its streams
    /// starting from zero state and carrying it from chunk to chunk. Leaves the training streams' state alone.
    /// </summary>
    /// <exception cref="InvalidOperationException">The validation text is shorter than one chunk.</exception>
    public double ValidationLoss(Sequential<T> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (_validX is null || _validY is null) throw new InvalidOperationException($"The validation text ({Corpus.Validation.Length} characters) is shorter than one chunk of {Options.Seq} + 1.");
        var loss = model.Loss ?? new SoftmaxCrossEntropy<T>(Corpus.Vocabulary.Count);
        var state = new StreamState<T>(model, _validation.Streams);
        double sum = 0;
        for (int k = 0; k < _validation.ChunkCount; k++)
        {
            _validation.Fill(k, _validX, _validY);
            var logits = model.Forward(_validX, training: false, state);
            sum += double.CreateChecked(loss.Value(logits.Span, _validY.Span));
        }
        return sum / _validation.ChunkCount;
    }

    /// <inheritdoc />
    public void SaveState(TaskState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_state is null || state.Position.Step == 0) return; // an epoch's start resets the streams anyway
        for (int i = 0; i < _state.LayerCount; i++)
        {
            if (_state[i] is not { } s) continue;
            state.Tensors[$"{StatePrefix}{i}.hidden"] = s.Hidden.Data;
            if (s.Cell is not null) state.Tensors[$"{StatePrefix}{i}.cell"] = s.Cell.Data;
        }
    }

    /// <inheritdoc />
    public void LoadState(TaskState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _resumedState = state.Tensors.Where(kv => kv.Key.StartsWith(StatePrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    /// <summary>Puts the streams' state of a mid-epoch checkpoint back.</summary>
    private void RestoreState(IReadOnlyDictionary<string, T[]> saved)
    {
        for (int i = 0; i < _state!.LayerCount; i++)
        {
            if (_state[i] is not { } s) continue;
            Copy(saved, $"{StatePrefix}{i}.hidden", s.Hidden.Span);
            if (s.Cell is not null) Copy(saved, $"{StatePrefix}{i}.cell", s.Cell.Span);
        }
    }

    private static void Copy(IReadOnlyDictionary<string, T[]> saved, string name, Span<T> destination)
    {
        if (!saved.TryGetValue(name, out var values) || values.Length != destination.Length)
        {
            throw new InvalidDataException($"The checkpoint was written mid-epoch but its stream state '{name}' is missing or has the wrong size.");
        }
        values.CopyTo(destination);
    }
}
