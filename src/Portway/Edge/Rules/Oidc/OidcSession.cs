using System.Text.Json.Serialization;

namespace Portway.Edge.Rules;

/// <summary>
/// What the session cookie holds (encrypted and signed): who logged in, what the allow lists are
/// checked against on each request, the header values for the server, and when it ends. Only the
/// groups the rule names are kept, so a user in hundreds of groups still fits in one cookie.
/// </summary>
internal sealed record OidcSession(
    [property: JsonPropertyName("sub")] string Subject,
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("ev")] bool EmailVerified,
    [property: JsonPropertyName("groups")] string[] Groups,
    [property: JsonPropertyName("headers")] Dictionary<string, string> Headers,
    [property: JsonPropertyName("exp")] long ExpiresUnixSeconds);
