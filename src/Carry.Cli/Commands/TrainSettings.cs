using System.Globalization;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Training;

namespace Carry.Cli.Commands;

/// <summary>
/// Everything <c>carry train</c> needs to build and train an adder. A preset is one of these
/// with its own defaults; every flag overrides a field. Validated in one place, <see cref="Validate"/>.
/// </summary>
internal sealed record TrainSettings
{
    /// <summary>Recurrent cell: <c>elman</c>, <c>jordan</c>, <c>lstm</c> or <c>gru</c> (default lstm).</summary>
    public string Cell { get; init; } = LayerKinds.Lstm;

    /// <summary>Hidden non-linearity of Elman/Jordan cells (default tanh).</summary>
    public string Activation { get; init; } = "tanh";

    /// <summary>Stacked recurrent layers (default 1).</summary>
    public int Layers { get; init; } = 1;

    /// <summary>Wrap each recurrent layer in a bidirectional pair (default false).</summary>
    public bool Bidirectional { get; init; }

    /// <summary>Hidden units per recurrent layer, H (default 256, as in Experiment B).</summary>
    public int Hidden { get; init; } = 256;

    /// <summary><c>concat</c> (Experiment B) or <c>aligned</c> (Experiment A) (default concat).</summary>
    public string Encoding { get; init; } = ConcatEncoding.Name;

    /// <summary>Operand width in bits (default 8).</summary>
    public int Bits { get; init; } = 8;

    /// <summary>Dropout rate after the recurrent stack, in [0, 1) (default 0.2).</summary>
    public double Dropout { get; init; } = 0.2;

    /// <summary>Passes over the data (default 100).</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Samples per step (default 128).</summary>
    public int Batch { get; init; } = 128;

    /// <summary>Learning rate (default 0.001, Keras's Adam).</summary>
    public double LearningRate { get; init; } = 0.001;

    /// <summary>Multiply the learning rate by this after every epoch (default 1: constant).</summary>
    public double Decay { get; init; } = 1.0;

    /// <summary>Learning-rate schedule: <c>step</c> (multiply by <see cref="Decay"/> each epoch), <c>cosine</c> or <c>plateau</c> (default step).</summary>
    public string Schedule { get; init; } = "step";

    /// <summary>Lowest learning rate of the cosine and plateau schedules (default 0).</summary>
    public double MinLearningRate { get; init; }

    /// <summary>Plateau schedule: multiply the rate by this when <see cref="Monitor"/> stalls (default 0.5).</summary>
    public double PlateauFactor { get; init; } = 0.5;

    /// <summary>Plateau schedule: epochs without improvement before a reduction (default 5).</summary>
    public int PlateauPatience { get; init; } = 5;

    /// <summary>Early stopping: stop after this many epochs without improvement in <see cref="Monitor"/> (default 0: off).</summary>
    public int Patience { get; init; }

    /// <summary>The value early stopping and the plateau schedule watch: <c>loss</c> or <c>exact</c> (default loss).</summary>
    public string Monitor { get; init; } = "loss";

    /// <summary>Where the history CSV goes; null: beside the model, <c>&lt;out&gt;.history.csv</c>.</summary>
    public string? History { get; init; }

    /// <summary>Seed of initialisation, dropout and shuffling (default 0).</summary>
    public ulong Seed { get; init; }

    /// <summary><c>mse</c> or <c>bce</c> (default mse).</summary>
    public string Loss { get; init; } = "mse";

    /// <summary><c>sgd</c>, <c>momentum</c>, <c>adagrad</c>, <c>rmsprop</c> or <c>adam</c> (default adam).</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>Clip every gradient element to ±this; 0 turns clipping off (default 0).</summary>
    public double Clip { get; init; }

    /// <summary>Weight initialisation (default Keras's: glorot/orthogonal, forget bias 1).</summary>
    public Initialization Init { get; init; } = Initialization.Keras;

    /// <summary>Where the model goes (default adder.carry).</summary>
    public string Out { get; init; } = "adder.carry";

    /// <summary>Stop once every training pair is added exactly (default false).</summary>
    public bool UntilPerfect { get; init; }

    /// <summary>Draw the model to this file (.svg or .png) before training; null: don't.</summary>
    public string? Plot { get; init; }

    /// <summary>Draw the training curves (loss, exact, bit accuracy) from the history to this .png or .svg at the end; null: don't.</summary>
    public string? Curves { get; init; }

    /// <summary>After every epoch, write the hidden-state projection (as <c>carry inspect --states</c>) into this folder; null: don't.</summary>
    public string? Snapshots { get; init; }

