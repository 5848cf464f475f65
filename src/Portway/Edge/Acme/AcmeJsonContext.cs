using System.Text.Json;
using System.Text.Json.Serialization;

namespace Portway.Edge.Acme;

/// <summary>
/// Source-generated JSON for every ACME resource Portway reads or sends, so the client needs no
/// reflection (Native AOT, trimming). Web defaults as before the generator: camelCase names,
/// case-insensitive reading, unknown members ignored.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AcmeDirectory))]
[JsonSerializable(typeof(AcmeOrder))]
[JsonSerializable(typeof(AcmeAuthorization))]
[JsonSerializable(typeof(AcmeProblem))]
[JsonSerializable(typeof(AcmeRenewalInfo))]
[JsonSerializable(typeof(AcmeNewOrderRequest))]
[JsonSerializable(typeof(AcmeFinalizeRequest))]
internal sealed partial class AcmeJsonContext : JsonSerializerContext;
