namespace Portway.Agent.Inspector;

/// <summary>
/// One request and its response as the agent saw them, immutable once recorded. Headers are the
/// ones the agent received from the edge (the visitor's, plus the edge's X-Forwarded-*), without
/// the link's own portway-* headers, which are shown as <see cref="Tunnel"/> and <see cref="ClientIp"/>.
/// </summary>
internal sealed record CapturedExchange
{
    public long Id { get; init; }

    /// <summary>The entry this one replayed, or null for a visitor's request.</summary>
    public long? ReplayOf { get; init; }

    public required string Tunnel { get; init; }
    public string? ClientIp { get; init; }
    public required DateTimeOffset Started { get; init; }
    public required TimeSpan Duration { get; init; }
    public required string Method { get; init; }

    /// <summary>Path and query, as sent (e.g. /search?q=1).</summary>
    public required string Target { get; init; }
    public required KeyValuePair<string, string>[] RequestHeaders { get; init; }
    public required CapturedBody RequestBody { get; init; }
    public required int Status { get; init; }
    public required KeyValuePair<string, string>[] ResponseHeaders { get; init; }
    public required CapturedBody ResponseBody { get; init; }

    /// <summary>Why the exchange failed (replay could not reach the local server…), or null.</summary>
    public string? Error { get; init; }

    /// <summary>Body bytes this entry holds, for the ring's byte budget.</summary>
    public long KeptBytes => RequestBody.Data.Length + ResponseBody.Data.Length;
}
