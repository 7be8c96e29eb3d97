using System.Diagnostics;
using System.Numerics;
using System.Xml.Linq;
using Carry.Analysis;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Tests;

/// <summary>Adders for the analysis tests: the seed-0 iamtrask Elman adder, it broken on purpose, and a hand-built saturated full adder.</summary>
public sealed class ExplainModels
{
    private readonly Lazy<Sequential<double>> _trained = new(() => IamtraskPreset.Train<double>(new IamtraskOptions()).Model);

    /// <summary>The seed-0 iamtrask Elman adder (double, as the preset trains it).</summary>
    public Sequential<double> Trained => _trained.Value;

    /// <summary>
    /// The seed-0 adder with its recurrent weights scaled by 0.99: every 8-bit pair still exact,
    /// but the carry fades along a long chain (all ones plus one fails from about 75 bits).
    /// </summary>
    public Sequential<double> Broken()
    {
        var bytes = ModelFile.ToBytes(Trained, new ModelMetadata { Task = Task, DType = "F64" });
        var copy = ModelFile.FromBytes<double>(bytes).Model;
        var rnn = (SimpleRnn<double>)copy.Layers[0];
        var w = rnn.WeightHh.Value.Span;
        for (int i = 0; i < w.Length; i++) w[i] *= 0.99;
        return copy;
    }

    /// <summary>The task both are trained for.</summary>
    public static TaskInfo Task => new(AlignedEncoding.Name, 8);

    /// <summary>
    /// A full adder built by hand from saturated sigmoid units: u1, u2, u3 = [a + b + c ≥ 1, 2, 3]
    /// with c = u2 of the step before (the carry), output u1 − u2 + u3 (the sum bit).
    /// <paramref name="sumThreshold"/> 0.5 is right; 1.5 turns the output into "a + b + c ≥ 2 … " — wrong at once.
    /// </summary>
    public static Sequential<float> HandBuilt(float gain = 20, float sumThreshold = 0.5f)
    {
        var rnn = new SimpleRnn<float>(2, 3, Activation.Sigmoid, bias: true, returnSequences: true);
        var dense = new Dense<float>(3, 1, Activation.Sigmoid, bias: true);
        var model = new Sequential<float>(rnn, dense);
        for (int j = 0; j < 3; j++)
        {
            rnn.WeightIh.Value.Span[2 * j] = gain;
            rnn.WeightIh.Value.Span[(2 * j) + 1] = gain;
            rnn.WeightHh.Value.Span[(3 * j) + 1] = gain; // every unit reads the carry unit u2
            rnn.BiasIh!.Value.Span[j] = -gain * (j + 0.5f);
        }
        dense.Weight.Value.Span[0] = gain;
        dense.Weight.Value.Span[1] = -gain;
        dense.Weight.Value.Span[2] = gain;
        dense.Bias!.Value.Span[0] = -gain * sumThreshold;
        return model;
    }

    /// <summary>Saves <paramref name="model"/> as an aligned adder in <paramref name="path"/>.</summary>
    public static string Save<T>(string path, Sequential<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ModelFile.Save(path, model, new ModelMetadata { Task = Task, DType = typeof(T) == typeof(float) ? "F32" : "F64" });
        return path;
    }
}

/// <summary>Machines: minimisation, comparison with the full adder, and the written forms.</summary>
public sealed class MealyMachineTests
{
    [Fact]
    public void GivenAFullAdderWithEveryStateDoubled_WhenMinimised_ThenItIsTheTwoStateFullAdder()
    {
        // States 0,1 = carry 0, states 2,3 = carry 1; each pair alternates between its twins.
        var next = new int[16];
        var output = new byte[16];
        var adder = MealyMachine.FullAdder();
        for (int q = 0; q < 4; q++)
        {
            for (int s = 0; s < 4; s++)
            {
                int carry = q / 2;
                next[(q * 4) + s] = (2 * adder.Next(carry, s)) + ((q + 1) % 2);
                output[(q * 4) + s] = (byte)adder.Output(carry, s);
            }
        }
        var doubled = new MealyMachine(4, next, output);

        var minimal = doubled.Minimize();

        Assert.Equal(2, minimal.States);
        Assert.True(minimal.EquivalentTo(adder));
        Assert.True(doubled.EquivalentTo(adder));
    }

