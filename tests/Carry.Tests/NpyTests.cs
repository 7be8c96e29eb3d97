using System.Text.Json;
using Carry.Interop;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;

namespace Carry.Tests;

/// <summary>The .npy reader and writer against files written by real numpy (bench/npy_fixtures.py), and <c>carry predict --input</c>.</summary>
[Collection("Console")]
public sealed class NpyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("carry-npy-").FullName;

    private static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "npy", name);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> NumpyFiles()
    {
        var data = new TheoryData<string>();
        foreach (var p in Expected().EnumerateObject()) data.Add(p.Name);
        return data;
    }

    private static JsonElement Expected() =>
        JsonDocument.Parse(File.ReadAllText(DataFile("expected.json"))).RootElement.GetProperty("files");

    [Theory]
    [MemberData(nameof(NumpyFiles))]
    public void GivenAFileWrittenByNumpy_WhenRead_ThenTypeShapeAndValuesAreNumpys(string name)
    {
        var expected = Expected().GetProperty(name);
        var array = Npy.Read(DataFile(name));
        string descr = expected.GetProperty("dtype").GetString()!;
        Assert.Equal(descr, array.Type switch { NpyType.Float32 => "<f4", NpyType.Float64 => "<f8", NpyType.Int32 => "<i4", _ => "<i8" });
        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()), array.Shape);
        var values = expected.GetProperty("values").EnumerateArray().ToArray();
        Assert.Equal(values.Length, array.Length);
        for (int i = 0; i < values.Length; i++)
        {
            switch (array.Data)
            {
                case float[] f: Assert.Equal((float)values[i].GetDouble(), f[i]); break;
                case double[] d: Assert.Equal(values[i].GetDouble(), d[i]); break;
                case int[] n: Assert.Equal(values[i].GetInt32(), n[i]); break;
                case long[] l: Assert.Equal(values[i].GetInt64(), l[i]); break;
            }
        }
    }

    [Theory]
    [InlineData("float32_2x3x2.npy")]
    [InlineData("float64_3x4.npy")]
    [InlineData("int32_2x5.npy")]
    [InlineData("int64_4.npy")]
    public void GivenANumpyFile_WhenReadAndWrittenBack_ThenTheBytesAreNumpys(string name)
    {
        var stream = new MemoryStream();
        Npy.Write(stream, Npy.Read(DataFile(name)));
        Assert.Equal(File.ReadAllBytes(DataFile(name)), stream.ToArray());
    }

    [Fact]
    public void GivenAHeaderOver64KiB_WhenWritten_ThenVersion2RoundTrips()
    {
        var shape = Enumerable.Repeat(1, 30_000).Append(3).ToArray(); // "1, " × 30,000 > 65,535 header bytes
        var array = NpyArray.Of(new[] { 1.5f, -2f, 3.25f }, shape);
        var stream = new MemoryStream();
        Npy.Write(stream, array);
        Assert.Equal(2, stream.ToArray()[6]);
        Assert.Equal(0, (stream.Length - (3 * sizeof(float))) % 64); // header padded to a multiple of 64
        stream.Position = 0;
        var back = Npy.Read(stream);
        Assert.Equal(shape, back.Shape);
        Assert.Equal([1.5f, -2f, 3.25f], (float[])back.Data);
    }

    [Theory]
    [InlineData("bad_bigendian.npy", "'>f4' is not one Carry reads")]
    [InlineData("bad_uint8.npy", "'|u1' is not one Carry reads")]
    [InlineData("bad_fortran.npy", "Fortran (column-major) order")]
    public void GivenAnArrayCarryDoesNotRead_WhenRead_ThenOneLineSaysWhy(string name, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(DataFile(name)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void GivenTruncatedOrForeignBytes_WhenRead_ThenInvalidData()
    {
        var bytes = File.ReadAllBytes(DataFile("float64_3x4.npy"));
        Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes[..^8])));
        Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream(bytes[..20])));
        Assert.Throws<InvalidDataException>(() => Npy.Read(new MemoryStream("PK\x03\x04 not npy"u8.ToArray())));
    }

    [Fact]
    public void GivenAModelAndANpyBatch_WhenPredictRuns_ThenTheOutputIsTheModelsAsFloat32()
    {
        var model = OnnxExportTests.Build(3,
            new LayerSpec { Kind = LayerKinds.Lstm, InputSize = 2, Units = 4, ReturnSequences = true },
            new LayerSpec { Kind = LayerKinds.Dense, InputSize = 4, Units = 1, Activation = "sigmoid" });
        string modelPath = Path.Combine(_dir, "m.carry"), input = Path.Combine(_dir, "x.npy"), output = Path.Combine(_dir, "y.npy");
        ModelFile.Save(modelPath, model, new ModelMetadata());
        var x = Npy.Read(DataFile("float32_2x3x2.npy"));
        Npy.Write(input, x);
        var (code, stdout, stderr) = CliRunner.Run("predict", "--model", modelPath, "--input", input, "--output", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("float32 (2, 3, 1)", stdout, StringComparison.Ordinal);
        var y = Npy.Read(output);
        Assert.Equal(NpyType.Float32, y.Type);
        var expected = model.Predict(new Tensor<float>((float[])x.Data, 2, 3, 2));
        Assert.Equal(expected.Data, (float[])y.Data);
    }

    [Fact]
    public void GivenIntegerIndices_WhenConverted_ThenTheyBecomeOneFeaturePerStep()
    {
        var t = NpyInference.ToTensor<float>(NpyArray.Of(new[] { 0, 1, 2, 3, 4, 5 }, 2, 3));
        Assert.Equal([2, 3, 1], t.Shape.ToArray());
        Assert.Equal([0f, 1, 2, 3, 4, 5], t.Data);
        var tooBig = NpyArray.Of(new[] { 1L << 30 }, 1, 1);
        Assert.Throws<ArgumentException>(() => NpyInference.ToTensor<float>(tooBig));
    }

    [Theory]
    [InlineData("float64_3x4.npy", "shape (3, 4) of Float64")]
    [InlineData("int64_4.npy", "shape (4) of Int64")]
    public void GivenAnArrayOfTheWrongRank_WhenPredictRuns_ThenExit2WithOneLine(string name, string expected)
    {
        string modelPath = Path.Combine(_dir, "m.carry");
        var model = OnnxExportTests.Build(3, new LayerSpec { Kind = LayerKinds.Gru, InputSize = 4, Units = 2 });
        ModelFile.Save(modelPath, model, new ModelMetadata());
        var (code, _, stderr) = CliRunner.Run("predict", "--model", modelPath, "--input", DataFile(name), "--output", Path.Combine(_dir, "y.npy"));
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_dir, "y.npy")));
    }

    [Fact]
    public void GivenInputWithoutOutput_WhenPredictRuns_ThenExit2()
    {
        var (code, _, stderr) = CliRunner.Run("predict", "--model", "m.carry", "--input", DataFile("float32_2x3x2.npy"));
        Assert.Equal(2, code);
        Assert.Contains("--input and --output go together", stderr, StringComparison.Ordinal);
    }
}
