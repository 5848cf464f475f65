namespace Portway.Edge.Caching;

/// <summary>
/// What RFC 9111 §4.2 needs to know about a stored response's age and lifetime, fixed when the
/// response is stored (or refreshed by a 304).
/// </summary>
internal sealed record Freshness
{
    /// <summary>response_time of §4.2.3: when the response was received.</summary>
    public DateTimeOffset ResponseTime { get; init; }
    /// <summary>corrected_initial_age of §4.2.3.</summary>
    public TimeSpan InitialAge { get; init; }
    /// <summary>freshness_lifetime of §4.2.1.</summary>
    public TimeSpan Lifetime { get; init; }
    /// <summary>stale-while-revalidate window (RFC 5861 §3); zero when absent.</summary>
    public TimeSpan StaleWhileRevalidate { get; init; }
    /// <summary>stale-if-error window (RFC 5861 §4); zero when absent.</summary>
    public TimeSpan StaleIfError { get; init; }
    /// <summary>no-cache: stored, but every use is validated first (§5.2.2.4).</summary>
    public bool NoCache { get; init; }
    /// <summary>must-revalidate, proxy-revalidate or s-maxage: never served stale (§5.2.2.2, §5.2.2.8, §5.2.2.10).</summary>
    public bool MustRevalidate { get; init; }
    /// <summary>immutable (RFC 8246): a fresh entry is not revalidated on a client's reload (max-age=0).</summary>
    public bool Immutable { get; init; }
    /// <summary>Stored for a request with Authorization (allowed by public, must-revalidate or s-maxage, §3.5).</summary>
    public bool Authorized { get; init; }

    /// <summary>current_age of §4.2.3.</summary>
    public TimeSpan Age(DateTimeOffset now)
    {
        var resident = now - ResponseTime;
        return InitialAge + (resident > TimeSpan.Zero ? resident : TimeSpan.Zero);
    }
}
