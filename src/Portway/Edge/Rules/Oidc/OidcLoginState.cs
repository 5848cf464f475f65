using System.Text.Json.Serialization;

namespace Portway.Edge.Rules;

/// <summary>One login in flight (the short-lived state cookie): RFC 6749 §10.12 state, OIDC nonce, RFC 7636 verifier, where to go back.</summary>
internal sealed record OidcLoginState(
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("nonce")] string Nonce,
    [property: JsonPropertyName("verifier")] string CodeVerifier,
    [property: JsonPropertyName("return")] string ReturnUrl,
    [property: JsonPropertyName("exp")] long ExpiresUnixSeconds);