    /// <summary>Random pairs per epoch when the full table is too large (default 65,536).</summary>
    public int SamplesPerEpoch { get; init; } = 65536;

    /// <summary>Threads for the matrix products (0: every core). Results are identical for every count.</summary>
    public int Threads { get; init; }

    /// <summary>The cells the general form accepts.</summary>
    public static readonly string[] Cells = [LayerKinds.Elman, LayerKinds.Jordan, LayerKinds.Lstm, LayerKinds.Gru];

    /// <summary>The schedules accepted.</summary>
    public static readonly string[] Schedules = ["step", "cosine", "plateau"];

    /// <summary>The values early stopping and the plateau schedule can watch.</summary>
    public static readonly string[] Monitors = ["loss", "exact", "bit_accuracy"];

    /// <summary>The optimizers accepted.</summary>
    public static readonly string[] Optimizers = ["sgd", "momentum", "adagrad", "rmsprop", "adam"];

    /// <summary>Throws <see cref="UsageException"/> naming the first bad setting.</summary>
    public TrainSettings Validate()
    {
        if (!Cells.Contains(Cell)) Fail($"unknown cell '{Cell}' (expected {string.Join(", ", Cells)})");
        if (Activation is not ("tanh" or "sigmoid" or "relu")) Fail($"unknown activation '{Activation}' (expected tanh, sigmoid or relu)");
        if (Layers is < 1 or > 16) Fail($"--layers must be between 1 and 16, not {Layers}");
        if (Hidden is < 1 or > 4096) Fail($"--units/--hidden must be between 1 and 4096, not {Hidden}");
        if (Encoding is not (ConcatEncoding.Name or AlignedEncoding.Name)) Fail($"unknown encoding '{Encoding}' (expected concat or aligned)");
        if (Bits is < 1 or > 64) Fail($"--bits must be between 1 and 64, not {Bits}");
        if (!(Dropout >= 0 && Dropout < 1)) Fail($"--dropout must be in [0, 1), not {Format(Dropout)}");
        if (Epochs < 1) Fail($"--epochs must be at least 1, not {Epochs}");
        if (Batch < 1) Fail($"--batch must be at least 1, not {Batch}");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) Fail($"--lr must be a positive number, not {Format(LearningRate)}");
        if (!(Decay > 0 && Decay <= 1)) Fail($"--decay must be in (0, 1], not {Format(Decay)}");
        if (!Schedules.Contains(Schedule)) Fail($"unknown schedule '{Schedule}' (expected {string.Join(", ", Schedules)})");
        if (!(MinLearningRate >= 0 && MinLearningRate <= LearningRate)) Fail($"--min-lr must be between 0 and --lr ({Format(LearningRate)}), not {Format(MinLearningRate)}");
        if (!(PlateauFactor > 0 && PlateauFactor < 1)) Fail($"--plateau-factor must be in (0, 1), not {Format(PlateauFactor)}");
        if (PlateauPatience < 1) Fail($"--plateau-patience must be at least 1, not {PlateauPatience}");
        if (Patience < 0) Fail($"--patience must be 0 (off) or more epochs, not {Patience}");
        if (!Monitors.Contains(Monitor)) Fail($"unknown monitor '{Monitor}' (expected {string.Join(", ", Monitors)})");
        if (History is not null && string.IsNullOrWhiteSpace(History)) Fail("--history needs a file name");
        if (Loss is not ("mse" or "bce")) Fail($"unknown loss '{Loss}' (expected mse or bce)");
        if (!Optimizers.Contains(Optimizer)) Fail($"unknown optimizer '{Optimizer}' (expected {string.Join(", ", Optimizers)})");
        if (!(Clip >= 0) || double.IsInfinity(Clip)) Fail($"--clip must be a finite number ≥ 0, not {Format(Clip)}");
        if (string.IsNullOrWhiteSpace(Out)) Fail("--out needs a file name");
        if (Curves is not null) Pictures.PictureFile.CheckExtension(Curves);
        if (Snapshots is not null && string.IsNullOrWhiteSpace(Snapshots)) Fail("--epochs-snapshots needs a folder name");
        if (Threads is < 0 or > 256) Fail($"--threads must be between 0 (every core) and 256, not {Threads}");
        if (SamplesPerEpoch < 1) Fail($"--samples-per-epoch must be at least 1, not {SamplesPerEpoch}");
        return this;
    }

    /// <summary>The history file: <see cref="History"/>, or <c>&lt;out&gt;.history.csv</c>.</summary>
    public string HistoryPath => History ?? HistoryCsv.PathBeside(Out);

    /// <summary>The learning-rate schedule these settings ask for; null for a constant rate.</summary>
    public ILearningRateSchedule? LearningRateSchedule() => Schedule switch
    {
        "cosine" => new CosineDecay(LearningRate, Epochs, MinLearningRate),
        "plateau" => new ReduceOnPlateau(Monitor, PlateauFactor, PlateauPatience, MinLearningRate),
        _ => Decay == 1 ? null : new StepDecay(Decay),
    };

    /// <summary>Early stopping as asked (null when <see cref="Patience"/> is 0).</summary>
    public EarlyStopping? EarlyStop() => Patience > 0 ? new EarlyStopping(Monitor, Patience) : null;

    /// <summary>The flags that reproduce these settings (shown by <c>--help</c> and stored in the file).</summary>
    public string Flags()
    {
        var parts = new List<string>
        {
            $"--cell {Cell}",
        };
        if (Cell is LayerKinds.Elman or LayerKinds.Jordan) parts.Add($"--activation {Activation}");
        if (Layers != 1) parts.Add($"--layers {Layers}");
        if (Bidirectional) parts.Add("--bidirectional");
        parts.Add($"--hidden {Hidden}");
        parts.Add($"--encoding {Encoding}");
        parts.Add($"--bits {Bits}");
        parts.Add($"--dropout {Format(Dropout)}");
        parts.Add($"--loss {Loss}");
        parts.Add($"--optimizer {Optimizer}");
        parts.Add($"--lr {Format(LearningRate)}");
        if (Decay != 1) parts.Add($"--decay {Format(Decay)}");
        if (Schedule != "step") parts.Add($"--schedule {Schedule}");
        if (Schedule != "step" && MinLearningRate > 0) parts.Add($"--min-lr {Format(MinLearningRate)}");
        if (Schedule == "plateau") parts.Add($"--plateau-factor {Format(PlateauFactor)} --plateau-patience {PlateauPatience}");
        if (Patience > 0) parts.Add($"--patience {Patience}");
        if (Patience > 0 || Schedule == "plateau") parts.Add($"--monitor {Monitor}");
        parts.Add($"--batch {Batch}");
        parts.Add($"--epochs {Epochs}");
        if (Clip > 0) parts.Add($"--clip {Format(Clip)}");
        if (UntilPerfect) parts.Add("--until-perfect");
        return string.Join(' ', parts);
    }

    internal static string Format(double x) => x.ToString("G", CultureInfo.InvariantCulture);

    private static void Fail(string message) => throw new UsageException(message);
}

