using System.CommandLine;
using Carry.Layers;

namespace Carry.Cli.Commands;

/// <summary>The flags of <c>carry train</c> and its presets; each default is the preset's setting.</summary>
internal sealed class TrainOptions
{
    private readonly TrainSettings _defaults;
    private readonly Option<string> _cell, _activation, _encoding, _loss, _optimizer, _out, _init, _schedule, _monitor;
    private readonly Option<string?> _plot, _history;
    private readonly Option<int> _layers, _hidden, _bits, _epochs, _batch, _samplesPerEpoch, _threads, _patience, _plateauPatience;
    private readonly Option<bool> _bidirectional, _untilPerfect;
    private readonly Option<double> _dropout, _lr, _decay, _clip, _minLr, _plateauFactor;
    private readonly Option<ulong> _seed;

    public TrainOptions(TrainSettings d, bool general)
    {
        _defaults = d;
        _cell = new("--cell") { Description = "Recurrent cell: elman, jordan, lstm or gru.", DefaultValueFactory = _ => d.Cell };
        _activation = new("--activation") { Description = "Hidden activation of elman/jordan cells: tanh, sigmoid or relu.", DefaultValueFactory = _ => d.Activation };
        _layers = new("--layers") { Description = "Stacked recurrent layers (each returns sequences to the next).", DefaultValueFactory = _ => d.Layers };
        _bidirectional = new("--bidirectional") { Description = "Run each recurrent layer forward and backward.", DefaultValueFactory = _ => d.Bidirectional };
        _hidden = new("--hidden", "--units") { Description = "Hidden units per recurrent layer.", DefaultValueFactory = _ => d.Hidden };
        _encoding = new("--encoding") { Description = "concat (operands one after the other, MSB first; Experiment B) or aligned (bit t of both at step t; Experiment A).", DefaultValueFactory = _ => d.Encoding };
        _bits = new("--bits") { Description = "Operand width in bits (all pairs up to 10 bits; wider: fresh random pairs each epoch).", DefaultValueFactory = _ => d.Bits };
        _dropout = new("--dropout") { Description = "Dropout rate after the recurrent layers, in [0, 1).", DefaultValueFactory = _ => d.Dropout };
        _epochs = new("--epochs") { Description = "Passes over the data.", DefaultValueFactory = _ => d.Epochs };
        _batch = new("--batch") { Description = "Samples per step (shuffled each epoch).", DefaultValueFactory = _ => d.Batch };
        _lr = new("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => d.LearningRate };
        _decay = new("--decay") { Description = "Multiply the learning rate by this after every epoch (1: constant).", DefaultValueFactory = _ => d.Decay };
        _schedule = new("--schedule") { Description = "Learning-rate schedule: step (x --decay each epoch), cosine (--lr down to --min-lr over --epochs) or plateau (x --plateau-factor when --monitor stalls for --plateau-patience epochs).", DefaultValueFactory = _ => d.Schedule };
        _minLr = new("--min-lr") { Description = "Lowest learning rate of the cosine and plateau schedules.", DefaultValueFactory = _ => d.MinLearningRate };
        _plateauFactor = new("--plateau-factor") { Description = "Plateau schedule: multiply the rate by this, in (0, 1).", DefaultValueFactory = _ => d.PlateauFactor };
        _plateauPatience = new("--plateau-patience") { Description = "Plateau schedule: epochs without improvement before a reduction.", DefaultValueFactory = _ => d.PlateauPatience };
        _patience = new("--patience") { Description = "Early stopping: stop after N epochs without improvement in --monitor (0: off).", DefaultValueFactory = _ => d.Patience };
        _monitor = new("--monitor") { Description = "What early stopping and the plateau schedule watch: loss (training loss), exact or bit_accuracy.", DefaultValueFactory = _ => d.Monitor };
        _history = new("--history") { Description = "Write the per-epoch history (loss, exact, bit_accuracy, lr, seconds) as CSV here (default: <out>.history.csv)." };
        _seed = new("--seed") { Description = "Seed of initialisation, dropout and shuffling.", DefaultValueFactory = _ => d.Seed };
        _loss = new("--loss") { Description = "Loss: mse or bce.", DefaultValueFactory = _ => d.Loss };
        _optimizer = new("--optimizer") { Description = "Optimizer: sgd, momentum, adagrad, rmsprop or adam (Keras's: beta 0.9/0.999, eps 1e-7).", DefaultValueFactory = _ => d.Optimizer };
        _clip = new("--clip") { Description = "Clip every gradient element to +-this (0: off).", DefaultValueFactory = _ => d.Clip };
        _init = new("--init") { Description = "Weight initialisation: keras (glorot, orthogonal, forget bias 1) or pytorch.", DefaultValueFactory = _ => d.Init.ToString().ToLowerInvariant() };
        _out = new("--out", "-o") { Description = "Where to save the model.", DefaultValueFactory = _ => d.Out };
        _untilPerfect = new("--until-perfect") { Description = "Stop as soon as every training pair is added exactly.", DefaultValueFactory = _ => d.UntilPerfect };
        _plot = new("--plot") { Description = "Draw the model to this .svg or .png before training." };
        _samplesPerEpoch = new("--samples-per-epoch") { Description = "Random pairs per epoch when the operands are wider than 10 bits.", DefaultValueFactory = _ => d.SamplesPerEpoch };
        _threads = new("--threads") { Description = "Threads for the matrix products (0: every core); results are identical for every count.", DefaultValueFactory = _ => d.Threads };
        General = general;
    }

    /// <summary>True for the general form (all flags shown first).</summary>
    public bool General { get; }

    public void AddTo(Command command)
    {
        Option[] all = [_cell, _activation, _layers, _bidirectional, _hidden, _encoding, _bits, _dropout, _epochs, _batch, _lr, _decay,
            _schedule, _minLr, _plateauFactor, _plateauPatience, _patience, _monitor,
            _seed, _loss, _optimizer, _clip, _init, _out, _history, _untilPerfect, _plot, _samplesPerEpoch, _threads];
        foreach (var option in all) command.Options.Add(option);
    }

    public TrainSettings Read(ParseResult parse)
    {
        string init = (parse.GetValue(_init) ?? "keras").ToLowerInvariant();
        return _defaults with
        {
            Cell = (parse.GetValue(_cell) ?? _defaults.Cell).ToLowerInvariant(),
            Activation = (parse.GetValue(_activation) ?? _defaults.Activation).ToLowerInvariant(),
            Layers = parse.GetValue(_layers),
            Bidirectional = parse.GetValue(_bidirectional),
            Hidden = parse.GetValue(_hidden),
            Encoding = (parse.GetValue(_encoding) ?? _defaults.Encoding).ToLowerInvariant(),
            Bits = parse.GetValue(_bits),
            Dropout = parse.GetValue(_dropout),
            Epochs = parse.GetValue(_epochs),
            Batch = parse.GetValue(_batch),
            LearningRate = parse.GetValue(_lr),
            Decay = parse.GetValue(_decay),
            Schedule = (parse.GetValue(_schedule) ?? _defaults.Schedule).ToLowerInvariant(),
            MinLearningRate = parse.GetValue(_minLr),
            PlateauFactor = parse.GetValue(_plateauFactor),
            PlateauPatience = parse.GetValue(_plateauPatience),
            Patience = parse.GetValue(_patience),
            Monitor = (parse.GetValue(_monitor) ?? _defaults.Monitor).ToLowerInvariant(),
            History = parse.GetValue(_history) ?? _defaults.History,
            Seed = parse.GetValue(_seed),
            Loss = (parse.GetValue(_loss) ?? _defaults.Loss).ToLowerInvariant(),
            Optimizer = (parse.GetValue(_optimizer) ?? _defaults.Optimizer).ToLowerInvariant(),
            Clip = parse.GetValue(_clip),
            Init = init switch
            {
                "keras" => Initialization.Keras,
                "pytorch" => Initialization.PyTorch,
                _ => throw new UsageException($"unknown initialisation '{init}' (expected keras or pytorch)"),
            },
            Out = parse.GetValue(_out) ?? _defaults.Out,
            UntilPerfect = parse.GetValue(_untilPerfect),
            Plot = parse.GetValue(_plot) ?? _defaults.Plot,
            SamplesPerEpoch = parse.GetValue(_samplesPerEpoch),
            Threads = parse.GetValue(_threads),
        };
    }
}
