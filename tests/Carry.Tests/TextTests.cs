using System.Text;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;
using Carry.Text;

namespace Carry.Tests;

/// <summary>The char-rnn text pieces: vocabulary, corpus checks, streams, sampling and the poem scorer.</summary>
public sealed class TextTests
{
    [Fact]
    public void GivenChineseText_WhenTheVocabularyIsBuilt_ThenEachCharacterIsOneSymbolInCodePointOrder()
    {
        var vocabulary = Vocabulary.FromText("秦川雄帝宅，秦川。\n");
        Assert.Equal(8, vocabulary.Count);
        Assert.Equal("\n。川宅帝秦雄，".EnumerateRunes().OrderBy(r => r.Value).Select(r => r.ToString()), vocabulary.ToText().EnumerateRunes().Select(r => r.ToString()));
        Assert.Equal(vocabulary.ToText(), Vocabulary.Parse(vocabulary.ToText()).ToText());
        Assert.Equal([5, 3, 5], vocabulary.Encode("秦川秦")); // \n 。 宅 川 帝 秦 雄 ，
        Assert.Throws<FormatException>(() => Vocabulary.Parse("ba"));
        Assert.Throws<ArgumentException>(() => vocabulary.Encode("x"));
    }

    [Fact]
    public void GivenAnAstralCharacter_WhenTheVocabularyIsBuilt_ThenItIsOneSymbolNotTwoSurrogates()
    {
        var vocabulary = Vocabulary.FromText("a𠀀b𠀀");
        Assert.Equal(3, vocabulary.Count);
        Assert.Equal(0x20000, vocabulary[2].Value);
    }