/// <summary>A named set of training flags, reproducing an experiment or a tuned recipe.</summary>
/// <param name="Name">Subcommand name (<c>keras</c>).</param>
/// <param name="Description">One line for <c>--help</c>.</param>
/// <param name="Settings">The defaults it sets.</param>
internal sealed record TrainPreset(string Name, string Description, TrainSettings Settings)
{
    /// <summary>
    /// The presets. <c>keras</c> is SEEDS.md's Experiment B as written: LSTM(256) → Dropout(0.2)
    /// → Dense(9, sigmoid), MSE, Adam(0.001), batch 128, 100 epochs, all 65,536 8-bit pairs.
    /// <c>keras-fast</c> gets every pair exact in a fraction of the time (docs/experiments.md).
    /// </summary>
    public static readonly TrainPreset[] All =
    [
        new("keras", "Experiment B as the article runs it: LSTM(256) -> Dropout(0.2) -> Dense(9, sigmoid), MSE, Adam(0.001), batch 128, 100 epochs.",
            new TrainSettings()),
        new("keras-fast", "Experiment B's task, all 65,536 8-bit pairs, learned in far fewer epochs: LSTM(128) -> Dense(9, sigmoid), BCE, Adam(0.005, cosine to 0.0003 over 40 epochs, gradients clipped to +-1), batch 64, until every pair is exact.",
            new TrainSettings
            {
                Hidden = 128,
                Dropout = 0,
                Loss = "bce",
                LearningRate = 0.005,
                Schedule = "cosine",
                MinLearningRate = 0.0003,
                Clip = 1,
                Batch = 64,
                Epochs = 40,
                UntilPerfect = true,
            }),
        new("quick", "A 4-bit adder (all 256 pairs exact) in seconds: LSTM(32) -> Dense(5, sigmoid), BCE, Adam(0.01), batch 16.",
            new TrainSettings
            {
                Bits = 4,
                Hidden = 32,
                Dropout = 0,
                Loss = "bce",
                LearningRate = 0.01,
                Batch = 16,
                Epochs = 300,
                UntilPerfect = true,
            }),
    ];
}
