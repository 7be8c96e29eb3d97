using Carry.Arithmetic;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Training;

namespace Carry.Bench;

/// <summary>
/// <c>quick --only cells</c> (and <c>cells-epoch</c>): every recurrent cell at Experiment B's shapes
/// (concat 8-bit, one input feature, 16 steps, 256 units, batch 128), side by side in one run, as
/// <c>carry train keras --cell X</c> builds it: the cell, Dropout(0.2), Dense(9, sigmoid), MSE, Adam.
/// Times are CPU-seconds of the whole process (all threads), so a loaded machine distorts them less
/// than wall time; the ratios to the LSTM measured in the same run are the figures to compare.
/// </summary>
internal static class CellBench
{
    /// <summary>
    /// A cell as the bench builds it, with its gate count G (LSTM 4, GRU 3, Elman and Jordan 1) and
    /// the H×H products a step makes (the same, but Jordan's 2: y·W_yhᵀ and h·W_hyᵀ with O = H).
    /// </summary>
    private sealed record Cell(string Name, string Kind, int Gates, Func<Sequential<float>, Sequential<float>>? Adjust = null, int? Products = null)
    {
        public int StepProducts => Products ?? Gates;
    }

    private static readonly Cell[] Cells =
    [
        new("lstm", LayerKinds.Lstm, 4),
        new("gru", LayerKinds.Gru, 3),
        new("gru reset-before (Keras reset_after=False)", LayerKinds.Gru, 3, m => WithLayer(m, new LayerSpec { Kind = LayerKinds.Gru, InputSize = 1, Units = Hidden, ResetAfter = false })),
        new("gru hard_sigmoid", LayerKinds.Gru, 3, m => WithLayer(m, new LayerSpec { Kind = LayerKinds.Gru, InputSize = 1, Units = Hidden, RecurrentActivation = "hard_sigmoid" })),
        new("elman", LayerKinds.Elman, 1),
        new("jordan", LayerKinds.Jordan, 1, Products: 2),
    ];

    private const int Hidden = 256, Batch = 128, Steps = 16;

    /// <summary>Per step of one layer: forward, backward, and both; then the whole training step; ratios per gate-unit to the LSTM.</summary>
    public static void PerStep(ComputeContext context, int reps)
    {
        var (x, y) = Workloads.ExperimentBData();
        var (bx, by) = Workloads.FirstBatch(x, y, Batch);
        double lstmStep = 0, lstmTrain = 0;
        var models = Cells.Select(c => Build(c, context)).ToArray();
        foreach (var m in models)
        {
            for (int i = 0; i < 40; i++) m.TrainStep(bx, by); // past the JIT's tiering, before anything is timed
        }
        // Samples in rounds, every cell once a round, so that a swing in the machine's speed
        // reaches every cell alike; the medians per cell are compared.
        const int inner = 40; // samples of 0.1-0.5 s: the process's CPU time ticks in 10 ms
        var forward = new double[Cells.Length][];
        var backward = new double[Cells.Length][];
        var train = new double[Cells.Length][];
        var allocated = new long[Cells.Length];
        for (int c = 0; c < Cells.Length; c++) (forward[c], backward[c], train[c]) = (new double[reps], new double[reps], new double[reps]);
        for (int r = 0; r < reps; r++)
        {
            for (int c = 0; c < Cells.Length; c++)
            {
                var model = models[c];
                var layer = (RecurrentLayer<float>)model.Layers[0];
                var dOut = new Tensor<float>(Batch, layer.OutputSize);
                dOut.Fill(0.01f);
                forward[c][r] = Timing.Median(1, () => { for (int i = 0; i < inner; i++) layer.Forward(bx, null, training: true); }).Cpu / inner / Steps;
                backward[c][r] = Timing.Median(1, () => { for (int i = 0; i < inner; i++) layer.Backward(dOut, null); }).Cpu / inner / Steps;
                if (r == 0)
                {
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < inner; i++) model.TrainStep(bx, by);
                    allocated[c] = (GC.GetAllocatedBytesForCurrentThread() - before) / inner;
                }
                train[c][r] = Timing.Median(1, () => { for (int i = 0; i < inner; i++) model.TrainStep(bx, by); }).Cpu / inner;
            }
        }
        static double MedianOf(double[] v) => v.Order().ElementAt(v.Length / 2);
        for (int c = 0; c < Cells.Length; c++)
        {
            var cell = Cells[c];
            double f = MedianOf(forward[c]), b = MedianOf(backward[c]), t = MedianOf(train[c]);
            double step = f + b;
            if (cell.Kind == LayerKinds.Lstm) (lstmStep, lstmTrain) = (step, t);
            Timing.Report($"cells {cell.Name}: layer forward per step", f * 1e6, "cpu-us");
            Timing.Report($"cells {cell.Name}: layer backward per step", b * 1e6, "cpu-us");
            Timing.Report($"cells {cell.Name}: layer forward+backward per step and gate-unit, / LSTM's", step / cell.Gates / (lstmStep / 4), "x");
            if (cell.StepProducts != cell.Gates) Timing.Report($"cells {cell.Name}: layer forward+backward per step and HxH product, / LSTM's", step / cell.StepProducts / (lstmStep / 4), "x");
            Timing.Report($"cells {cell.Name}: training step (batch {Batch}, T {Steps})", t * 1e3, "cpu-ms");
            Timing.Report($"cells {cell.Name}: training step / LSTM's", t / lstmTrain, "x");
            Timing.Report($"cells {cell.Name}: training step allocation", allocated[c], "B/step");
        }
    }

    /// <summary>One whole epoch (65,536 pairs, batch 128) of the LSTM and of the GRU, in the same run, through the training loop.</summary>
    public static void Epochs(ComputeContext context, int reps)
    {
        var (x, y) = Workloads.ExperimentBData();
        var options = new FitOptions { Epochs = 1, BatchSize = Batch, Seed = 1 };
        double lstm = 0;
        foreach (var cell in Cells.Where(c => c.Name is "lstm" or "gru"))
        {
            var model = Build(cell, context);
            var (wx, wy) = Workloads.FirstBatch(x, y, 1024);
            model.Fit(wx, wy, options); // warm up the JIT
            var (wall, cpu) = Timing.Median(reps, () => model.Fit(x, y, options));
            if (cell.Kind == LayerKinds.Lstm) lstm = cpu;
            Timing.Report($"cells {cell.Name}: experiment B epoch", wall, "s");
            Timing.Report($"cells {cell.Name}: experiment B epoch CPU time", cpu, "cpu-s");
            Timing.Report($"cells {cell.Name}: experiment B epoch CPU time / LSTM's", cpu / lstm, "x");
        }
    }

    private static Sequential<float> Build(Cell cell, ComputeContext context)
    {
        var model = AdderModel.Build<float>(cell.Kind, ConcatEncoding.Name, 8, Hidden, dropout: 0.2);
        if (cell.Adjust is not null) model = cell.Adjust(model);
        model.Initialize(Initialization.Keras, 0);
        model.Compile(new MeanSquaredError<float>(), new Adam<float>(0.001, epsilon: 1e-7));
        model.Compute = context;
        return model;
    }

    /// <summary>The model with its recurrent layer replaced by <paramref name="spec"/>'s.</summary>
    private static Sequential<float> WithLayer(Sequential<float> model, LayerSpec spec)
    {
        var layers = model.Layers.ToArray();
        layers[0] = spec.Create<float>();
        return new Sequential<float>(layers);
    }
}
