using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Training;

namespace Carry.Tests;

/// <summary>
/// Bad input at the public API throws an <see cref="ArgumentException"/> (or a subclass) whose
/// <see cref="ArgumentException.ParamName"/> names the parameter and whose message shows the
/// shapes involved; never an <see cref="IndexOutOfRangeException"/> from deep inside a kernel.
/// </summary>
public sealed class BadInputTests
{
    // ---- mismatched input features ----

    [Fact]
    public void GivenARecurrentLayer_WhenTheInputHasTheWrongFeatureCount_ThenItNamesInputAndShowsTheShapes()
    {
        var e = Throws(() => new Lstm<double>(2, 3).Forward(new Tensor<double>(4, 5, 3), training: false), "input");
        Assert.Contains("[4, 5, 3]", e.Message);
        Assert.Contains("[batch, time, 2]", e.Message);
    }

    [Fact]
    public void GivenARecurrentLayer_WhenTheInputHasTheWrongRank_ThenItNamesInputAndShowsTheShape()
    {
        var e = Throws(() => new Gru<double>(2, 3).Forward(new Tensor<double>(4, 2), training: false), "input");
        Assert.Contains("[4, 2]", e.Message);
        Assert.Contains("rank 3", e.Message);
    }

    [Fact]
    public void GivenADenseLayer_WhenTheInputHasTheWrongFeatureCount_ThenItNamesInputAndShowsTheShapes()
    {
        var e = Throws(() => new Dense<float>(4, 3).Forward(new Tensor<float>(5, 6), training: false), "input");
        Assert.Contains("[5, 6]", e.Message);
        Assert.Contains("4]", e.Message);
    }

    [Fact]
    public void GivenAModel_WhenForwardGetsTheWrongFeatureCount_ThenItNamesInputAndShowsTheShape()
    {
        var e = Throws(() => Model().Forward(new Tensor<double>(3, 8, 5), training: false), "input");
        Assert.Contains("[3, 8, 5]", e.Message);
    }

    [Fact]
    public void GivenAModel_WhenPredictGetsTheWrongFeatureCount_ThenItNamesInputsAndShowsTheShapes()
    {
        var e = Throws(() => Model().Predict(new Tensor<double>(3, 8, 5)), "inputs");
        Assert.Contains("[3, 8, 5]", e.Message);
        Assert.Contains("[time, 2]", e.Message);
    }

    [Fact]
    public void GivenAModel_WhenFitGetsTheWrongFeatureCount_ThenItNamesInputsAndShowsTheShapes()
    {
        var model = Compiled();
        var e = Throws(() => model.Fit(new Tensor<double>(6, 8, 3), new Tensor<double>(6, 8, 1), new FitOptions()), "inputs");
        Assert.Contains("[6, 8, 3]", e.Message);
        Assert.Contains("[time, 2]", e.Message);
    }

    [Fact]
    public void GivenAModel_WhenTrainStepGetsTheWrongFeatureCount_ThenItNamesInputsAndShowsTheShapes()
    {
        var model = Compiled();
        var e = Throws(() => model.TrainStep(new Tensor<double>(6, 8, 3), new Tensor<double>(6, 8, 1)), "inputs");
        Assert.Contains("[6, 8, 3]", e.Message);
    }

    // ---- empty batches and sequences ----

    [Fact]
    public void GivenAnEmptyBatch_WhenAnyLayerRunsForward_ThenItNamesInputAndShowsTheShape()
    {
        Assert.Contains("[0, 5, 2]", Throws(() => new SimpleRnn<double>(2, 3).Forward(new Tensor<double>(0, 5, 2), training: false), "input").Message);
        Assert.Contains("[0, 4]", Throws(() => new Dense<double>(4, 1).Forward(new Tensor<double>(0, 4), training: false), "input").Message);
        Assert.Contains("[0, 5, 2]", Throws(() => new Bidirectional<double>(new Lstm<double>(2, 3)).Forward(new Tensor<double>(0, 5, 2), training: false), "input").Message);
    }

