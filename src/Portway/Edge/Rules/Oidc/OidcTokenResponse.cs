using System.Text.Json.Serialization;

namespace Portway.Edge.Rules;

/// <summary>The token endpoint's answer (RFC 6749 §5.1/§5.2, §6 for a refresh): only what the gate reads.</summary>
internal sealed record OidcTokenResponse(
    [property: JsonPropertyName("id_token")] string? IdToken,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken,
    [property: JsonPropertyName("expires_in")] long? ExpiresIn,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("error_description")] string? ErrorDescription);
