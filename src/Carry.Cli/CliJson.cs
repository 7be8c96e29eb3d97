using System.Text.Json.Serialization;
using Carry.Cli.Commands;

namespace Carry.Cli;

/// <summary>
/// Compile-time JSON metadata for what the CLI itself writes and reads as JSON (checkpointed run
/// settings, <c>carry eval --json</c>): with the library's <c>CarryJson</c>, nothing is serialised
/// by reflection, so no serializer is JIT-compiled at start-up and the CLI runs under Native AOT.
/// Its own options (camelCase names) are <c>carry eval --json</c>'s; the checkpoint settings use
/// their commands' options with this context as the resolver.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(RunSettings))]
[JsonSerializable(typeof(TextTrainSettings))]
[JsonSerializable(typeof(EvalReport))]
internal sealed partial class CliJson : JsonSerializerContext;
