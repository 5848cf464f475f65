using System.Text.Json.Serialization;

namespace Portway.Edge.Rules;

/// <summary>
/// What the session cookie holds (encrypted and signed): who logged in, what the allow lists are
/// checked against on each request, the header values for the server, and when it ends. Only the
/// groups the rule names are kept, so a user in hundreds of groups still fits in one cookie. The
/// refresh token (when the provider gave one) renews the session at <see cref="RefreshAtUnixSeconds"/>;
/// the id_token is kept as the id_token_hint of the logout (RP-Initiated Logout 1.0 §2). Neither
/// leaves the edge: the cookie is taken out of the request before it is forwarded.
/// </summary>
internal sealed record OidcSession(
    [property: JsonPropertyName("sub")] string Subject,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("ev")] bool EmailVerified,
    [property: JsonPropertyName("groups")] string[] Groups,
    [property: JsonPropertyName("headers")] Dictionary<string, string> Headers,
    [property: JsonPropertyName("exp")] long ExpiresUnixSeconds,
    [property: JsonPropertyName("idt")] string? IdToken = null,
    [property: JsonPropertyName("rt")] string? RefreshToken = null,
    [property: JsonPropertyName("rat")] long RefreshAtUnixSeconds = 0);
