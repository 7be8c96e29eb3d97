using System.Globalization;
using System.Numerics;
using System.Text;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;

namespace Carry.Arithmetic;

/// <summary>
/// Settings of Experiment A (SEEDS.md), iamtrask's numpy Elman adder. Defaults are the
/// article's, at 50,000 iterations.
/// </summary>
public sealed record IamtraskOptions
{
    /// <summary>The <c>np.random.seed</c> value, 0 to 2^32 - 1 (default 0).</summary>
    public long Seed { get; init; }

    /// <summary>Hidden units, <c>hidden_dim</c> (default 16).</summary>
    public int Hidden { get; init; } = 16;

    /// <summary>Learning rate, <c>alpha</c> (default 0.1).</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>Training samples, one per iteration (default 50,000).</summary>
    public int Iterations { get; init; } = 50_000;

    /// <summary>Time steps, <c>binary_dim</c> (default 8); operands are drawn below 2^(bits-1) so that the sum fits.</summary>
    public int Bits { get; init; } = 8;

    /// <summary>Report every this many iterations, <c>j % k == 0</c> (default 1,000).</summary>
    public int PrintEvery { get; init; } = 1_000;

    /// <summary>
    /// Train through <see cref="FusedElman{T}"/> where it applies (default true): the layers'
    /// arithmetic, vectorised and without their per-step machinery (equal to the layers' numbers
    /// up to rounding in the last bits). False runs the ordinary layers (tests hold the two to
    /// each other).
    /// </summary>
    public bool Fused { get; init; } = true;

    /// <summary>The fused step's vector path (null: the one this machine runs best); tests choose each path explicitly.</summary>
    internal GemmPath? FusedPath { get; init; }

    /// <summary>Largest bit width accepted (operands are drawn with <c>randint</c> below 2^31).</summary>
    public const int MaxBits = 32;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Seed < 0 || Seed > uint.MaxValue) throw new ArgumentOutOfRangeException(nameof(Seed), Seed, "The seed must be between 0 and 4294967295 (numpy's range).");
        if (Hidden < 1 || Hidden > 4096) throw new ArgumentOutOfRangeException(nameof(Hidden), Hidden, "The hidden size must be between 1 and 4096.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be a positive finite number.");
        if (Iterations < 1) throw new ArgumentOutOfRangeException(nameof(Iterations), Iterations, "The iteration count must be at least 1.");
        if (Bits < 2 || Bits > MaxBits) throw new ArgumentOutOfRangeException(nameof(Bits), Bits, $"The bit width must be between 2 and {MaxBits}.");
        if (PrintEvery < 1) throw new ArgumentOutOfRangeException(nameof(PrintEvery), PrintEvery, "The print interval must be at least 1.");
    }
}

/// <summary>One of the script's printouts: the sample at iteration <see cref="Iteration"/>, before that sample's update.</summary>
/// <param name="Iteration">j, counted from 0.</param>
/// <param name="Error">Σ over steps of |target - output| (the script's <c>overallError</c>).</param>
/// <param name="Predicted">Rounded outputs, most significant bit first (<c>d</c>).</param>
/// <param name="Target">Bits of a + b, most significant first (<c>c</c>).</param>
/// <param name="A">First operand.</param>
/// <param name="B">Second operand.</param>
public sealed record IamtraskReport(int Iteration, double Error, int[] Predicted, int[] Target, long A, long B)
{
    /// <summary>The predicted bits read as a number.</summary>
    public long Decoded => Predicted.Aggregate(0L, (sum, bit) => (sum << 1) | (long)bit);

    /// <summary>The five lines the numpy script prints, e.g. <c>Error:[3.45638663]</c> … <c>------------</c>.</summary>
    public IReadOnlyList<string> Lines =>
    [
        "Error:[" + NumpyFormat.Float64(Error) + "]",
        "Pred:[" + string.Join(' ', Predicted) + "]",
        "True:[" + string.Join(' ', Target) + "]",
        string.Create(CultureInfo.InvariantCulture, $"{A} + {B} = {Decoded}"),
        "------------",
    ];
}