    [Fact]
    public void GivenAMachineThatForgetsTheCarry_WhenComparedWithTheFullAdder_ThenTheShortestDifferenceIsOneOneThenZeroZero()
    {
        // One state: output a XOR b, no carry at all.
        var forgetful = new MealyMachine(1, [0, 0, 0, 0], [0, 1, 1, 0]);

        var difference = forgetful.FirstDifference(MealyMachine.FullAdder());

        Assert.False(forgetful.EquivalentTo(MealyMachine.FullAdder()));
        Assert.Equal(new byte[] { 3, 0 }, difference); // 1+1 then 0+0: the carry bit is missing
        Assert.Equal(["S0"], MachineText.StateNames(forgetful));
    }

    [Fact]
    public void GivenTheFullAdder_WhenWritten_ThenDotMermaidAndSvgHoldItsStatesAndTransitions()
    {
        var adder = MealyMachine.FullAdder();

        string dot = MachineText.Dot(adder, "elman");
        string mermaid = MachineText.Mermaid(adder);
        var svg = XDocument.Parse(MachineSvg.Draw(adder, "elman: the full adder"));
        string table = MachineText.Table(adder);

        Assert.StartsWith("digraph \"elman\" {", dot);
        Assert.Contains("q0 -> q1 [label=\"1,1 / 0\"];", dot);
        Assert.Contains("q1 -> q0 [label=\"0,0 / 1\"];", dot);
        Assert.Contains("q0 -> q0 [label=\"0,0 / 0\\n1,0 / 1\\n0,1 / 1\"];", dot);
        Assert.StartsWith("stateDiagram-v2", mermaid);
        Assert.Contains("q1 --> q1 : 1,0 / 0; 0,1 / 0; 1,1 / 1", mermaid);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(2, svg.Descendants(ns + "circle").Count());
        var texts = svg.Descendants(ns + "text").Select(t => t.Value).ToList();
        Assert.Contains("carry 0", texts);
        Assert.Contains("carry 1", texts);
        Assert.Equal(8, texts.Count(t => t.Contains(" / ", StringComparison.Ordinal))); // one label per transition
        Assert.Equal(4, svg.Descendants(ns + "path").Count(p => (string?)p.Attribute("marker-end") == "url(#arrow)")); // two loops, two curves
        Assert.Contains("carry 1      carry 0 / 1  carry 1 / 0  carry 1 / 0  carry 1 / 1", table);
    }
}

/// <summary>Extraction, agreement and counterexamples on real networks.</summary>
public sealed class ExplainTests(ExplainModels models) : IClassFixture<ExplainModels>
{
    [Fact]
    public void GivenTheSeed0ElmanAdder_WhenItsMachineIsExtracted_ThenItIsTheFullAdderAndAgreesOnEverySequenceUpTo8Steps()
    {
        var network = new AdderNetwork<double>(models.Trained);
        var sample = StateSample.Draw(network, 64, 64, seed: 0);

        var machine = MachineExtraction.Extract(network, 2, sample.States);
        var agreement = Agreement.Exhaustive(network, machine!.Minimal, 8, Stopwatch.StartNew(), TimeSpan.MaxValue);

        Assert.True(machine.Minimal.EquivalentTo(MealyMachine.FullAdder()));
        Assert.Equal(2, machine.Minimal.States);
        Assert.True(machine.Raw.States > 2); // quantisation cells really were merged by minimisation
        Assert.Equal(Agreement.TrieSteps(8), agreement.Steps);
        Assert.Equal(87_380, agreement.Steps);
        Assert.Equal(0, agreement.Disagreements);
        Assert.Equal(0, agreement.Wrong);
    }

