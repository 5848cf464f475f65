using System.Text.Json.Serialization;

namespace Portway.Edge.Rules;

/// <summary>Source-generated (Native AOT: no reflection-based JSON).</summary>
[JsonSerializable(typeof(OidcSession))]
[JsonSerializable(typeof(OidcLoginState))]
[JsonSerializable(typeof(OidcTokenResponse))]
internal sealed partial class OidcJsonContext : JsonSerializerContext;
