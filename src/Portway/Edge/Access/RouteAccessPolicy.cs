using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Portway.Configuration;

namespace Portway.Edge.Access;

/// <summary>One route's compiled guards. Built once per config change, read per request.</summary>
internal sealed class RouteAccessPolicy : IDisposable
{
    private readonly AccessConfig _config;
    private readonly PartitionedRateLimiter<HttpContext>? _limiter;
    private readonly Dictionary<string, byte[]>? _users;

    public RouteAccessPolicy(AccessConfig config)
    {
        _config = config;
        if (config.RateLimit is { } rl)
        {
            // A token bucket per key: `requests` tokens every `per`, holding up to requests + burst,
            // so a quiet client may burst (nginx's limit_req burst) and a busy one is held to the rate.
            var options = new TokenBucketRateLimiterOptions
            {
                TokenLimit = rl.Requests + rl.Burst,
                TokensPerPeriod = rl.Requests,
                ReplenishmentPeriod = rl.Per,
                QueueLimit = 0,
                AutoReplenishment = true,
            };
            var key = rl.Key;
            var header = key.StartsWith("header:", StringComparison.Ordinal) ? key[7..] : null;
            _limiter = PartitionedRateLimiter.Create<HttpContext, string>(ctx =>
            {
                var partition = key switch
                {
                    "route" => "",
                    "client_ip" => Clients.ClientAddress.Of(ctx)?.ToString() ?? "",
                    _ => ctx.Request.Headers[header!].ToString(),
                };
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => options);
            });
        }
        if (config.BasicAuth is { } ba)
        {
            _users = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var u in ba.Users) _users[u.Name] = Convert.FromHexString(u.PasswordSha256);
        }
    }

    public AccessConfig Config => _config;

    public bool IsAddressAllowed(IPAddress? remote)
    {
        if (_config.Allow.IsEmpty && _config.Deny.IsEmpty) return true;
        if (remote is null) return false;
        if (remote.IsIPv4MappedToIPv6) remote = remote.MapToIPv4();
        foreach (var n in _config.Deny)
        {
            if (n.Contains(remote)) return false;
        }
        if (_config.Allow.IsEmpty) return true;
        foreach (var n in _config.Allow)
        {
            if (n.Contains(remote)) return true;
        }
        return false;
    }

    /// <summary>Null when allowed; else the seconds to wait (0 when unknown).</summary>
    public int? TryAcquire(HttpContext context)
    {
        if (_limiter is null) return null;
        using var lease = _limiter.AttemptAcquire(context);
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? (int)Math.Ceiling(after.TotalSeconds) : 0;
    }

    public bool RequiresAuth => _users is not null;

    public string Realm => _config.BasicAuth?.Realm ?? "Portway";

    /// <summary>Checks an Authorization: Basic header (RFC 7617). Password hashes are compared in constant time.</summary>
    public bool IsAuthorized(string? authorization)
    {
        if (_users is null) return true;
        if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = decoded.IndexOf(':');
        if (colon < 0) return false;
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(decoded[(colon + 1)..]));
        // Unknown users are compared against a dummy hash so timing does not reveal which names exist.
        var expected = _users.TryGetValue(decoded[..colon], out var hash) ? hash : DummyHash;
        return CryptographicOperations.FixedTimeEquals(given, expected) && hash is not null;
    }

    private static readonly byte[] DummyHash = SHA256.HashData("portway-no-such-user"u8);

    public void Dispose() => _limiter?.Dispose();
}
