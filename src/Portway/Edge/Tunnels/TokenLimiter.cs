using System.Threading.RateLimiting;
using Portway.Configuration;

namespace Portway.Edge.Tunnels;

/// <summary>
/// One token's limits in force (tokens[].limits): the concurrency and request-rate limiters every
/// request to its tunnels passes, and the byte buckets its links' traffic is shaped by. Shared by
/// all of the token's agents; kept across a reload that leaves the token's limits equal.
/// </summary>
internal sealed class TokenLimiter : IDisposable
{
    private readonly ConcurrencyLimiter? _connections;
    private readonly TokenBucketRateLimiter? _requests;

    public TokenLimiter(TunnelLimitsConfig config, TimeProvider time)
    {
        Config = config;
        if (config.Connections is { } connections)
            _connections = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = connections, QueueLimit = 0 });
        if (config.Requests is { } requests)
        {
            _requests = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = requests,
                TokensPerPeriod = requests,
                ReplenishmentPeriod = config.Per,
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        }
        if (config.Bandwidth is { } bandwidth)
        {
            ToAgent = new ByteBucket(bandwidth, time);
            FromAgent = new ByteBucket(bandwidth, time);
        }
    }

    public TunnelLimitsConfig Config { get; }

    /// <summary>Visitors' uploads (request bodies, TCP client bytes) on their way to the agent.</summary>
    public ByteBucket? ToAgent { get; }

    /// <summary>Responses and TCP server bytes coming back from the agent.</summary>
    public ByteBucket? FromAgent { get; }

    /// <summary>A slot among <c>connections</c>: null when the token is at its limit; dispose to free it.</summary>
    public RateLimitLease? TryConnection()
    {
        if (_connections is null) return Unlimited.Lease;
        RateLimitLease lease;
        try
        {
            lease = _connections.AttemptAcquire();
        }
        catch (ObjectDisposedException)
        {
            return Unlimited.Lease; // a reload replaced these limits while this request was on its way
        }
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        return null;
    }

    /// <summary>True when the request fits the rate; else false and how long until it would.</summary>
    public bool TryRequest(out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (_requests is null) return true;
        RateLimitLease lease;
        try
        {
            lease = _requests.AttemptAcquire();
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
        using var _ = lease;
        if (lease.IsAcquired) return true;
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Config.Per;
        return false;
    }

    public void Dispose()
    {
        _connections?.Dispose();
        _requests?.Dispose();
    }

    /// <summary>The lease of a token without a connections limit: nothing to free.</summary>
    private sealed class Unlimited : RateLimitLease
    {
        public static readonly Unlimited Lease = new();
        public override bool IsAcquired => true;
        public override IEnumerable<string> MetadataNames => [];
        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
        protected override void Dispose(bool disposing) { }
    }
}
