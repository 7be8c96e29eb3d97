using System.Text.Json;
using Carry.Numerics;

namespace Carry.Tests;

/// <summary>Reads the reference files in ../shared/fixtures at run time (never copied into the repo).</summary>
public static class Fixtures
{
    /// <summary>The fixtures folder: ../shared/fixtures beside the repository root.</summary>
    public static string Directory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "fixtures");
                if (System.IO.Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "shared", "SEEDS.md"))) return candidate;
                dir = dir.Parent;
            }
            throw new DirectoryNotFoundException($"../shared/fixtures not found above {AppContext.BaseDirectory}.");
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

    public static void All<T>(Tensor<T> expected, Tensor<T> actual, double tolerance, string what) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.True(expected.Length == actual.Length, $"{what}: shape {actual.ShapeString}, expected {expected.ShapeString}");
        All<T>(expected.Span, actual.Span, tolerance, what);
    }
}
