using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Carry.Layers;
using Carry.Numerics;
using Carry.Serialization;
using Xunit.Abstractions;

namespace Carry.Tests;

/// <summary>
/// Loading never trusts the file: every truncation and 1,000 seeded corruptions of a real model
/// file are rejected with <see cref="ModelFormatException"/> (or, for flips in the header's free
/// text that leave the tensor table and the weights intact, load to the same model), without
/// hanging or allocating more than twice the file's size. A changed weight is caught by the
/// file's <c>sha256</c>.
/// </summary>
public sealed class ReliabilityFormatTests(ITestOutputHelper output)
{
    /// <summary>Headers, JSON documents and small dictionaries: the part of a load that does not scale with the weights.</summary>
    private const long AllocationSlack = 64 * 1024;

    internal static Sequential<float> SmallModel(ulong seed = 5)
    {
        var model = new Sequential<float>(new Lstm<float>(1, 4, returnSequences: true), new Dense<float>(4, 3, Activation.Sigmoid));
        model.Initialize(Initialization.PyTorch, seed);
        return model;
    }

    internal static byte[] SmallModelBytes() => ModelFile.ToBytes(SmallModel(), new ModelMetadata
    {
        Task = new TaskInfo("aligned", 8),
        Training = new Dictionary<string, string> { ["epochs"] = "10", ["seed"] = "5" },
    });

    private static long DataOffset(byte[] file) => 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(file);

    [Fact]
    public void GivenARealModelFile_WhenLoaded_ThenItRoundTripsByteForByte()
    {
        byte[] bytes = SmallModelBytes();
        var loaded = ModelFile.FromBytes<float>(bytes);
        Assert.Equal(bytes, ModelFile.ToBytes(loaded.Model, loaded.Metadata));
        Assert.Equal(new TaskInfo("aligned", 8), loaded.Metadata.Task);
    }

    [Fact]
    public void GivenARealModelFile_WhenTruncatedAtEveryByteOffset_ThenEveryLoadThrowsModelFormatException()
    {
        byte[] bytes = SmallModelBytes();
        for (int length = 0; length < bytes.Length; length++)
        {
            var e = Record.Exception(() => ModelFile.FromBytes<float>(bytes.AsMemory(0, length), "cut.carry"));
            Assert.True(e is ModelFormatException, $"truncated at {length} of {bytes.Length}: {e?.GetType().Name ?? "loaded"} {e?.Message}");
            Assert.StartsWith("cut.carry: ", e!.Message, StringComparison.Ordinal);
        }
        output.WriteLine($"{bytes.Length} truncations of a {bytes.Length}-byte file, all rejected");
    }