/// <summary>The result of <see cref="IamtraskPreset.Train{T}"/>.</summary>
/// <param name="Model">The trained model: <c>SimpleRnn(2→H, sigmoid) → Dense(H→1, sigmoid)</c>, per step.</param>
/// <param name="Reports">Every printout, in order.</param>
/// <param name="FinalError">The error of the last sample.</param>
public sealed record IamtraskResult<T>(Sequential<T> Model, IReadOnlyList<IamtraskReport> Reports, double FinalError) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// Experiment A as a preset of library parts (SEEDS.md): iamtrask's numpy script — an Elman
/// network that learns binary addition one bit per step, least significant bit first — built
/// from <see cref="SimpleRnn{T}"/> (2 → H, sigmoid, no bias, every step's output) and a per-step
/// <see cref="Dense{T}"/> (H → 1, sigmoid, no bias), trained with <see cref="HalfSumOfSquares{T}"/>
/// and plain <see cref="Sgd{T}"/> on one sample at a time. Weights and samples come from
/// <see cref="NumpyRandom"/> exactly as numpy draws them, so in double the printout matches the
/// script's digit for digit.
/// </summary>
/// <remarks>
/// Why the pieces agree with the script: the script's update <c>W += α Σ h^T δ</c> with
/// <c>δ = (t - y) y (1 - y)</c> is gradient descent on <c>½ Σ (y - t)²</c>, whose gradient the
/// library's layers compute as <c>-Σ h^T δ</c> (negation is exact in floating point); the script's
/// <c>h · synapse_h</c> is PyTorch's <c>W_hh h</c> with <c>W_hh = synapse_hᵀ</c>.
/// </remarks>
public static class IamtraskPreset
{
    /// <summary>The preset's name on the command line.</summary>
    public const string Name = "iamtrask";

    /// <summary>The network: <c>SimpleRnn(2→H, sigmoid, bias: false, returnSequences: true)</c> then <c>Dense(H→1, sigmoid, bias: false)</c>.</summary>
    /// <param name="hidden">Hidden units H (16 in the article).</param>
    public static Sequential<T> Build<T>(int hidden) where T : unmanaged, IFloatingPointIeee754<T> => new(
        new SimpleRnn<T>(2, hidden, Activation.Sigmoid, bias: false, returnSequences: true),
        new Dense<T>(hidden, 1, Activation.Sigmoid, bias: false));