    [Theory]
    [InlineData(new byte[0], "the corpus is empty")]
    [InlineData(new byte[] { 0x61, 0x00, 0x62 }, "binary, not text (a NUL byte at offset 1)")]
    [InlineData(new byte[] { 0x61, 0x62, 0xE7, 0xA7 }, "not valid UTF-8 (first bad byte at offset 2)")]
    [InlineData(new byte[] { 0x61, 0xFF, 0x62 }, "not valid UTF-8 (first bad byte at offset 1)")]
    [InlineData(new byte[] { 0x61, 0x61, 0x61 }, "only 1 distinct character")]
    public void GivenABadCorpus_WhenItIsLoaded_ThenOneLineNamesTheFileAndTheReason(byte[] bytes, string reason)
    {
        var e = Assert.Throws<CorpusException>(() => TextCorpus.FromBytes(bytes, "bad.txt", 2, 3));
        Assert.StartsWith("bad.txt: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void GivenACorpusShorterThanOneBatch_WhenItIsLoaded_ThenItIsRefusedWithTheCounts()
    {
        // 2 streams × (3 + 1) = 8 characters needed in the training part (95% of the text).
        var e = Assert.Throws<CorpusException>(() => TextCorpus.FromBytes(Encoding.UTF8.GetBytes("abcdefg"), "short.txt", 2, 3));
        Assert.Contains("too short: its training part (95%) has 7 characters, and one batch of 2 streams × (3 + 1) needs 8", e.Message, StringComparison.Ordinal);
        Assert.Equal(8, TextCorpus.FromBytes(Encoding.UTF8.GetBytes("abcdefgh"), "ok.txt", 2, 3).ValidationStart);
    }

    [Fact]
    public void GivenATextOf100Symbols_WhenSplit_ThenTheLast5AreForValidation()
    {
        var text = string.Concat(Enumerable.Range(0, 100).Select(i => (char)('a' + (i % 26))));
        var corpus = TextCorpus.FromBytes(Encoding.UTF8.GetBytes(text), "x", 2, 3);
        Assert.Equal(95, corpus.ValidationStart);
        Assert.Equal(5, corpus.Validation.Length);
        Assert.Equal(26, corpus.Vocabulary.Count);
    }

    [Fact]
    public void GivenAText_WhenCutIntoStreams_ThenEachStreamIsContiguousAndTargetsAreTheNextSymbol()
    {
        int[] text = Enumerable.Range(0, 23).ToArray(); // (23 - 1) / (2 × 5) = 2 chunks per stream, L = 10
        var streams = new TextStreams(text, 2, 5);
        Assert.Equal((2, 2, 10), (streams.Streams, streams.ChunkCount, streams.Length));
        var x = new Tensor<double>(2, 5, 1);
        var y = new Tensor<double>(2, 5, 1);
        streams.Fill(1, x, y);
        Assert.Equal([5, 6, 7, 8, 9, 15, 16, 17, 18, 19], x.Span.ToArray());
        Assert.Equal([6, 7, 8, 9, 10, 16, 17, 18, 19, 20], y.Span.ToArray());
        var oneHot = new Tensor<double>(2, 5, 23);
        streams.Fill(0, oneHot, y);
        Assert.Equal(1.0, oneHot[0, 0, 0]);
        Assert.Equal(1.0, oneHot[1, 4, 14]);
        Assert.Equal(10.0, oneHot.Span.ToArray().Sum());
    }

    [Fact]
    public void GivenAValidationTextTooShortForEveryStream_WhenCut_ThenItUsesAsManyStreamsAsItCanFill()
    {
        var streams = new TextStreams(new int[35], 50, 5); // (35 - 1) / 5 = 6 streams of one chunk
        Assert.Equal((6, 1), (streams.Streams, streams.ChunkCount));
        Assert.Equal(0, new TextStreams(new int[5], 50, 5).Streams);
    }

    private static (Sequential<float> Model, Vocabulary Vocabulary) SmallModel(int embedding)
    {
        var vocabulary = Vocabulary.FromText("ab\ncde");
        var model = CharRnn.Create<float>(vocabulary, new CharRnnOptions { HiddenSize = 8, Embedding = embedding }, seed: 3);
        return (model, vocabulary);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void GivenASeed_WhenSampledTwice_ThenTheSameTextComesOutAndAnotherSeedDiffers(int embedding)
    {
        var (model, vocabulary) = SmallModel(embedding);
        var sampler = new TextSampler<float>(model, vocabulary);
        string Draw(ulong seed, double temperature = 1.0) => string.Concat(sampler.Sample(200, temperature, null, seed));
        Assert.Equal(Draw(5), Draw(5));
        Assert.NotEqual(Draw(5), Draw(6));
        Assert.Equal(200, Draw(5).Length);
        Assert.Equal(Draw(5, 0), Draw(6, 0)); // argmax ignores the draws
    }

    [Fact]
    public void GivenTemperatureZero_WhenSampled_ThenEachSymbolIsTheArgmaxOfTheModelsLogits()
    {
        var (model, vocabulary) = SmallModel(0);
        string text = string.Concat(new TextSampler<float>(model, vocabulary).Sample(20, 0, "ab", 1));
        // Replay: feed "ab" then each produced symbol through a fresh stateful pass and take the argmax.
        var state = new StreamState<float>(model, 1);
        var input = new Tensor<float>(1, 1, vocabulary.Count);
        Tensor<float> logits = null!;
        int[] symbols = vocabulary.Encode("ab" + text);
        for (int i = 0; i < symbols.Length; i++)
        {
            int symbol = symbols[i];
            if (i >= 2) Assert.Equal(System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits.Span), symbol);
            input.Fill(0);
            input.Span[symbol] = 1;
            logits = model.Forward(input, false, state);
        }
    }

    [Fact]
    public void GivenAPrimeOutsideTheVocabulary_WhenSampled_ThenItIsRefused()
    {
        var (model, vocabulary) = SmallModel(0);
        Assert.Throws<ArgumentException>(() => new TextSampler<float>(model, vocabulary).Sample(5, 1, "xyz", 0).ToList());
    }

    [Fact]
    public void GivenATextModel_WhenSavedAndLoaded_ThenTheVocabularyComesBack()
    {
        var (model, vocabulary) = SmallModel(4);
        var bytes = ModelFile.ToBytes(model, new ModelMetadata { Vocabulary = vocabulary.ToText() });
        var loaded = ModelFile.FromBytes<float>(bytes);
        Assert.Equal(vocabulary.ToText(), loaded.Metadata.Vocabulary);
        Assert.Equal(1, CharRnn.InputWidth(loaded.Model, Vocabulary.Parse(loaded.Metadata.Vocabulary!)));
    }

    [Theory]
    [InlineData("秦川雄帝宅，函谷壯皇居。綺殿千尋起，離宮百雉餘。", true)]
    [InlineData("秦川雄帝宅，函谷壯皇居？綺殿千尋起，離宮百雉餘！連甍遙接漢，飛觀迥凌虛。雲日隱層闕，風煙出綺疎。", true)]
    [InlineData("秦川雄帝宅，函谷壯皇居。", false)]                                   // one couplet
    [InlineData("秦川雄帝宅，函谷壯皇居。綺殿千尋起，離宮百雉餘。連甍遙接漢，飛觀迥凌虛。", false)] // three
    [InlineData("秦川雄帝，函谷壯皇居。綺殿千尋起，離宮百雉餘。", false)]                 // four characters
    [InlineData("秦川雄帝宅。函谷壯皇居，綺殿千尋起，離宮百雉餘。", false)]               // marks swapped
    [InlineData("秦川雄，帝宅函谷壯皇居綺殿。千尋起，離宮百雉餘。", false)]               // a comma inside
    [InlineData("", false)]
    public void GivenALine_WhenJudged_ThenOnlyTwoOrFourCoupletsOfFivePlusFiveAreWellFormed(string line, bool expected)
    {
        Assert.Equal(expected, PoemForm.IsWellFormed(line));
    }

    [Fact]
    public void GivenASampleInOneStream_WhenScored_ThenTheFirstAndLastLinesAreDropped()
    {
        string good = "秦川雄帝宅，函谷壯皇居。綺殿千尋起，離宮百雉餘。";
        string sample = $"壯皇居。綺殿千尋起，離宮百雉餘。\n{good}\n秦川雄帝宅\n{good}\n{good}\n秦川雄帝宅，函谷";
        var score = PoemForm.Score(sample);
        Assert.Equal(new PoemScore(4, 3), score);
        Assert.Equal(0.75, score.Share);
        Assert.Equal(new PoemScore(0, 0), PoemForm.Score(good));
    }
}

/// <summary>char-rnn training through the fit loop: a run stopped mid-epoch and resumed ends where an unbroken run ends.</summary>
public sealed class TextTrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-text-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly CharRnnOptions Small = new() { HiddenSize = 8, Seq = 5, Batch = 3, Dropout = 0.1, Decay = 0.5, DecayAfter = 1 };

    private static TextCorpus Corpus() => TextCorpus.FromBytes(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the cat sat on the mat.\n", 12))), "cats.txt", Small.Batch, Small.Seq);

    private sealed class StopAfter(int steps, CancellationTokenSource source, Sequential<float> model) : Carry.Training.ITrainingCallback
    {
        public void OnBatchEnd(Carry.Training.BatchProgress progress)
        {
            if (model.Optimizer!.StepCount == steps) source.Cancel();
        }
    }

    private (Sequential<float> Model, Carry.Training.TrainingResult Result) Train(string? checkpoint, int stopAfter, Carry.Serialization.TrainingCheckpoint<float>? resume = null)
    {
        var corpus = Corpus();
        var model = resume?.Model ?? CharRnn.Create<float>(corpus.Vocabulary, Small, seed: 4);
        CharRnn.Compile(model, corpus.Vocabulary, Small);
        var task = new TextTask<float>(corpus, Small, CharRnn.InputWidth(model, corpus.Vocabulary));
        using var source = new CancellationTokenSource();
        var options = new Carry.Training.FitOptions
        {
            Epochs = 3, Shuffle = false, CheckpointPath = checkpoint, CancellationToken = source.Token,
            Schedule = new Carry.Training.StepDecay(Small.Decay, after: Small.DecayAfter),
        };
        var trainer = new Carry.Training.Trainer<float>(model, task, options, stopAfter > 0 ? [new StopAfter(stopAfter, source, model)] : null);
        return (model, trainer.Run(resume));
    }

    [Fact]
    public void GivenARunStoppedMidEpoch_WhenResumedFromItsCheckpoint_ThenWeightsAndHistoryMatchAnUnbrokenRun()
    {
        var (whole, wholeResult) = Train(null, 0);
        Assert.Equal(3, wholeResult.CompletedEpochs);
        Assert.All(wholeResult.History, e => Assert.True(e.Metrics[Carry.Training.MetricNames.ValidationLoss] > 0));
        Assert.Equal([0.002, 0.001, 0.0005], wholeResult.History.Select(e => Math.Round(e.LearningRate, 6)));

        string checkpoint = Path.Combine(_dir, "run.ckpt");
        var corpus = Corpus();
        int stepsPerEpoch = new TextStreams(corpus.Training, Small.Batch, Small.Seq).ChunkCount;
        var (_, stopped) = Train(checkpoint, stepsPerEpoch + 2); // inside the second epoch, state carried from two chunks
        Assert.True(stopped.Cancelled);
        var resumed = Train(checkpoint, 0, Carry.Serialization.Checkpoint.Load<float>(checkpoint));
        Assert.Equal(3, resumed.Result.CompletedEpochs);
        var expected = whole.ParameterList;
        var actual = resumed.Model.ParameterList;
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Value.Span.ToArray(), actual[i].Value.Span.ToArray());
        Assert.Equal(wholeResult.History.Select(e => e.Loss), resumed.Result.History.Select(e => e.Loss));
    }
}

/// <summary>char-rnn's learning-rate decay: constant for the first epochs, then a factor per epoch.</summary>
public sealed class DecayAfterTests
{
    [Fact]
    public void GivenDecayAfterTwoEpochs_WhenEpochsEnd_ThenTheRateFallsOnlyFromTheThirdEpochOn()
    {
        var schedule = new Carry.Training.StepDecay(0.5, after: 2);
        var history = new List<Carry.Training.EpochSummary>();
        double rate = 1.0;
        var rates = new List<double>();
        for (int epoch = 0; epoch < 4; epoch++)
        {
            rates.Add(rate);
            history.Add(new Carry.Training.EpochSummary(epoch, 1.0, TimeSpan.Zero));
            rate = schedule.Next(history, rate);
        }
        Assert.Equal([1.0, 1.0, 0.5, 0.25], rates);
    }
}