    [Fact]
    public void GivenASequenceWithoutSteps_WhenARecurrentLayerRunsForward_ThenItNamesInputAndShowsTheShape()
    {
        Assert.Contains("[2, 0, 2]", Throws(() => new Jordan<double>(2, 3, 1).Forward(new Tensor<double>(2, 0, 2), training: false), "input").Message);
    }

    [Fact]
    public void GivenAnEmptyBatch_WhenFitPredictOrTrainStepRun_ThenTheyNameInputsAndShowTheShape()
    {
        var model = Compiled();
        Assert.Contains("[0, 8, 2]", Throws(() => model.Fit(new Tensor<double>(0, 8, 2), new Tensor<double>(0, 8, 1), new FitOptions()), "inputs").Message);
        Assert.Contains("[0, 8, 2]", Throws(() => model.Predict(new Tensor<double>(0, 8, 2)), "inputs").Message);
        Assert.Contains("[0, 8, 2]", Throws(() => model.TrainStep(new Tensor<double>(0, 8, 2), new Tensor<double>(0, 8, 1)), "inputs").Message);
    }

    // ---- targets ----

    [Fact]
    public void GivenTargetsOfTheWrongSize_WhenFitting_ThenItNamesTargetsAndShowsBothShapes()
    {
        var model = Compiled();
        var e = Throws(() => model.Fit(new Tensor<double>(6, 8, 2), new Tensor<double>(6, 8, 2), new FitOptions()), "targets");
        Assert.Contains("[6, 8, 2]", e.Message);
        Assert.Contains("[6, 8, 1]", e.Message);
    }

    [Fact]
    public void GivenTargetsForAnotherSampleCount_WhenFitting_ThenItNamesTargetsAndShowsBothShapes()
    {
        var model = Compiled();
        var e = Throws(() => model.Fit(new Tensor<double>(6, 8, 2), new Tensor<double>(5, 8, 1), new FitOptions()), "targets");
        Assert.Contains("[5, 8, 1]", e.Message);
        Assert.Contains("[6, 8, 2]", e.Message);
    }

    [Fact]
    public void GivenTargetsOfTheWrongSize_WhenTakingATrainStep_ThenItNamesTargetsAndShowsBothShapes()
    {
        var model = Compiled();
        var e = Throws(() => model.TrainStep(new Tensor<double>(6, 8, 2), new Tensor<double>(6, 8)), "targets");
        Assert.Contains("[6, 8]", e.Message);
        Assert.Contains("[6, 8, 1]", e.Message);
    }

    [Fact]
    public void GivenTargetsOfTheWrongSize_WhenEvaluating_ThenItNamesTargetsAndShowsBothShapes()
    {
        var model = Compiled();
        var e = Throws(() => model.Evaluate(new Tensor<double>(6, 8, 2), new Tensor<double>(6, 9, 1)), "targets");
        Assert.Contains("[6, 9, 1]", e.Message);
        Assert.Contains("[6, 8, 1]", e.Message);
    }

    [Fact]
    public void GivenPredictionsAndTargetsOfDifferentLengths_WhenComputingALoss_ThenItNamesTarget()
    {
        var e = Throws(() => new MeanSquaredError<double>().Compute(new double[4], new double[3], new double[4]), "target");
        Assert.Contains("4", e.Message);
        Assert.Contains("3", e.Message);
    }

    // ---- states and gradients ----

    [Fact]
    public void GivenAnInitialStateOfTheWrongShape_WhenRunningForward_ThenItNamesTheStateAndShowsBothShapes()
    {
        var x = new Tensor<double>(2, 5, 2);
        var e = Throws(() => new Lstm<double>(2, 3).Forward(x, new RecurrentState<double>(new Tensor<double>(2, 4)), training: false), "initialState.Hidden");
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[2, 4]", e.Message);
        e = Throws(() => new Lstm<double>(2, 3).Forward(x, new RecurrentState<double>(new Tensor<double>(2, 3), new Tensor<double>(3, 3)), training: false), "initialState.Cell");
        Assert.Contains("[3, 3]", e.Message);
        e = Throws(() => new Bidirectional<double>(new Gru<double>(2, 3)).Forward(x, new RecurrentState<double>(new Tensor<double>(2, 3)), training: false), "initialState.Hidden");
        Assert.Contains("[2, 6]", e.Message);
        e = Throws(() => new Jordan<double>(2, 3, 1).Forward(x, new RecurrentState<double>(new Tensor<double>(2, 3)), training: false), "initialState.Hidden");
        Assert.Contains("[2, 1]", e.Message);
    }