    /// <summary>
    /// Draws the weights as the script does right after <c>np.random.seed</c>:
    /// <c>synapse_0 (2×H)</c>, <c>synapse_1 (H×1)</c>, <c>synapse_h (H×H)</c>, in that order, each
    /// <c>2 * random(shape) - 1</c>, stored in PyTorch's layouts (<c>weight_ih_l0 = synapse_0ᵀ</c>,
    /// <c>weight_hh_l0 = synapse_hᵀ</c>, <c>weight = synapse_1ᵀ</c>).
    /// </summary>
    public static void InitializeAsNumpy<T>(Sequential<T> model, NumpyRandom random) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(random);
        var (rnn, dense) = Parts(model);
        int h = rnn.HiddenSize;
        double[] synapse0 = Draw(random, 2 * h);  // [2, H]
        double[] synapse1 = Draw(random, h);      // [H, 1]
        double[] synapseH = Draw(random, h * h);  // [H, H]
        var weightIh = rnn.WeightIh.Value.Span;   // [H, 2]
        var weightHh = rnn.WeightHh.Value.Span;   // [H, H]
        var weight = dense.Weight.Value.Span;     // [1, H]
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < 2; i++) weightIh[(j * 2) + i] = T.CreateChecked(synapse0[(i * h) + j]);
            for (int k = 0; k < h; k++) weightHh[(j * h) + k] = T.CreateChecked(synapseH[(k * h) + j]);
            weight[j] = T.CreateChecked(synapse1[j]);
        }
    }

    /// <summary>
    /// Runs the script: seeds, draws the weights, then for each iteration draws <c>a</c> then
    /// <c>b</c> with <c>randint(2^(bits-1))</c>, runs forward over the bits least significant
    /// first, and takes one SGD step on that sample.
    /// </summary>
    /// <param name="options">Seed, hidden size, learning rate, iterations, bits, print interval.</param>
    /// <param name="onReport">Called with each printout as it happens (may be null).</param>
    /// <param name="onInterval">Called at the end of every print interval (and of the run) with the interval's mean loss, exact and bit rates (may be null: nothing is tallied).</param>
    /// <param name="cancellationToken">Stops between iterations.</param>
    public static IamtraskResult<T> Train<T>(IamtraskOptions options, Action<IamtraskReport>? onReport = null, Action<IamtraskInterval>? onInterval = null,
        CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var random = new NumpyRandom((uint)options.Seed);
        var model = Build<T>(options.Hidden);
        InitializeAsNumpy(model, random);
        var loss = new HalfSumOfSquares<T>();
        var optimizer = new Sgd<T>(options.LearningRate);
        model.Compile(loss, optimizer);

        int steps = options.Bits;
        long half = 1L << (steps - 1); // randint(largest_number / 2)
        var input = new Tensor<T>(1, steps, 2);   // [1, T, 2] bits of a and b, least significant first
        var target = new Tensor<T>(1, steps, 1);  // [1, T, 1] bits of a + b
        var dLoss = new Tensor<T>(1, steps, 1);   // [1, T, 1] y - t
        var fusedOutput = new Tensor<T>(1, steps, 1); // [1, T, 1] y, from the fused step
        var fused = options.Fused && FusedElman<T>.Supports(model, steps) ? new FusedElman<T>(model, steps, options.LearningRate, options.FusedPath ?? GemmKernel.Automatic) : null;
        var reports = new List<IamtraskReport>();
        var tally = new IamtraskTally();
        double error = 0;
        for (int j = 0; j < options.Iterations; j++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long a = random.RandInt(half);
            long b = random.RandInt(half);
            EncodeLsbFirst(a, b, input.Span, target.Span);

            Tensor<T> output; // [1, T, 1] the outputs before this sample's update
            T sampleLoss;     // the sample's loss, for the history hook
            if (fused is not null)
            {
                fused.TrainStep(input.Span, target.Span, fusedOutput.Span);
                output = fusedOutput;
                sampleLoss = onInterval is null ? T.Zero : loss.Compute(output.Span, target.Span, dLoss.Span);
            }
            else
            {
                model.ZeroGradients();
                output = model.Forward(input, training: true);
                sampleLoss = loss.Compute(output.Span, target.Span, dLoss.Span);
            }
            error = 0;
            for (int t = 0; t < steps; t++) error += double.CreateChecked(T.Abs(target.Span[t] - output.Span[t]));
            bool print = j % options.PrintEvery == 0;
            IamtraskReport? report = print ? Report(j, error, output.Span, target.Span, a, b) : null;
            if (onInterval is not null) Observe(tally, j, options, double.CreateChecked(sampleLoss), output.Span, target.Span, onInterval);
            if (fused is null)
            {
                model.Backward(dLoss);
                optimizer.Step(model.ParameterList);
            }

            if (report is not null)
            {
                reports.Add(report);
                onReport?.Invoke(report);
            }
        }
        fused?.WriteWeights(); // the fused step trained its own copies (an interrupted run returns no model)
        return new IamtraskResult<T>(model, reports, error);
    }

    /// <summary>Adds iteration <paramref name="j"/> to the interval's tally; at the interval's end (or the run's), reports it.</summary>
    private static void Observe<T>(IamtraskTally tally, int j, IamtraskOptions options, double loss, ReadOnlySpan<T> output, ReadOnlySpan<T> target, Action<IamtraskInterval> onInterval)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        tally.Add(loss, output, target);
        if (tally.Count == options.PrintEvery || j + 1 == options.Iterations) onInterval(tally.Take(j + 1));
    }

    private static IamtraskReport Report<T>(int iteration, double error, ReadOnlySpan<T> output, ReadOnlySpan<T> target, long a, long b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = output.Length;
        var predicted = new int[steps];
        var truth = new int[steps];
        for (int t = 0; t < steps; t++)
        {
            // np.round rounds half to even; step t is bit t, printed most significant first.
            double y = double.CreateChecked(output[t]);
            predicted[steps - 1 - t] = Math.Round(y, MidpointRounding.ToEven) >= 1 ? 1 : 0;
            truth[steps - 1 - t] = target[t] > T.Zero ? 1 : 0;
        }
        return new IamtraskReport(iteration, error, predicted, truth, a, b);
    }

    private static void EncodeLsbFirst<T>(long a, long b, Span<T> input, Span<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long sum = a + b;
        for (int t = 0; t < target.Length; t++)
        {
            input[2 * t] = ((a >> t) & 1) != 0 ? T.One : T.Zero;
            input[(2 * t) + 1] = ((b >> t) & 1) != 0 ? T.One : T.Zero;
            target[t] = ((sum >> t) & 1) != 0 ? T.One : T.Zero;
        }
    }

    private static double[] Draw(NumpyRandom random, int count)
    {
        var values = new double[count];
        random.Fill(values);
        for (int i = 0; i < count; i++) values[i] = (2 * values[i]) - 1;
        return values;
    }

    private static (SimpleRnn<T> Rnn, Dense<T> Dense) Parts<T>(Sequential<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (model.Layers.Count == 2 && model.Layers[0] is SimpleRnn<T> rnn && model.Layers[1] is Dense<T> dense
            && rnn.InputSize == 2 && dense.OutputSize == 1 && dense.InputSize == rnn.HiddenSize)
        {
            return (rnn, dense);
        }
        throw new ArgumentException("The model is not the iamtrask network (SimpleRnn(2→H) then Dense(H→1)).", nameof(model));
    }
}

