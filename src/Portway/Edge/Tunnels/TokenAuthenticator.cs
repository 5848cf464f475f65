using System.Net;
using System.Security.Cryptography;
using System.Text;
using Portway.Configuration;
using Portway.Protocol;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Checks an agent's bearer token against the SHA-256 hashes in the config. Every configured hash
/// is compared, each in constant time (CryptographicOperations.FixedTimeEquals), so timing reveals
/// neither which token nor how many bytes matched. With no tokens configured the edge is in dev
/// mode and accepts agents on loopback only.
/// </summary>
internal static class TokenAuthenticator
{
    public static LinkAuthResult Authenticate(TunnelsConfig config, string? authorization, IPAddress? remote)
    {
        var token = BearerToken(authorization);
        if (config.Tokens.IsEmpty)
        {
            if (remote is not null && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote)) return LinkAuthResult.Dev;
            return LinkAuthResult.Refuse(401, LinkErrorCodes.TokenRequired,
                "This edge has no tunnel tokens configured, so it only accepts agents on its own machine (loopback). "
                + "Add a token to the edge's config (tunnels.tokens, with the sha256 from `portway token hash TOKEN`) and start the agent with --token.");
        }
        if (token is null)
        {
            return LinkAuthResult.Refuse(401, LinkErrorCodes.TokenRequired,
                "This edge requires a token. Pass --token TOKEN, or store it once with `portway token add TOKEN`.");
        }
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), hash);
        TunnelTokenConfig? match = null;
        Span<byte> expected = stackalloc byte[32];
        foreach (var candidate in config.Tokens)
        {
            if (Convert.FromHexString(candidate.Sha256, expected, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32) continue;
            if (CryptographicOperations.FixedTimeEquals(hash, expected) && match is null) match = candidate;
        }
        return match is null
            ? LinkAuthResult.Refuse(401, LinkErrorCodes.TokenInvalid, "The token is not valid on this edge. Check it (`portway token add TOKEN` replaces the stored one) or ask the edge's operator for a new one.")
            : LinkAuthResult.Ok(match);
    }

    /// <summary>The SHA-256 of a token as the config stores it (lower-case hex).</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string? BearerToken(string? authorization)
    {
        if (string.IsNullOrEmpty(authorization) || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        var token = authorization[7..].Trim();
        return token.Length == 0 ? null : token;
    }
}
