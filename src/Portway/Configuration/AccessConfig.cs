using System.Net;

namespace Portway.Configuration;

/// <summary>
/// Per-route guards, checked in nginx's phase order: client address rules (403), then the rate
/// limit (429), then basic auth (401). Null members mean "not configured".
/// </summary>
internal sealed record AccessConfig
{
    public EquatableArray<IPNetwork> Allow { get; init; } = [];
    public EquatableArray<IPNetwork> Deny { get; init; } = [];
    public RateLimitConfig? RateLimit { get; init; }
    public BasicAuthConfig? BasicAuth { get; init; }
}

/// <summary>A token bucket per key: <c>Requests</c> per <c>Per</c>, bursting up to <c>Burst</c> extra.</summary>
internal sealed record RateLimitConfig(int Requests, TimeSpan Per, int Burst, string Key);

/// <summary>Users with SHA-256 password hashes (hex), never plain text in the file.</summary>
internal sealed record BasicAuthConfig(string Realm, EquatableArray<BasicAuthUser> Users);

internal sealed record BasicAuthUser(string Name, string PasswordSha256);
