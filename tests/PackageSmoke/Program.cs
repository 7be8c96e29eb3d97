// Trains a 4-bit LSTM adder through the Carry package, saves it, loads it back and checks that
// the loaded model adds as well as the trained one. Exit 0 when training lowered the loss and the
// reloaded model gives the same predictions; 1 otherwise.
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Losses;
using Carry.Numerics;
using Carry.Optimizers;
using Carry.Serialization;
using Carry.Training;

const int Bits = 4;
var model = new Sequential<float>(
    new Lstm<float>(inputSize: 1, hiddenSize: 32),
    new Dense<float>(32, Bits + 1, Activation.Sigmoid));
model.Initialize(Initialization.Keras, seed: 0);
model.Compile(new BinaryCrossEntropy<float>(), new Adam<float>(0.01));
var (x, y) = ConcatEncoding.AllPairs<float>(Bits);
var history = model.Fit(x, y, new FitOptions { Epochs = 60, BatchSize = 16, Seed = 0 }).History;
double first = history[0].Loss, last = history[^1].Loss;

var task = new TaskInfo("concat", Bits);
string path = Path.Combine(Path.GetTempPath(), $"carry-package-smoke-{Environment.ProcessId}.carry");
ModelFile.Save(path, model, new ModelMetadata { Task = task });
var loaded = ModelFile.Load<float>(path);
File.Delete(path);
var trained = Addition.Evaluate(model, task, [Bits], samples: 100, seed: 0)[0];
var reloaded = Addition.Evaluate(loaded.Model, task, [Bits], samples: 100, seed: 0)[0];

Console.WriteLine($"Carry {typeof(Sequential<float>).Assembly.GetName().Version} from {typeof(Sequential<float>).Assembly.Location}");
Console.WriteLine($"trained {history.Count} epochs: loss {first:F4} -> {last:F4}; all {trained.Samples} pairs of {Bits}-bit numbers: {trained.Exact:P1} exact; reloaded: {reloaded.Exact:P1} exact");
bool ok = last < first && reloaded.Exact == trained.Exact && reloaded.BitAccuracy == trained.BitAccuracy;
Console.WriteLine(ok ? "package smoke test: ok" : "package smoke test: FAILED");
return ok ? 0 : 1;