/// <summary>numpy's printing of float64 values, as <c>str(np.array([x]))</c> shows them.</summary>
public static class NumpyFormat
{
    /// <summary>
    /// One element of a float64 array as numpy 1.24 prints it with default options
    /// (precision 8, <c>floatmode='maxprec'</c>): the shortest round-trip digits, cut to at most
    /// 8 decimals with trailing zeros dropped (<c>3.5852713</c>, <c>1.</c>); scientific with up to
    /// 8 mantissa decimals when 0 &lt; |x| &lt; 1e-4 or |x| ≥ 1e8 (<c>5.12345679e-05</c>, <c>1.e-05</c>).
    /// </summary>
    public static string Float64(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        double magnitude = Math.Abs(value);
        if (magnitude != 0 && (magnitude < 1e-4 || magnitude >= 1e8)) return Scientific(value);
        string shortest = value.ToString("R", CultureInfo.InvariantCulture);
        string text = !shortest.Contains('E', StringComparison.Ordinal) && Decimals(shortest) <= 8
            ? shortest
            : value.ToString("F8", CultureInfo.InvariantCulture);
        if (!text.Contains('.', StringComparison.Ordinal)) return text + ".";
        return text.TrimEnd('0');
    }

    private static string Scientific(double value)
    {
        // Shortest round-trip mantissa when it has at most 9 significant digits, else rounded to 9.
        string r = value.ToString("R", CultureInfo.InvariantCulture);
        int significant = r.TakeWhile(c => c != 'E').Count(char.IsAsciiDigit) - CountLeadingZeros(r);
        string formatted = value.ToString(significant <= 9 ? "E" + Math.Max(significant - 1, 0) : "E8", CultureInfo.InvariantCulture);
        int e = formatted.IndexOf('E', StringComparison.Ordinal);
        string mantissa = formatted[..e];
        int exponent = int.Parse(formatted[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        mantissa = mantissa.Contains('.', StringComparison.Ordinal) ? mantissa.TrimEnd('0') : mantissa + ".";
        var sb = new StringBuilder(mantissa);
        sb.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    private static int CountLeadingZeros(string r)
    {
        int count = 0;
        foreach (char c in r)
        {
            if (c == '-' || c == '.') continue;
            if (c == '0') count++;
            else break;
        }
        return count;
    }

    private static int Decimals(string text)
    {
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? 0 : text.Length - dot - 1;
    }
}
