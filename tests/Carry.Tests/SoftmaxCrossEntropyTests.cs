using System.Numerics;
using System.Text.Json;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Text;

namespace Carry.Tests;

/// <summary>
/// Softmax cross-entropy and stateful truncated BPTT against finite differences and against
/// PyTorch (tests/fixtures/charrnn.json, made by bench/text/charrnn_fixture.py).
/// </summary>
public sealed class SoftmaxCrossEntropyTests
{
    private static JsonElement Fixture(string part)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "charrnn.json")));
        return doc.RootElement.GetProperty(part).Clone();
    }

    private static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    private static double[] ToDoubles<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = double.CreateChecked(values[i]);
        return result;
    }

    [Theory]
    [InlineData("double", 1e-12)]
    [InlineData("float", 1e-5)]
    public void GivenLogitsOfSizeForty_WhenTheLossIsComputed_ThenLossAndGradientMatchPyTorch(string precision, double tolerance)
    {
        if (precision == "double") CheckCrossEntropy<double>(tolerance);
        else CheckCrossEntropy<float>(tolerance);
    }

    private static void CheckCrossEntropy<T>(double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var ce = Fixture("softmax_ce");
        var logits = Fixtures.Tensor<T>(ce.GetProperty("logits"));
        var targets = ce.GetProperty("targets").EnumerateArray().Select(e => T.CreateChecked(e.GetInt32())).ToArray();
        var expected = Fixtures.Tensor<double>(ce.GetProperty("dlogits"));
        var loss = new SoftmaxCrossEntropy<T>(logits.Dim(1));
        var dLogits = new T[logits.Length];
        double value = double.CreateChecked(loss.Compute(logits.Span, targets, dLogits));
        AssertClose([ce.GetProperty("loss").GetDouble()], [value], tolerance, "loss");
        AssertClose(expected.Span, ToDoubles<T>(dLogits), tolerance, "dlogits");
        Assert.Equal(value, double.CreateChecked(loss.Value(logits.Span, targets)));
    }

    [Fact]
    public void GivenRandomLogits_WhenTheGradientIsChecked_ThenItMatchesCentralDifferences()
    {
        var logits = GradientCheck.Random(3, 4.0, 5, 7);
        double[] targets = [0, 6, 3, 3, 1];
        var loss = new SoftmaxCrossEntropy<double>(7);
        var dLogits = new double[logits.Length];
        loss.Compute(logits.Span, targets, dLogits);
        GradientCheck.Verify(logits.Span, dLogits, () => loss.Value(logits.Span, targets), "logits");
    }

    [Fact]
    public void GivenLogitsOfAThousandInFloat_WhenTheLossIsComputed_ThenItIsFiniteAndExact()
    {
        // A naive softmax overflows at e^89 in float; the stable form subtracts the largest logit.
        float[] logits = [1000f, 0f, -1000f, 1000f];
        var loss = new SoftmaxCrossEntropy<float>(4);
        var d = new float[4];
        float value = loss.Compute(logits, [2f], d);
        Assert.Equal(2000 + Math.Log(2), value, 3);
        Assert.Equal([0.5f, 0f, -1f, 0.5f], d);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(7.0)]
    [InlineData(2.5)]
    public void GivenATargetThatIsNoClassIndex_WhenTheLossIsComputed_ThenItSaysWhichTarget(double target)
    {
        var loss = new SoftmaxCrossEntropy<double>(7);
        var e = Assert.Throws<ArgumentException>(() => loss.Value(new double[7], [target]));
        Assert.Contains("not a class index in 0..6", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("double", 1e-9)]
    [InlineData("float", 1e-4)]
    public void GivenTheCharRnnFixture_WhenTwoChunksTrainWithCarriedState_ThenLossesAndWeightsMatchPyTorch(string precision, double tolerance)
    {
        if (precision == "double") CheckCharRnn<double>(tolerance);
        else CheckCharRnn<float>(tolerance);
    }

    private static void CheckCharRnn<T>(double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var f = Fixture("charrnn");
        int v = f.GetProperty("vocab").GetInt32(), h = f.GetProperty("hidden").GetInt32();
        int batch = f.GetProperty("batch").GetInt32(), seq = f.GetProperty("seq").GetInt32();
        var model = new Sequential<T>(
            new Lstm<T>(v, h, returnSequences: true), new Lstm<T>(h, h, returnSequences: true), new Dense<T>(h, v));
        model.Compile(new SoftmaxCrossEntropy<T>(v), new RmsProp<T>(f.GetProperty("lr").GetDouble(), f.GetProperty("alpha").GetDouble(), f.GetProperty("eps").GetDouble()));
        foreach (var (name, p) in model.Parameters) Fixtures.Tensor<T>(f.GetProperty("initial").GetProperty(name)).Span.CopyTo(p.Value.Span);
        int[] text = f.GetProperty("text").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var streams = new TextStreams(text, batch, seq);
        Assert.Equal(batch, streams.Streams);
        var state = new StreamState<T>(model, batch);
        var x = new Tensor<T>(batch, seq, v);
        var y = new Tensor<T>(batch, seq, 1);
        var losses = f.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int chunk = 0; chunk < 2; chunk++)
        {
            streams.Fill(chunk, x, y);
            double loss = double.CreateChecked(model.TrainStep(x, y, clipValue: f.GetProperty("clip").GetDouble(), state: state));
            AssertClose([losses[chunk]], [loss], tolerance, $"loss of chunk {chunk}");
        }
        foreach (var (name, p) in model.Parameters)
        {
            AssertClose(Fixtures.Tensor<double>(f.GetProperty("final").GetProperty(name)).Span, ToDoubles<T>(p.Value.Span), tolerance, name);
        }
    }

    [Fact]
    public void GivenAStreamState_WhenASequenceRunsInTwoChunks_ThenTheOutputsEqualOneRunOverTheWhole()
    {
        var model = new Sequential<double>(new Lstm<double>(3, 4, returnSequences: true), new Gru<double>(4, 5, returnSequences: true), new Dense<double>(5, 2));
        model.Initialize(Initialization.PyTorch, seed: 1);
        var whole = GradientCheck.Random(2, 1.0, 2, 6, 3);
        var expected = model.Forward(whole, training: false).Clone();
        var state = new StreamState<double>(model, 2);
        var chunk = new Tensor<double>(2, 3, 3);
        for (int part = 0; part < 2; part++)
        {
            for (int b = 0; b < 2; b++) whole.Span.Slice(((b * 6) + (part * 3)) * 3, 9).CopyTo(chunk.Span.Slice(b * 9, 9));
            var output = model.Forward(chunk, training: false, state);
            for (int b = 0; b < 2; b++)
            {
                AssertClose(expected.Span.Slice(((b * 6) + (part * 3)) * 2, 6), output.Span.Slice(b * 6, 6), 1e-14, $"stream {b}, chunk {part}");
            }
        }
        state.Reset();
        for (int b = 0; b < 2; b++) whole.Span.Slice(b * 18, 9).CopyTo(chunk.Span.Slice(b * 9, 9));
        var fresh = model.Forward(chunk, training: false, state);
        AssertClose(expected.Span.Slice(0, 6), fresh.Span.Slice(0, 6), 1e-14, "after Reset");
    }

    [Fact]
    public void GivenAStreamStateForThreeStreams_WhenTheBatchHasTwo_ThenForwardRefusesIt()
    {
        var model = new Sequential<double>(new Lstm<double>(3, 4, returnSequences: true));
        var e = Assert.Throws<ArgumentException>(() => model.Forward(new Tensor<double>(2, 1, 3), false, new StreamState<double>(model, 3)));
        Assert.Contains("holds 3 streams", e.Message, StringComparison.Ordinal);
    }
}