    [Fact]
    public void GivenTheBrokenAdder_WhenChecked_ThenItIsExactAt8BitsButALongCarryChainFindsTheCounterexample()
    {
        var broken = models.Broken();
        var network = new AdderNetwork<double>(broken);
        var ones = (BigInteger.One << 4096) - 1;

        var at8 = Addition.Evaluate(broken, ExplainModels.Task, [8], 1, 0)[0];
        var wide = Addition.Add(broken, ExplainModels.Task, ones, 1);
        var sample = StateSample.Draw(network, 64, 64, 0);
        var search = CounterexampleSearch.Run(network, sample.States, sample.Carries, [], 0, Stopwatch.StartNew(), TimeSpan.FromSeconds(3));

        Assert.Equal(1.0, at8.Exact);
        Assert.NotEqual(ones + 1, wide.Sum);
        Assert.NotNull(search.Shortest);
        var c = search.Shortest!;
        Assert.NotEqual(c.A + c.B, Addition.Add(broken, ExplainModels.Task, c.A, c.B).Sum);
        Assert.InRange(c.Width, 9, 4096);
    }

    [Fact]
    public void GivenASequence_WhenEncodedAsOperandsAndBack_ThenTheSymbolsRoundTrip()
    {
        byte[] symbols = [3, 1, 2, 0, 1, 1];

        var (a, b) = CounterexampleSearch.Operands(symbols);
        var back = new byte[symbols.Length];
        CounterexampleSearch.Encode(a, b, back);

        Assert.Equal(0b110011, (int)a);
        Assert.Equal(0b000101, (int)b);
        Assert.Equal(symbols, back);
    }

    [Fact]
    public void GivenTheHandBuiltAdder_WhenVerified_ThenItIsProvedWithNoHistory()
    {
        var network = new AdderNetwork<float>(ExplainModels.HandBuilt());

        var result = Verifier.Run(network, new VerifyOptions { Budget = TimeSpan.FromSeconds(20), SearchShare = 0.05 });

        Assert.Equal(Verdict.Proved, result.Verdict);
        Assert.Equal(0, result.Attempts[^1].History);
    }

    [Fact]
    public void GivenTheBrokenAdder_WhenItsInvariantIsAttemptedWithoutTheSearch_ThenNoHistoryLengthProvesIt()
    {
        var network = new AdderNetwork<double>(models.Broken());
        var bounds = IntervalNetwork.Create(network);
        var sample = StateSample.Draw(network, 64, 64, 0);

        for (int k = 0; k <= 5; k++)
        {
            var attempt = Verifier.Attempt(bounds, sample, k, Stopwatch.StartNew(), TimeSpan.FromSeconds(5));
            Assert.False(attempt.Proved);
        }
    }
}

/// <summary>The interval bounds hold the network's real steps.</summary>
public sealed class IntervalSoundnessTests
{
    public static TheoryData<string> Kinds => new() { LayerKinds.Elman, LayerKinds.Jordan, LayerKinds.Lstm, LayerKinds.Gru };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void GivenRandomPointsInABox_WhenStepped_ThenEveryNextStateAndOutputLiesInTheComputedImage(string kind)
    {
        var random = new RandomGenerator(7);
        var spec = new LayerSpec
        {
            Kind = kind, InputSize = 2, Units = 5, OutputSize = kind == LayerKinds.Jordan ? 4 : 0,
            Activation = kind is LayerKinds.Elman or LayerKinds.Jordan ? "tanh" : null, ReturnSequences = true,
        };
        var layer = (RecurrentLayer<float>)spec.Create<float>();
        var model = new Sequential<float>(layer, new Dense<float>(layer.OutputSize, 1, Activation.Sigmoid));
        model.Initialize(Initialization.PyTorch, seed: 3);
        foreach (var p in model.ParameterList) for (int i = 0; i < p.Length; i++) p.Value.Span[i] *= 3; // larger weights: a harder enclosure
        var network = new AdderNetwork<float>(model);
        var bounds = IntervalNetwork.Create(network);
        int s = network.StateSize;
        var box = new Interval[s];
        for (int j = 0; j < s; j++)
        {
            double centre = random.Uniform(-0.6, 0.6), half = random.Uniform(0.0, 0.2);
            box[j] = new Interval((float)(centre - half), (float)(centre + half)); // float ends: the corners are points the network can take
        }
        const int points = 500;
        for (int symbol = 0; symbol < 4; symbol++)
        {
            var image = new Interval[s];
            var output = bounds.Step(box, symbol, image);
            var states = new float[points * s];
            for (int i = 0; i < states.Length; i++)
            {
                var b = box[i % s];
                states[i] = (float)(i / s < 8 ? ((i / s) & 1) == 0 ? b.Lo : b.Hi : random.Uniform(b.Lo, b.Hi)); // corners too
                states[i] = Math.Clamp(states[i], (float)b.Lo, (float)b.Hi);
            }
            var outputs = new float[points];
            network.Step(states, Enumerable.Repeat((byte)symbol, points).ToArray(), states, outputs);
            for (int i = 0; i < points; i++)
            {
                Assert.True(output.Contains(outputs[i]), $"{kind}: output {outputs[i]} outside [{output.Lo}, {output.Hi}]");
                for (int j = 0; j < s; j++) Assert.True(image[j].Contains(states[(i * s) + j]), $"{kind}: state {j} = {states[(i * s) + j]} outside [{image[j].Lo}, {image[j].Hi}]");
            }
            Assert.True(output.Width < 1, $"{kind}: the enclosure is useless ({output.Lo}, {output.Hi})");
        }
    }

