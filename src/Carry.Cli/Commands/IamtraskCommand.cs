using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Carry.Arithmetic;
using Carry.Numerics;
using Carry.Serialization;
using Carry.Training;

namespace Carry.Cli.Commands;

/// <summary>
/// <c>carry train iamtrask</c>: Experiment A (SEEDS.md), iamtrask's numpy Elman adder, through
/// <see cref="IamtraskPreset"/>. Standard output is exactly what the numpy script prints (in
/// double, digit for digit); the seed, the settings and where the model went go to standard error.
/// </summary>
public static class IamtraskCommand
{
    /// <summary>Builds the subcommand.</summary>
    public static Command Create()
    {
        var seed = new Option<long>("--seed") { Description = "np.random.seed value, 0 to 4294967295", DefaultValueFactory = _ => 0 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units (hidden_dim)", DefaultValueFactory = _ => 16 };
        var lr = new Option<double>("--lr") { Description = "Learning rate (alpha)", DefaultValueFactory = _ => 0.1 };
        var iterations = new Option<int>("--iterations") { Description = "Training samples, one per iteration", DefaultValueFactory = _ => 50_000 };
        var bits = new Option<int>("--bits") { Description = "Time steps (binary_dim); operands are drawn below 2^(bits-1)", DefaultValueFactory = _ => 8 };
        var printEvery = new Option<int>("--print-every") { Description = "Print the five lines every this many iterations", DefaultValueFactory = _ => 1000 };
        var output = new Option<string>("--out") { Description = "Where to save the trained model", DefaultValueFactory = _ => "elman.carry" };
        var single = new Option<bool>("--float") { Description = "Train in float (single precision) instead of double" };
        var history = new Option<string?>("--history") { Description = "Write iteration,loss,exact,bit_accuracy per print interval as CSV here (default: <out>.history.csv)" };

        var command = new Command(IamtraskPreset.Name, "Experiment A: iamtrask's numpy Elman RNN learns 8-bit addition, one bit per step, reproduced digit for digit.");
        foreach (var option in new Option[] { seed, hidden, lr, iterations, bits, printEvery, output, single, history }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var options = new IamtraskOptions
            {
                Seed = parse.GetValue(seed),
                Hidden = parse.GetValue(hidden),
                LearningRate = parse.GetValue(lr),
                Iterations = parse.GetValue(iterations),
                Bits = parse.GetValue(bits),
                PrintEvery = parse.GetValue(printEvery),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new UsageException(OptionName(e.ParamName) + ": " + Check.Plain(e));
            }
            string path = parse.GetValue(output) ?? "elman.carry";
            OutputPath.Check("--out", path);
            string historyPath = parse.GetValue(history) ?? HistoryCsv.PathBeside(path);
            OutputPath.Check("--history", historyPath);
            return parse.GetValue(single) ? Run<float>(options, path, historyPath) : Run<double>(options, path, historyPath);
        });
        return command;
    }

    private static int Run<T>(IamtraskOptions options, string path, string historyPath) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string precision = typeof(T) == typeof(double) ? "double" : "float";
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"iamtrask: seed {options.Seed}, hidden {options.Hidden}, lr {options.LearningRate}, {options.Iterations} iterations, {options.Bits} bits, {precision}"));
        var clock = Stopwatch.StartNew();
        var stdout = Console.Out;
        var intervals = new List<IamtraskInterval>();
        var result = IamtraskPreset.Train<T>(options, report =>
        {
            foreach (var line in report.Lines) stdout.WriteLine(line);
        }, intervals.Add);
        clock.Stop();
        var training = new Dictionary<string, string>
        {
            ["preset"] = IamtraskPreset.Name,
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
            ["hidden"] = options.Hidden.ToString(CultureInfo.InvariantCulture),
            ["lr"] = options.LearningRate.ToString("R", CultureInfo.InvariantCulture),
            ["iterations"] = options.Iterations.ToString(CultureInfo.InvariantCulture),
            ["bits"] = options.Bits.ToString(CultureInfo.InvariantCulture),
            ["loss"] = "half-sse",
            ["optimizer"] = "sgd",
            ["batch"] = "1",
            ["precision"] = precision,
            ["final_error"] = result.FinalError.ToString("R", CultureInfo.InvariantCulture),
            ["seconds"] = clock.Elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture),
        };
        var metadata = new ModelMetadata
        {
            Task = new TaskInfo(AlignedEncoding.Name, options.Bits),
            DType = typeof(T) == typeof(double) ? "F64" : "F32",
            Training = training,
        };
        ModelFile.Save(path, result.Model, metadata);
        HistoryCsv.WriteText(historyPath, HistoryCsv.Format(IamtraskInterval.Columns, intervals.Select(i => i.Values)));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"iamtrask: trained in {clock.Elapsed.TotalSeconds:F2} s; saved {path} and its history {historyPath} (seed {options.Seed})"));
        return ExitCodes.Success;
    }

    private static string OptionName(string? parameter) => parameter switch
    {
        nameof(IamtraskOptions.Seed) => "--seed",
        nameof(IamtraskOptions.Hidden) => "--hidden",
        nameof(IamtraskOptions.LearningRate) => "--lr",
        nameof(IamtraskOptions.Iterations) => "--iterations",
        nameof(IamtraskOptions.Bits) => "--bits",
        nameof(IamtraskOptions.PrintEvery) => "--print-every",
        _ => parameter ?? "option",
    };
}
