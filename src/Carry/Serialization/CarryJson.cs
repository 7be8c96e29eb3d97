using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Carry.Arithmetic;
using Carry.Layers;
using Carry.Training;

namespace Carry.Serialization;

/// <summary>
/// Compile-time JSON metadata (System.Text.Json's source generator) for every type the library
/// writes or reads as JSON: a model's <c>config</c>, <c>task</c> and <c>training</c> metadata, a
/// checkpoint's optimizer, position, generators and loop state, a sweep's results. Nothing is
/// serialised by reflection, so no serializer is JIT-compiled when a command starts and the CLI
/// runs under Native AOT. Naming and strictness stay with each caller's
/// <see cref="JsonSerializerOptions"/> (<see cref="Resolving"/>): this context only supplies the
/// types' shapes.
/// </summary>
[JsonSerializable(typeof(ModelConfig))]
[JsonSerializable(typeof(LayerSpec[]))]
[JsonSerializable(typeof(TaskInfo))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, ulong[]>))]
[JsonSerializable(typeof(SortedDictionary<string, ulong[]>))]
[JsonSerializable(typeof(OptimizerInfo))]
[JsonSerializable(typeof(PositionInfo))]
[JsonSerializable(typeof(LoopState))]
[JsonSerializable(typeof(SweepRow[]))]
internal sealed partial class CarryJson : JsonSerializerContext
{
    /// <summary><paramref name="options"/> resolving types through <paramref name="resolver"/> (this context by default) rather than by reflection.</summary>
    public static JsonSerializerOptions Resolving(JsonSerializerOptions options, IJsonTypeInfoResolver? resolver = null)
    {
        options.TypeInfoResolver = resolver ?? Default;
        return options;
    }
}

/// <summary>Typed access to an options instance's generated metadata.</summary>
internal static class JsonOptionsExtensions
{
    /// <summary>The metadata <paramref name="options"/> has for <typeparamref name="TValue"/> (throws where its resolver has none).</summary>
    public static JsonTypeInfo<TValue> For<TValue>(this JsonSerializerOptions options) => (JsonTypeInfo<TValue>)options.GetTypeInfo(typeof(TValue));
}

/// <summary>A model's <c>config</c> metadata: <c>{"layers":[…]}</c>.</summary>
internal sealed record ModelConfig(LayerSpec[] Layers);