    [Fact]
    public void GivenIntervalOperations_WhenAppliedToPoints_ThenTheExactResultIsInsideAndTheBoundsMovedOutward()
    {
        var third = Interval.Point(1.0 / 3);
        var sum = third + third + third;
        var product = new Interval(-2, 3) * new Interval(-5, 4);

        Assert.True(sum.Lo < 1 && sum.Hi > 1 - 1e-15);
        Assert.True(product.Lo <= -15 && product.Hi >= 12 && product.Lo > -15.000001);
        Assert.True(Interval.Apply(Activation.Sigmoid, new Interval(-1, 2)).Contains(Activations.Sigmoid(0.5)));
        Assert.Equal(new Interval(0, 1), Interval.Apply(Activation.Relu, new Interval(-3, 1)));
    }

    [Fact]
    public void GivenTheFloatActivations_WhenSweptAgainstDouble_ThenTheirErrorIsWithinWhatTheBoundsAllow()
    {
        // IntervalNetwork assumes float sigmoid and tanh err by at most 2^-18 relative plus 2^-20
        // absolute (TensorPrimitives.Tanh loses relative accuracy near 0); measure every float path the layers use.
        var xs = new float[40_001];
        for (int i = 0; i < xs.Length; i++) xs[i] = -20 + (i * 0.001f);
        var sig = (float[])xs.Clone();
        var tanh = (float[])xs.Clone();
        System.Numerics.Tensors.TensorPrimitives.Sigmoid(xs, sig);
        System.Numerics.Tensors.TensorPrimitives.Tanh(xs, tanh);
        double worst = 0; // error in units of the allowance: must stay below 1
        double Excess(double got, double want) => Math.Abs(got - want) / ((IntervalNetwork.FloatActivationError * Math.Abs(want)) + IntervalNetwork.FloatActivationAbsolute);
        for (int i = 0; i < xs.Length; i++)
        {
            double s = Activations.Sigmoid((double)xs[i]), t = Math.Tanh(xs[i]);
            worst = Math.Max(worst, Math.Max(Excess(sig[i], s), Excess(Activations.Sigmoid(xs[i]), s)));
            worst = Math.Max(worst, Math.Max(Excess(tanh[i], t), Excess(MathF.Tanh(xs[i]), t)));
        }
        Assert.True(worst < 1, $"worst error is {worst} times the allowance");
    }
}

