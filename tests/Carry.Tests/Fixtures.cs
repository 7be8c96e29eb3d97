using System.Text.Json;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>
/// The reference files (<c>pytorch/*.json</c>, <c>iamtrask-seed0.txt</c>): tests/fixtures, copied
/// beside the test assembly, or the folder that the environment variable <c>CARRY_FIXTURES</c>
/// names (a set made by bench/make_fixtures.py, or ../shared/fixtures). Tests read every shape and
/// hyperparameter from the files, so any set of the same layout applies.
/// </summary>
public static class Fixtures
{
    /// <summary>The environment variable that names another fixture folder.</summary>
    public const string Variable = "CARRY_FIXTURES";

    /// <summary>The fixtures folder: <c>$CARRY_FIXTURES</c> when set, otherwise the repository's tests/fixtures.</summary>
    public static string Directory
    {
        get
        {
            string? chosen = Environment.GetEnvironmentVariable(Variable);
            if (string.IsNullOrEmpty(chosen)) return Path.Combine(AppContext.BaseDirectory, "fixtures");
            if (!Path.IsPathFullyQualified(chosen)) throw new DirectoryNotFoundException($"{Variable}={chosen}: give an absolute path (the tests run in another folder).");
            if (!System.IO.Directory.Exists(chosen)) throw new DirectoryNotFoundException($"{Variable}={chosen}: no such folder.");
            return chosen;
        }
    }

    public static string PathOf(string relative) => Path.Combine(Directory, relative);

    public static JsonElement Load(string relative)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(PathOf(relative)));
        return doc.RootElement.Clone();
    }

    /// <summary>A nested JSON list as a tensor (shape from the nesting).</summary>
    public static Tensor<T> Tensor<T>(JsonElement e) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var shape = new List<int>();
        var probe = e;
        while (probe.ValueKind == JsonValueKind.Array)
        {
            shape.Add(probe.GetArrayLength());
            if (probe.GetArrayLength() == 0) break;
            probe = probe[0];
        }
        var values = new List<T>();
        Flatten(e, values);
        return new Tensor<T>(values.ToArray(), shape.ToArray());
    }

    private static void Flatten<T>(JsonElement e, List<T> values) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in e.EnumerateArray()) Flatten(item, values);
        }
        else
        {
            values.Add(T.CreateChecked(e.GetDouble()));
        }
    }
}

/// <summary>Comparisons with relative tolerance and a helpful message.</summary>
public static class Close
{
    /// <summary>|a - e| ≤ tol · max(1, |e|) elementwise (relative for large values, absolute near zero).</summary>
    public static void All<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, double tolerance, string what) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = double.CreateChecked(expected[i]), a = double.CreateChecked(actual[i]);
            double err = Math.Abs(a - e) / Math.Max(1.0, Math.Abs(e));
            if (!(err <= tolerance)) Assert.Fail($"{what}[{i}]: expected {e:R}, got {a:R} (relative error {err:E2} > {tolerance:E0})");
        }
    }

    /// <summary>Same shape, then <see cref="All{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, double, string)"/> elementwise.</summary>
    public static void All<T>(Tensor<T> expected, Tensor<T> actual, double tolerance, string what) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.True(actual.HasShape(expected.Shape), $"{what}: shape {actual.ShapeString}, expected {expected.ShapeString}");
        All<T>(expected.Span, actual.Span, tolerance, what);
    }
}
