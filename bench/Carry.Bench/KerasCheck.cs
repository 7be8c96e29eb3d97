using System.Globalization;
using System.Text.Json;
using Carry.Interop;
using Carry.Numerics;

namespace Carry.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/Carry.Bench -- keras CASE.json ...</c>: for each case that
/// bench/keras_h5.py wrote (a Keras .h5 file, an input batch, and Keras's outputs from its
/// equations in numpy), imports the file, runs the batch and prints a markdown row with the
/// largest absolute difference. Exit 1 if any exceeds 1e-5.
/// </summary>
internal static class KerasCheck
{
    public const double Tolerance = 1e-5;

    public static int Run(string[] cases)
    {
        Console.WriteLine("| file | Keras | Carry layers | input | outputs | largest \\|Δ\\| | within 1e-5 |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        bool all = true;
        foreach (var path in cases)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            int[] Shape(string key) => root.GetProperty(key).EnumerateArray().Select(e => e.GetInt32()).ToArray();
            string h5 = root.GetProperty("h5").GetString()!;
            var input = new Tensor<float>(root.GetProperty("input").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray(), Shape("input_shape"));
            double[] expected = root.GetProperty("output").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            var imported = KerasImport.Load(h5);
            var output = imported.Model.Predict(input);
            bool sameShape = output.Shape.SequenceEqual(Shape("output_shape"));
            double worst = sameShape ? expected.Select((v, i) => Math.Abs(v - output.Span[i])).Max() : double.NaN;
            bool ok = sameShape && worst <= Tolerance;
            all &= ok;
            string layers = string.Join(" → ", imported.Layers.Select(s => s.Kind + (s.Units > 0 ? $"({s.Units})" : s.Activation is { } a ? $"({a})" : "")));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {Path.GetFileName(h5)} | {imported.KerasVersion} | {layers} | {input.ShapeString} | {output.ShapeString} | {worst:0.00e+00} | {(ok ? "yes" : "NO")} |"));
        }
        return all ? 0 : 1;
    }
}