    [Fact]
    public void GivenAGradientOfTheWrongShape_WhenRunningBackward_ThenItNamesTheGradientAndShowsBothShapes()
    {
        var layer = new SimpleRnn<double>(2, 3, returnSequences: true);
        layer.Forward(new Tensor<double>(2, 5, 2), training: true);
        var e = Throws(() => layer.Backward(new Tensor<double>(2, 5, 4)), "dOutput");
        Assert.Contains("[2, 5, 3]", e.Message);
        Assert.Contains("[2, 5, 4]", e.Message);
        e = Throws(() => layer.Backward(new Tensor<double>(2, 5, 3), new RecurrentState<double>(new Tensor<double>(1, 3))), "dFinalState.Hidden");
        Assert.Contains("[1, 3]", e.Message);
        var dense = new Dense<double>(3, 2);
        dense.Forward(new Tensor<double>(4, 3), training: true);
        Assert.Contains("[4, 3]", Throws(() => dense.Backward(new Tensor<double>(4, 3)), "dOutput").Message);
    }

    // ---- constructors ----

    [Fact]
    public void GivenNegativeOrZeroSizes_WhenConstructingLayers_ThenTheConstructorNamesTheSize()
    {
        Throws(() => new Dense<double>(-1, 3), "inputSize");
        Throws(() => new Dense<double>(3, 0), "outputSize");
        Throws(() => new SimpleRnn<double>(2, -1), "hiddenSize");
        Throws(() => new SimpleRnn<double>(-2, 1), "inputSize");
        Throws(() => new Lstm<double>(0, 3), "inputSize");
        Throws(() => new Lstm<double>(2, -3), "hiddenSize");
        Throws(() => new Gru<double>(2, -5), "hiddenSize");
        Throws(() => new Jordan<double>(2, 3, -1), "outputSize");
        Throws(() => new Jordan<double>(2, -3, 1), "hiddenSize");
        Throws(() => new Dropout<double>(-0.1), "rate");
        Throws(() => new Dropout<double>(1.0), "rate");
        Assert.Contains("[2, -1]", Throws(() => new Tensor<double>(2, -1), "shape").Message);
    }

    [Fact]
    public void GivenBadHyperparameters_WhenConstructingOptimizersOrFitting_ThenTheParameterIsNamed()
    {
        Throws(() => new Adam<double>(-0.1), "learningRate");
        Throws(() => new Sgd<double>(0.1, momentum: 1.5), "momentum");
        Throws(() => new Adam<double>(0.1, beta1: 1.0), "beta1");
        Throws(() => Optimizer<double>.Create("adamw", 0.1), "name");
        Throws(() => Loss<double>.Create("hinge"), "name");
        var model = Compiled();
        Throws(() => model.Fit(new Tensor<double>(6, 8, 2), new Tensor<double>(6, 8, 1), new FitOptions { BatchSize = 0 }), "BatchSize");
        Throws(() => model.Fit(new Tensor<double>(6, 8, 2), new Tensor<double>(6, 8, 1), new FitOptions { Epochs = -1 }), "Epochs");
        Throws(() => model.Predict(new Tensor<double>(6, 8, 2), batchSize: 0), "batchSize");
    }

