using System.Numerics;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Training;

namespace Carry.Layers;

/// <summary>
/// A stack of layers, each one's output feeding the next (stacked recurrent layers make a deep
/// RNN). Compile it with a loss and an optimizer, then <see cref="Fit"/>, <see cref="Predict"/>
/// and <see cref="Evaluate"/>, as in Keras. Its <see cref="Parameters"/> list, named
/// <c>layers.{index}.{name}</c>, drives zeroing, updates, clipping, saving and loading.
/// </summary>
public sealed class Sequential<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Layer<T>> _layers = [];
    private List<NamedParameter<T>>? _named;
    private Parameter<T>[]? _flat;
    private Tensor<T>? _dLoss;
    private int[]? _checkedSampleShape; // per-sample input shape TrainStep last validated

    /// <summary>Creates a model from <paramref name="layers"/>.</summary>
    public Sequential(params Layer<T>[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    private ComputeContext _compute = ComputeContext.Default;

    /// <summary>
    /// Threads and buffers every layer's matrix products use (default <see cref="ComputeContext.Default"/>,
    /// every core; <c>new ComputeContext(1)</c> for one thread). Setting it sets it on every layer,
    /// and layers added later inherit it. Results do not depend on the thread count.
    /// </summary>
    public ComputeContext Compute
    {
        get => _compute;
        set
        {
            _compute = value ?? throw new ArgumentNullException(nameof(value));
            foreach (var layer in _layers) layer.Compute = value;
        }
    }

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<Layer<T>> Layers => _layers;

    /// <summary>The loss set by <see cref="Compile"/>.</summary>
    public Loss<T>? Loss { get; private set; }

    /// <summary>The optimizer set by <see cref="Compile"/>.</summary>
    public Optimizer<T>? Optimizer { get; private set; }

    /// <summary>Appends a layer.</summary>
    public Sequential<T> Add(Layer<T> layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        _layers.Add(layer);
        if (!ReferenceEquals(_compute, ComputeContext.Default)) layer.Compute = _compute;
        _named = null;
        _flat = null;
        _checkedSampleShape = null;
        return this;
    }

    /// <summary>Every parameter as <c>layers.{index}.{name}</c>, in layer order.</summary>
    public IReadOnlyList<NamedParameter<T>> Parameters
    {
        get
        {
            if (_named is null)
            {
                _named = [];
                for (int i = 0; i < _layers.Count; i++)
                {
                    foreach (var p in _layers[i].Parameters) _named.Add(new NamedParameter<T>($"layers.{i}.{p.Name}", p));
                }
            }
            return _named;
        }
    }

    /// <summary>The parameters without names, for optimizers and clipping.</summary>
    public IReadOnlyList<Parameter<T>> ParameterList => _flat ??= Parameters.Select(p => p.Parameter).ToArray();

    /// <summary>Total trainable scalars.</summary>
    public int ParameterCount => ParameterList.Sum(p => p.Length);

    /// <summary>Draws every layer's weights in order from one generator seeded with <paramref name="seed"/>.</summary>
    public void Initialize(Initialization scheme, ulong seed)
    {
        var random = new RandomGenerator(seed);
        foreach (var layer in _layers) layer.Initialize(scheme, random);
    }

    /// <summary>Sets the loss and the optimizer used by <see cref="Fit"/> and <see cref="TrainStep"/>.</summary>
    public void Compile(Loss<T> loss, Optimizer<T> optimizer)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        Loss = loss;
        Optimizer = optimizer;
    }

    /// <summary>Per-sample output shape for a per-sample input shape (e.g. <c>[16, 1]</c> → <c>[9]</c>).</summary>
    public int[] OutputShape(ReadOnlySpan<int> inputShape)
    {
        int[] shape = inputShape.ToArray();
        foreach (var layer in _layers) shape = layer.OutputShape(shape);
        return shape;
    }

    /// <summary>
    /// Forward through every layer. The result is owned by the last layer. With a
    /// <paramref name="state"/>, each recurrent layer starts from the state the previous chunk
    /// left there and leaves its final state for the next (truncated BPTT); without one, from zeros.
    /// </summary>
    public Tensor<T> Forward(Tensor<T> input, bool training, StreamState<T>? state = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_layers.Count == 0) throw new InvalidOperationException("The model has no layers.");
        state?.CheckFits(_layers.Count, input.Dim(0));
        var x = input;
        for (int i = 0; i < _layers.Count; i++)
        {
            if (state?[i] is { } initial)
            {
                var result = ((RecurrentLayer<T>)_layers[i]).Forward(x, initial, training);
                state.Carry(i, result.FinalState);
                x = result.Output;
            }
            else
            {
                x = _layers[i].Forward(x, training);
            }
        }
        return x;
    }

    /// <summary>Backward through every layer in reverse; returns <c>dInput</c>.</summary>
    public Tensor<T> Backward(Tensor<T> dOutput)
    {
        var d = dOutput;
        for (int i = _layers.Count - 1; i >= 0; i--) d = _layers[i].Backward(d);
        return d;
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients()
    {
        var parameters = ParameterList;
        for (int i = 0; i < parameters.Count; i++) parameters[i].Gradient.Fill(T.Zero);
    }

    /// <summary>
    /// One training step on one batch: zero gradients, forward, loss, backward, clip, update.
    /// Returns the batch loss (before the update).
    /// </summary>
    /// <param name="inputs">The batch, <c>[B, T, F]</c> or <c>[B, F]</c>.</param>
    /// <param name="targets">Targets of the loss's <see cref="Loss{T}.TargetShape"/> for the model's output.</param>
    /// <param name="clipValue">Clip each gradient element to ±this (0: off).</param>
    /// <param name="clipNorm">Clip the global gradient norm to this (0: off).</param>
    /// <param name="state">Carried recurrent state for stateful training (null: every sequence starts from zeros).</param>
    public T TrainStep(Tensor<T> inputs, Tensor<T> targets, double clipValue = 0, double clipNorm = 0, StreamState<T>? state = null)
    {
        if (Loss is null || Optimizer is null) throw new InvalidOperationException("Compile the model with a loss and an optimizer first.");
        ArgumentNullException.ThrowIfNull(inputs);
        Check.NonEmptyBatch(inputs, nameof(inputs));
        if (_checkedSampleShape is null || !inputs.Shape[1..].SequenceEqual(_checkedSampleShape))
        {
            BatchOutputShape(inputs); // once per per-sample shape, so a steady-state step allocates nothing
            _checkedSampleShape = inputs.Shape[1..].ToArray();
        }
        ZeroGradients();
        var prediction = Forward(inputs, training: true, state);
        CheckTargets(prediction, targets, Loss);
        var dLoss = _dLoss is not null && _dLoss.HasShape(prediction.Shape) ? _dLoss : _dLoss = new Tensor<T>(prediction.Shape.ToArray()); // once per shape
        T loss = Loss.Compute(prediction.Span, targets.Span, dLoss.Span);
        // Nobody reads the gradient with respect to the data: the first layer may skip it.
        var first = _layers[0];
        first.InputGradientNeeded = false;
        try
        {
            Backward(dLoss);
        }
        finally
        {
            first.InputGradientNeeded = true;
        }
        if (clipValue > 0) GradientClipping.ByValue(ParameterList, clipValue);
        if (clipNorm > 0) GradientClipping.ByGlobalNorm(ParameterList, clipNorm);
        Optimizer.Step(ParameterList);
        return loss;
    }

    /// <summary>
    /// Trains for <see cref="FitOptions.Epochs"/> passes over (<paramref name="inputs"/>,
    /// <paramref name="targets"/>) in batches, shuffled each epoch from <see cref="FitOptions.Seed"/>,
    /// through the fit loop (<see cref="Trainer{T}"/> on a <see cref="SupervisedTask{T}"/>): the
    /// options' schedule, early stopping, best model, history file and checkpoints all apply, and
    /// the model is scored on the same data after each epoch when one of them needs it.
    /// </summary>
    /// <param name="inputs">Samples, batch-first: <c>[N, T, F]</c> or <c>[N, F]</c>.</param>
    /// <param name="targets">Targets matching the model's output: <c>[N, T, O]</c> or <c>[N, O]</c>.</param>
    /// <param name="options">Epochs, batch size, shuffling, seed, clipping, cancellation, and the loop's callbacks.</param>
    /// <param name="callbacks">Progress, custom stopping, checkpoints.</param>
    /// <param name="shuffler">The generator to shuffle with (to resume a run); a new one from the seed when null.</param>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public FitResult Fit(Tensor<T> inputs, Tensor<T> targets, FitOptions options, IReadOnlyList<ITrainingCallback>? callbacks = null, RandomGenerator? shuffler = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (Loss is null || Optimizer is null) throw new InvalidOperationException("Compile the model with a loss and an optimizer first.");
        int[] expected = BatchOutputShape(inputs);
        if (targets.Rank == 0 || targets.Dim(0) != inputs.Dim(0))
        {
            throw new ArgumentException($"targets has shape {targets.ShapeString} but inputs has {inputs.Dim(0)} samples ({inputs.ShapeString}).", nameof(targets));
        }
        Check.Shape(targets, expected, nameof(targets));
        var task = new SupervisedTask<T>(inputs, targets) { Metrics = options.NeedsMetrics };
        var result = new Trainer<T>(this, task, options, callbacks, shuffler).Run();
        return new FitResult(result.History, result.Cancelled);
    }

    /// <summary>Runs the model in inference mode over <paramref name="inputs"/> in batches; returns a new tensor.</summary>
    public Tensor<T> Predict(Tensor<T> inputs, int batchSize = 1024)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int n = inputs.Dim(0);
        int[] outShape = BatchOutputShape(inputs);
        var result = new Tensor<T>(outShape);
        int inPer = inputs.Length / n, outPer = result.Length / n;
        for (int start = 0; start < n; start += batchSize)
        {
            int count = Math.Min(batchSize, n - start);
            int[] shape = inputs.Shape.ToArray();
            shape[0] = count;
            var x = new Tensor<T>(inputs.Data.AsSpan(start * inPer, count * inPer).ToArray(), shape);
            var y = Forward(x, training: false);
            y.Span.CopyTo(result.Span.Slice(start * outPer, count * outPer));
        }
        return result;
    }

    /// <summary>Mean loss, exact-match and per-output accuracy (outputs rounded at 0.5) over a data set.</summary>
    public Evaluation Evaluate(Tensor<T> inputs, Tensor<T> targets, int batchSize = 1024)
    {
        if (Loss is null) throw new InvalidOperationException("Compile the model with a loss first.");
        var prediction = Predict(inputs, batchSize);
        CheckTargets(prediction, targets);
        double loss = double.CreateChecked(Loss.Value(prediction.Span, targets.Span));
        var score = BitScore.Of<T>(prediction.Span, targets.Span, prediction.Length / prediction.Dim(0));
        return new Evaluation(loss, score.Exact, score.BitAccuracy);
    }

    /// <summary>
    /// Validates a batch of model inputs at the public boundary (<c>inputs</c> of Fit, Predict,
    /// TrainStep) and returns the batch output shape, so that a wrong feature count is reported
    /// against <c>inputs</c> with its shape, not as a layer's internal <c>inputShape</c>.
    /// </summary>
    private int[] BatchOutputShape(Tensor<T> inputs)
    {
        if (_layers.Count == 0) throw new InvalidOperationException("The model has no layers.");
        if (inputs.Rank < 2) throw new ArgumentException($"inputs must be batch-first, [batch, ...], but has shape {inputs.ShapeString}.", nameof(inputs));
        Check.NonEmptyBatch(inputs, nameof(inputs));
        int[] shape = inputs.Shape[1..].ToArray();
        for (int i = 0; i < _layers.Count; i++)
        {
            try
            {
                shape = _layers[i].OutputShape(shape);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"inputs has shape {inputs.ShapeString}, which layer {i} ({_layers[i].Spec.Kind}) cannot take: {Check.Plain(e)}", nameof(inputs), e);
            }
        }
        return [inputs.Dim(0), .. shape];
    }

    private static void CheckTargets(Tensor<T> prediction, Tensor<T> targets, Loss<T>? loss = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (loss is null ? !targets.HasShape(prediction.Shape) : !loss.TargetsFit(prediction.Shape, targets.Shape))
        {
            throw new ArgumentException($"targets has shape {targets.ShapeString}, but the model outputs {prediction.ShapeString}{(loss is null ? "" : $" and the loss '{loss.Name}' takes targets {Tensor<T>.ShapeText(loss.TargetShape(prediction.Shape))}")}.", nameof(targets));
        }
    }
}