/// <summary>carry explain and carry verify through the command line.</summary>
[Collection("Console")]
public sealed class ExplainCliTests(ExplainModels models) : IClassFixture<ExplainModels>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-explain-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void GivenTheSeed0Adder_WhenExplained_ThenItPrintsTheFullAdderAndWritesTheMachineFiles()
    {
        string model = ExplainModels.Save(Path.Combine(_dir, "elman.carry"), models.Trained);

        var (code, output, error) = CliRunner.Run("explain", "--model", model, "--budget", "10s", "--depth", "8");

        Assert.True(code == 0, error);
        Assert.Contains("machine: 2 states, the full adder", output);
        Assert.Contains("agreement on every sequence up to 8 steps: 87,380 of 87,380 steps agree with the machine, 0 disagree", output);
        Assert.Contains("no counterexample found", output);
        Assert.DoesNotContain("counterexample:", output);
        foreach (string ext in new[] { ".machine.dot", ".machine.svg", ".machine.mmd", ".explain.svg" }) Assert.True(File.Exists(Path.Combine(_dir, "elman" + ext)), ext);
        XDocument.Load(Path.Combine(_dir, "elman.explain.svg"));
    }

    [Fact]
    public void GivenTheBrokenAdder_WhenExplainedAndVerified_ThenExplainPrintsACounterexampleAndVerifyDoesNotSayProved()
    {
        string model = ExplainModels.Save(Path.Combine(_dir, "broken.carry"), models.Broken());

        var explain = CliRunner.Run("explain", "--model", model, "--budget", "10s", "--depth", "6");
        var verify = CliRunner.Run("verify", "--model", model, "--budget", "15s");

        Assert.Equal(0, explain.ExitCode);
        Assert.Contains("counterexample: ", explain.Out);
        Assert.DoesNotContain("no counterexample", explain.Out);
        Assert.Equal(1, verify.ExitCode);
        Assert.DoesNotContain("proved", verify.Out);
        Assert.Contains("counterexample: ", verify.Out);
    }

    [Fact]
    public void GivenTheThreeKindsOfNetwork_WhenVerified_ThenTheExitCodesAre0_1And4()
    {
        string good = ExplainModels.Save(Path.Combine(_dir, "hand.carry"), ExplainModels.HandBuilt());
        string wrong = ExplainModels.Save(Path.Combine(_dir, "wrong.carry"), ExplainModels.HandBuilt(sumThreshold: 1.5f));
        string trained = ExplainModels.Save(Path.Combine(_dir, "elman.carry"), models.Trained);

        var proved = CliRunner.Run("verify", "--model", good, "--budget", "10s");
        var refuted = CliRunner.Run("verify", "--model", wrong, "--budget", "10s");
        var unknown = CliRunner.Run("verify", "--model", trained, "--budget", "4s", "--history", "3");

        Assert.Equal(0, proved.ExitCode);
        Assert.Contains("proved:", proved.Out);
        Assert.Equal(1, refuted.ExitCode);
        Assert.Contains("counterexample: 0 + 1", refuted.Out);
        Assert.Equal(4, unknown.ExitCode); // boxes cannot hold this network's states (see docs/explain.md)
        Assert.Contains("unknown:", unknown.Out);
    }

    [Theory]
    [InlineData("explain", "--budget", "soon")]
    [InlineData("explain", "--depth", "20")]
    [InlineData("verify", "--history", "11")]
    public void GivenABadFlag_WhenRun_ThenOneLineAndExit2(string verb, string flag, string value)
    {
        string model = ExplainModels.Save(Path.Combine(_dir, "hand.carry"), ExplainModels.HandBuilt());

        var (code, _, error) = CliRunner.Run(verb, "--model", model, flag, value);

        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void GivenAConcatModel_WhenExplained_ThenItSaysWhyNot()
    {
        string path = Path.Combine(_dir, "concat.carry");
        var model = new Sequential<float>(new Lstm<float>(1, 4), new Dense<float>(4, 5, Activation.Sigmoid));
        ModelFile.Save(path, model, new ModelMetadata { Task = new TaskInfo(ConcatEncoding.Name, 4) });

        var (code, _, error) = CliRunner.Run("explain", "--model", path);

        Assert.Equal(2, code);
        Assert.Contains("aligned adder", error);
    }
}