    [Fact]
    public void GivenAnOptimizer_WhenTheParameterListChangesShape_ThenItStillUpdatesWithoutIndexingOutOfRange()
    {
        var optimizer = new Adam<double>(0.1);
        var small = new Parameter<double>("w", 3);
        var large = new Parameter<double>("w", 5);
        small.Gradient.Fill(1);
        large.Gradient.Fill(1);
        optimizer.Step([small]);
        optimizer.Step([large]);
        Assert.All(large.Value.Data, v => Assert.True(v < 0, "the larger parameter was not updated"));
    }

    // ---- Gemm ----

    [Theory]
    [InlineData("a", 11, 12, 12)] // A [3, 4] needs 12
    [InlineData("b", 12, 19, 12)] // B [4, 5] needs 20
    [InlineData("c", 12, 20, 14)] // C [3, 5] needs 15
    public void GivenSpansTooShortForTheirMatrices_WhenMultiplying_ThenGemmNamesTheSpanAndShowsTheSizes(string name, int aLength, int bLength, int cLength)
    {
        var e = Throws(() => Gemm.Multiply<float>(false, false, 3, 5, 4, new float[aLength], 4, new float[bLength], 5, new float[cLength], 5, accumulate: false), name);
        int needed = name switch { "a" => 12, "b" => 20, _ => 15 };
        int actual = name switch { "a" => aLength, "b" => bLength, _ => cLength };
        Assert.Contains($"needs {needed}", e.Message);
        Assert.Contains($"has {actual}", e.Message);
        Throws(() => Gemm.Reference<float>(false, false, 3, 5, 4, new float[aLength], 4, new float[bLength], 5, new float[cLength], 5, accumulate: false), name);
    }

    [Fact]
    public void GivenATransposedOperandTooShort_WhenMultiplying_ThenGemmNamesItWithItsStoredShape()
    {
        // Aᵀ: A is stored [k=4, m=3] with lda 3, so it needs 12.
        var e = Throws(() => Gemm.Multiply<double>(true, true, 3, 5, 4, new double[11], 3, new double[20], 4, new double[15], 5, accumulate: false), "a");
        Assert.Contains("[4, 3]", e.Message);
    }

    [Fact]
    public void GivenALeadingDimensionNarrowerThanTheMatrix_WhenMultiplying_ThenGemmNamesTheOperand()
    {
        Assert.Contains("less than its 4 columns", Throws(() => Gemm.Multiply<double>(false, false, 3, 5, 4, new double[100], 3, new double[100], 5, new double[100], 5, false), "a").Message);
        Assert.Contains("less than its 5 columns", Throws(() => Gemm.Multiply<double>(false, false, 3, 5, 4, new double[100], 4, new double[100], 5, new double[100], 4, false), "c").Message);
    }

    [Fact]
    public void GivenNegativeSizes_WhenMultiplying_ThenGemmNamesTheSize()
    {
        Throws(() => Gemm.Multiply<double>(false, false, -1, 5, 4, new double[100], 4, new double[100], 5, new double[100], 5, false), "m");
        Throws(() => Gemm.Multiply<double>(false, false, 1, -5, 4, new double[100], 4, new double[100], 5, new double[100], 5, false), "n");
        Throws(() => Gemm.Multiply<double>(false, false, 1, 5, -4, new double[100], 4, new double[100], 5, new double[100], 5, false), "k");
    }

    private static Sequential<double> Model()
    {
        var model = new Sequential<double>(new SimpleRnn<double>(2, 4, Activation.Sigmoid, returnSequences: true), new Dense<double>(4, 1, Activation.Sigmoid));
        model.Initialize(Initialization.PyTorch, 1);
        return model;
    }

    private static Sequential<double> Compiled()
    {
        var model = Model();
        model.Compile(new MeanSquaredError<double>(), new Sgd<double>(0.1));
        return model;
    }

    /// <summary>Asserts an <see cref="ArgumentException"/> (or subclass) naming <paramref name="paramName"/>.</summary>
    private static ArgumentException Throws(Action action, string paramName)
    {
        var e = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(paramName, e.ParamName);
        return e;
    }

    private static ArgumentException Throws(Func<object?> action, string paramName) => Throws(() => { action(); }, paramName);
}