    [Fact]
    public void GivenATruncatedFileOnDisk_WhenLoaded_ThenModelFormatExceptionNamesTheFile()
    {
        byte[] bytes = SmallModelBytes();
        string dir = Directory.CreateTempSubdirectory("carry-rel-").FullName;
        try
        {
            string path = Path.Combine(dir, "model.carry");
            File.WriteAllBytes(path, bytes[..(bytes.Length - 3)]);
            var e = Assert.Throws<ModelFormatException>(() => ModelFile.Load<float>(path));
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            File.WriteAllBytes(path, bytes);
            Assert.Equal(bytes, ModelFile.ToBytes(ModelFile.Load<float>(path).Model, ModelFile.Load<float>(path).Metadata));
            Assert.Throws<FileNotFoundException>(() => ModelFile.Load<float>(Path.Combine(dir, "missing.carry")));
            Assert.Throws<ModelFormatException>(() => ModelFile.Load<float>(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The shapes computed from a spec (used to check a file before allocating) are the shapes the layer really has.</summary>
    [Fact]
    public void GivenEveryLayerKind_WhenShapesAreComputedFromTheSpec_ThenTheyMatchTheBuiltLayer()
    {
        LayerSpec[] specs =
        [
            new() { Kind = LayerKinds.Dense, InputSize = 3, Units = 5 },
            new() { Kind = LayerKinds.Dense, InputSize = 3, Units = 5, Bias = false },
            new() { Kind = LayerKinds.Dropout, Rate = 0.2, Seed = 3 },
            new() { Kind = LayerKinds.Elman, InputSize = 2, Units = 7, Activation = "relu" },
            new() { Kind = LayerKinds.Elman, InputSize = 2, Units = 7, Bias = false },
            new() { Kind = LayerKinds.Jordan, InputSize = 2, Units = 6, OutputSize = 3 },
            new() { Kind = LayerKinds.Jordan, InputSize = 2, Units = 6, OutputSize = 3, Bias = false },
            new() { Kind = LayerKinds.Lstm, InputSize = 2, Units = 4 },
            new() { Kind = LayerKinds.Gru, InputSize = 2, Units = 4, Bias = false },
            new() { Kind = LayerKinds.Bidirectional, Inner = new() { Kind = LayerKinds.Lstm, InputSize = 2, Units = 4 } },
            new() { Kind = LayerKinds.Bidirectional, Inner = new() { Kind = LayerKinds.Jordan, InputSize = 2, Units = 4, OutputSize = 2 } },
        ];
        foreach (var spec in specs)
        {
            var layer = spec.Create<float>();
            var built = layer.Parameters.Select(p => (p.Name, string.Join(",", p.Shape.ToArray()))).OrderBy(x => x.Name).ToArray();
            Assert.Equal(built, ShapesOf(spec));
            Assert.Equal(built, ShapesOf(layer.Spec));
        }
    }

    private static (string Name, string Shape)[] ShapesOf(LayerSpec spec)
    {
        var list = new List<(string, string)>();
        foreach (var shape in ParameterShapes.Of(spec)) list.Add((shape.Name, string.Join(",", shape.ToArray())));
        return [.. list.OrderBy(x => x.Item1)];
    }

    /// <summary>Computing a layer's shapes from its spec allocates nothing, however large the layer it describes.</summary>
    [Fact]
    public void GivenAHugeSpec_WhenItsShapesAreComputed_ThenNothingIsAllocated()
    {
        var spec = new LayerSpec { Kind = LayerKinds.Bidirectional, Inner = new() { Kind = LayerKinds.Lstm, InputSize = 262144, Units = 65536 } };
        ParameterShapes.Of(spec); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        var shapes = ParameterShapes.Of(spec);
        int rows = 0;
        foreach (var shape in shapes) rows += shape.Rank == 2 ? 1 : 0;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(8, shapes.Count);
        Assert.Equal(4, rows);
        Assert.Equal("[262144, 262144]", shapes[0].ShapeText);
        Assert.Equal("weight_hh_l0_reverse", shapes[5].Name);
    }

    /// <summary>A spec whose gate rows overflow a 32-bit size is refused with a line, not wrapped round.</summary>
    [Fact]
    public void GivenASpecWhoseGateRowsOverflow_WhenItsShapesAreComputed_ThenItIsRefused()
    {
        var spec = new LayerSpec { Kind = LayerKinds.Lstm, InputSize = 1, Units = 1 << 30 };
        var e = Assert.Throws<ArgumentException>(() => ParameterShapes.Of(spec));
        Assert.Contains("too many", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A saved model carries the SHA-256 of its data section (every weight byte) as lower-case hex.</summary>
    [Fact]
    public void GivenASavedModel_WhenItsHeaderIsRead_ThenSha256IsTheDigestOfItsDataSection()
    {
        byte[] bytes = SmallModelBytes();
        var file = SafeTensors.Read(bytes, "small.carry");
        string expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes.AsSpan((int)DataOffset(bytes))));
        Assert.Equal(expected, file.Metadata[SafeTensors.ChecksumKey]);
        Assert.Matches("^[0-9a-f]{64}$", expected);
    }

    /// <summary>One flipped bit in a weight: the load names the checksum and refuses the file.</summary>
    [Theory]
    [InlineData(0, 0)]    // the first weight's lowest mantissa bit: a tiny change of value
    [InlineData(-1, 6)]   // the last byte (the last bias's sign and exponent)
    [InlineData(37, 3)]
    public void GivenAFlippedWeightBit_WhenLoaded_ThenTheChecksumRefusesIt(int offset, int bit)
    {
        byte[] bytes = SmallModelBytes();
        int at = offset >= 0 ? (int)DataOffset(bytes) + offset : bytes.Length + offset;
        bytes[at] ^= (byte)(1 << bit);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.FromBytes<float>(bytes, "flipped.carry"));
        Assert.StartsWith("flipped.carry: the tensor data's SHA-256 is ", e.Message, StringComparison.Ordinal);
        Assert.Contains("sha256 metadata", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>A file without the key (written by Python's safetensors) loads unchecked; a malformed key is refused.</summary>
    [Fact]
    public void GivenAFileWithoutOrWithABadChecksumKey_WhenLoaded_ThenTheFirstLoadsAndTheSecondIsRefused()
    {
        byte[] bytes = SmallModelBytes();
        var withoutKey = EditHeader(bytes, header => header["__metadata__"]!.AsObject().Remove(SafeTensors.ChecksumKey));
        var loaded = ModelFile.FromBytes<float>(withoutKey, "python.carry");
        Assert.Equal(ModelFile.FromBytes<float>(bytes).Model.ParameterList.SelectMany(p => p.Value.Data), loaded.Model.ParameterList.SelectMany(p => p.Value.Data));
        withoutKey[^1] ^= 1; // unchecked: another finite model, as with any safetensors file
        ModelFile.FromBytes<float>(withoutKey, "python.carry");

        foreach (var bad in new[] { "", "ABCDEF", new string('A', 64), new string('0', 63), new string('g', 64) })
        {
            var edited = EditHeader(bytes, header => header["__metadata__"]!.AsObject()[SafeTensors.ChecksumKey] = bad);
            var e = Assert.Throws<ModelFormatException>(() => ModelFile.FromBytes<float>(edited, "bad.carry"));
            Assert.Contains("is not a SHA-256 (64 lower-case hex digits)", e.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>An architecture that claims a 65536×262144 LSTM over the small model's tensors is rejected before any layer is built.</summary>
    [Fact]
    public void GivenAHeaderThatClaimsAHugeLayer_WhenLoaded_ThenItIsRejectedWithoutAllocatingTheLayer()
    {
        byte[] bytes = SmallModelBytes();
        var edited = EditHeader(bytes, header =>
        {
            var meta = header["__metadata__"]!.AsObject();
            var config = JsonNode.Parse(meta["config"]!.GetValue<string>())!;
            config["layers"]![0]!["units"] = 65536;
            config["layers"]![0]!["inputSize"] = 262144;
            meta["config"] = config.ToJsonString();
        });
        ModelFile.FromBytes<float>(bytes); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.FromBytes<float>(edited, "huge.carry"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("the architecture needs [262144, 262144]", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < (2 * edited.Length) + AllocationSlack, $"allocated {allocated} bytes for a {edited.Length}-byte file");
    }

    [Fact]
    public void GivenALargerModel_WhenLoaded_ThenItAllocatesAtMostTwiceTheFileSize()
    {
        var model = new Sequential<float>(new Lstm<float>(2, 96, returnSequences: true), new Dense<float>(96, 3));
        model.Initialize(Initialization.PyTorch, 1);
        byte[] bytes = ModelFile.ToBytes(model, new ModelMetadata());
        ModelFile.FromBytes<float>(bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        ModelFile.FromBytes<float>(bytes);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"file {bytes.Length} bytes, load from bytes allocated {allocated} bytes ({(double)allocated / bytes.Length:F2}x)");
        Assert.True(allocated <= (2 * bytes.Length) + AllocationSlack, $"allocated {allocated} for {bytes.Length}");

        // From disk the file is read tensor by tensor into the weights: no whole-file buffer either.
        string dir = Directory.CreateTempSubdirectory("carry-rel-").FullName;
        try
        {
            string path = Path.Combine(dir, "big.carry");
            File.WriteAllBytes(path, bytes);
            ModelFile.Load<float>(path);
            before = GC.GetAllocatedBytesForCurrentThread();
            ModelFile.Load<float>(path);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            output.WriteLine($"load from disk allocated {allocated} bytes ({(double)allocated / bytes.Length:F2}x)");
            Assert.True(allocated <= (2 * bytes.Length) + AllocationSlack, $"allocated {allocated} for {bytes.Length}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private enum Corruption
    {
        BitFlips,
        DataBitFlip,
        HeaderLength,
        ShapeEdit,
        OffsetEdit,
        DTypeEdit,
        FormatEdit,
        VersionEdit,
        MissingTensor,
        ExtraTensor,
        ArchitectureEdit,
        MetadataEdit,
        NonFinite,
        Garbage,
    }

    [Fact]
    public async Task GivenAThousandSeededCorruptions_WhenLoaded_ThenEachIsRejectedOrLoadsAValidModel()
    {
        byte[] original = SmallModelBytes();
        long dataOffset = DataOffset(original);
        var originalLayout = Layout(original);
        ModelFile.FromBytes<float>(original); // warm up the JIT so allocation figures are the load's own
        var kinds = Enum.GetValues<Corruption>();
        var rejected = new Dictionary<Corruption, int>();
        var loaded = new Dictionary<Corruption, int>();
        long worstRatioBytes = 0;
        double worstRatio = 0;
        var slowest = TimeSpan.Zero;
        int headerFlipsLoaded = 0;
        for (int i = 0; i < 1000; i++)
        {
            var random = new RandomGenerator(1000 + (ulong)i);
            var kind = kinds[i % kinds.Length];
            byte[] bytes = Corrupt(original, kind, random, out bool onlyData);
            Exception? error = null;
            long allocated = 0;
            var clock = Stopwatch.StartNew();
            var task = Task.Run(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    var model = ModelFile.FromBytes<float>(bytes, $"corrupt-{i}.carry");
                    allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    foreach (var p in model.Model.ParameterList) Assert.All(p.Value.Data, v => Assert.True(float.IsFinite(v)));
                    ModelFile.FromBytes<float>(ModelFile.ToBytes(model.Model, model.Metadata)); // what loads also saves and reloads
                }
                catch (Exception e)
                {
                    allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    error = e;
                }
            });
            Assert.True(await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(10))) == task, $"corruption {i} ({kind}) did not finish in 10 s");
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            Assert.True(allocated <= (2 * bytes.Length) + AllocationSlack, $"corruption {i} ({kind}): {allocated} bytes allocated for a {bytes.Length}-byte file");
            if ((double)allocated / bytes.Length > worstRatio) (worstRatio, worstRatioBytes) = ((double)allocated / bytes.Length, allocated);
            if (error is null)
            {
                loaded[kind] = loaded.GetValueOrDefault(kind) + 1;
                // A file that still loads is a header flip that left every tensor's name, dtype,
                // shape and range alone, and every weight byte: the checksum refuses changed weights.
                bool layoutIntact = kind is Corruption.BitFlips or Corruption.Garbage && Layout(bytes) == originalLayout;
                bool weightsIntact = bytes.AsSpan((int)DataOffset(bytes)).SequenceEqual(original.AsSpan((int)dataOffset));
                headerFlipsLoaded++;
                int at = Enumerable.Range(0, bytes.Length).First(k => bytes[k] != original[k]);
                output.WriteLine($"corruption {i}: header byte {at} '{(char)original[at]}' -> '{(char)bytes[at]}' in ...{Encoding.UTF8.GetString(original, Math.Max(8, at - 20), 30)}... loaded");
                Assert.False(onlyData, $"corruption {i} ({kind}) changed only weight bytes and loaded: the checksum missed it");
                Assert.True(layoutIntact && weightsIntact, $"corruption {i} ({kind}) loaded although it changed the tensor layout or the weights: {Encoding.UTF8.GetString(bytes, 8, (int)DataOffset(bytes) - 8)}");
            }
            else
            {
                Assert.True(error is ModelFormatException, $"corruption {i} ({kind}) threw {error.GetType().Name}: {error.Message}");
                Assert.StartsWith($"corrupt-{i}.carry: ", error.Message, StringComparison.Ordinal);
                if (kind == Corruption.DataBitFlip)
                {
                    Assert.True(error.Message.Contains("SHA-256", StringComparison.Ordinal) || error.Message.Contains("non-finite", StringComparison.Ordinal), error.Message);
                }
                rejected[kind] = rejected.GetValueOrDefault(kind) + 1;
            }
        }
        foreach (var kind in kinds)
        {
            output.WriteLine($"{kind,-17} rejected {rejected.GetValueOrDefault(kind),3}  loaded {loaded.GetValueOrDefault(kind),3}");
        }
        output.WriteLine($"{headerFlipsLoaded} loads, all from changes inside the header that left the tensor table and the weights intact (metadata or config text)");
        output.WriteLine($"worst allocation {worstRatioBytes} bytes ({worstRatio:F1}x the file), slowest load {slowest.TotalMilliseconds:F1} ms");
        // Every deliberate header edit, header-length lie, weight bit flip and planted NaN/Inf must be rejected.
        foreach (var kind in kinds.Except([Corruption.BitFlips, Corruption.Garbage]))
        {
            Assert.Equal(0, loaded.GetValueOrDefault(kind));
        }
    }

    /// <summary>The header's tensor table (names, dtypes, shapes, offsets) as text, or null when the header does not parse.</summary>
    private static string? Layout(byte[] bytes)
    {
        try
        {
            var file = SafeTensors.Read(bytes, "x");
            return string.Join(";", file.Tensors.Values.OrderBy(t => t.Name, StringComparer.Ordinal)
                .Select(t => $"{t.Name}:{t.DType}:{string.Join(",", t.Shape)}:{t.Begin}-{t.End}"));
        }
        catch (ModelFormatException)
        {
            return null;
        }
    }

    private static byte[] Corrupt(byte[] original, Corruption kind, RandomGenerator random, out bool onlyData)
    {
        long dataOffset = DataOffset(original);
        byte[] bytes = (byte[])original.Clone();
        onlyData = false;
        switch (kind)
        {
            case Corruption.BitFlips:
            {
                int flips = 1 + random.NextInt(3);
                onlyData = true;
                for (int f = 0; f < flips; f++)
                {
                    int at = random.NextInt(bytes.Length);
                    bytes[at] ^= (byte)(1 << random.NextInt(8));
                    onlyData &= at >= dataOffset;
                }
                return bytes;
            }
            case Corruption.DataBitFlip:
            {
                int at = (int)dataOffset + random.NextInt(bytes.Length - (int)dataOffset);
                bytes[at] ^= (byte)(1 << random.NextInt(8));
                onlyData = true;
                return bytes;
            }
            case Corruption.HeaderLength:
            {
                ulong[] lies = [0, 1, 7, (ulong)bytes.Length, (ulong)bytes.Length - 8, ulong.MaxValue, long.MaxValue, 1UL << 40, (ulong)(dataOffset - 8 - 1), (ulong)(dataOffset - 8 + 1), 16UL << 20];
                ulong value = random.NextInt(3) == 0 ? random.NextUInt64() : lies[random.NextInt(lies.Length)];
                if (value == (ulong)(dataOffset - 8)) value++;
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
                return bytes;
            }
            case Corruption.NonFinite:
            {
                int values = (bytes.Length - (int)dataOffset) / 4;
                float[] bad = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00001))];
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan((int)dataOffset + (4 * random.NextInt(values))), bad[random.NextInt(bad.Length)]);
                return bytes;
            }
            case Corruption.Garbage:
            {
                // Random bytes over a random stretch that starts in the header.
                int start = random.NextInt((int)dataOffset), length = 1 + random.NextInt(64);
                for (int k = start; k < Math.Min(bytes.Length, start + length); k++) bytes[k] = (byte)random.NextInt(256);
                if (bytes.AsSpan().SequenceEqual(original)) bytes[start] ^= 0x80;
                return bytes;
            }
            default:
                return EditHeader(original, header => EditJson(header, kind, random));
        }
    }

    private static void EditJson(JsonObject header, Corruption kind, RandomGenerator random)
    {
        var meta = header["__metadata__"]!.AsObject();
        string[] tensors = header.Select(kv => kv.Key).Where(k => k != "__metadata__").ToArray();
        var tensor = header[tensors[random.NextInt(tensors.Length)]]!.AsObject();
        JsonNode? Pick(params JsonNode?[] options) => options[random.NextInt(options.Length)]?.DeepClone();
        switch (kind)
        {
            case Corruption.ShapeEdit:
            {
                var shape = tensor["shape"]!.AsArray();
                int which = random.NextInt(4);
                if (which == 0) shape.Add(1 + random.NextInt(3)); // an extra dimension
                else if (which == 1) shape.RemoveAt(0);
                else shape[random.NextInt(shape.Count)] = Pick(0, -1, 65536, int.MaxValue, 1L << 40, -(1L << 40), 3.5, "4", null, shape[0]!.GetValue<int>() + 1);
                break;
            }
            case Corruption.OffsetEdit:
            {
                var offsets = tensor["data_offsets"]!.AsArray();
                long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
                int which = random.NextInt(5);
                if (which == 0) tensor["data_offsets"] = new JsonArray(end, begin == end ? begin - 1 : begin);
                else if (which == 1) tensor["data_offsets"] = new JsonArray(begin + 4, end + 4);
                else if (which == 2) tensor["data_offsets"] = new JsonArray(begin, end, end);
                else offsets[random.NextInt(2)] = Pick(-1, -(1L << 40), long.MaxValue, 1L << 40, int.MaxValue, 1e300, "0", end + 1);
                break;
            }
            case Corruption.DTypeEdit:
                tensor["dtype"] = Pick("F16", "BF16", "I64", "f32", "", "F64", 32, null);
                break;
            case Corruption.FormatEdit:
                if (random.NextInt(4) == 0) meta.Remove("format");
                else meta["format"] = Pick("carry2", "", "CARRY", "carry-checkpoint", "pytorch");
                break;
            case Corruption.VersionEdit:
                if (random.NextInt(4) == 0) meta.Remove("version");
                else meta["version"] = Pick("2", "0", "", "1.0", "999999999999");
                break;
            case Corruption.MissingTensor:
                header.Remove(tensors[random.NextInt(tensors.Length)]); // its bytes become a gap or trailing bytes
                break;
            case Corruption.ExtraTensor:
                header[random.NextInt(2) == 0 ? "layers.0.extra" : "layers.7.weight"] = new JsonObject
                {
                    ["dtype"] = "F32",
                    ["shape"] = new JsonArray(1),
                    ["data_offsets"] = random.NextInt(2) == 0 ? new JsonArray(0, 4) : new JsonArray(100000, 100004),
                };
                break;
            case Corruption.ArchitectureEdit:
            {
                var config = JsonNode.Parse(meta["config"]!.GetValue<string>())!;
                var layers = config["layers"]!.AsArray();
                var layer = layers[random.NextInt(layers.Count)]!.AsObject();
                switch (random.NextInt(10))
                {
                    case 0: layer["units"] = Pick(65536, 0, -4, int.MaxValue, 5); break;
                    case 1: layer["inputSize"] = Pick(262144, 0, -1, 2); break;
                    case 2: layer["kind"] = Pick("conv", "", "LSTM", "bidirectional", "dropout", null); break;
                    case 3: layers.RemoveAt(random.NextInt(layers.Count)); break;
                    case 4: layers.Add(new JsonObject { ["kind"] = "dense", ["inputSize"] = 3, ["units"] = 2 }); break;
                    case 5: layer["bias"] = false; break;
                    case 6: config["layers"] = Pick(new JsonArray(), null, "lstm", new JsonObject()); break;
                    case 7: meta["config"] = Pick("{", "[]", "null", "{\"layers\":[{}]}", "{\"layers\":[{\"kind\":\"dense\",\"inputSize\":1e400}]}"); return;
                    case 8: layer["activation"] = Pick("swish", "", 3); break;
                    default: layer.Remove("kind"); break;
                }
                meta["config"] = config.ToJsonString();
                break;
            }
            case Corruption.MetadataEdit:
                switch (random.NextInt(5))
                {
                    case 0: meta["task"] = Pick("{\"encoding\":\"gray\",\"bits\":8}", "{\"encoding\":\"aligned\",\"bits\":-1}", "{", "null", "{\"encoding\":\"aligned\",\"bits\":8,\"operation\":null}"); break;
                    case 1: meta["training"] = Pick("{\"epochs\":10}", "[", "[1,2]", "{\"a\":{\"b\":1}}"); break;
                    case 2: meta["config"] = 5; break;
                    case 3: header["__metadata__"] = Pick("carry", new JsonArray(), 1); break;
                    default: header["__metadata__"]!["version"] = new JsonArray(1); break;
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    /// <summary>Rewrites the header JSON of <paramref name="file"/> with <paramref name="edit"/>, keeping the data section.</summary>
    internal static byte[] EditHeader(byte[] file, Action<JsonObject> edit)
    {
        long dataOffset = DataOffset(file);
        var header = JsonNode.Parse(file.AsSpan(8, (int)dataOffset - 8))!.AsObject();
        edit(header);
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var result = new byte[8 + json.Length + (file.Length - dataOffset)];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)json.Length);
        json.CopyTo(result, 8);
        file.AsSpan((int)dataOffset).CopyTo(result.AsSpan(8 + json.Length));
        return result;
    }
}
