using System.Text.Json.Serialization;

namespace Portway.Agent;

[JsonSerializable(typeof(IReadOnlyList<ObservedRequest>))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
internal sealed partial class AgentJsonContext : JsonSerializerContext;
