namespace Portway.Configuration;

/// <summary>
/// tunnels.tokens[].limits: what one token's tunnels may use together, whichever agent and name
/// they run under (docs/tunnels.md#limits). Null fields are unlimited.
/// </summary>
internal sealed record TunnelLimitsConfig
{
    /// <summary>Requests (and TCP connections) in flight at once across the token's tunnels.</summary>
    public int? Connections { get; init; }
    /// <summary>Requests per <see cref="Per"/> across the token's HTTP tunnels.</summary>
    public int? Requests { get; init; }
    public TimeSpan Per { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Bytes per second through the token's links, each direction.</summary>
    public long? Bandwidth { get; init; }
}
