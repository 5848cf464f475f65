namespace Portway.Agent.Inspector;

/// <summary>
/// How much the request inspector keeps. Defaults follow ngrok's agent (the last 500 requests);
/// the body limit keeps one upload from pinning a large buffer, and the byte budget bounds the
/// whole ring, so 500 requests with 1 MiB bodies each cannot grow the agent to a gigabyte.
/// </summary>
internal sealed record InspectorOptions
{
    /// <summary>Requests kept; the oldest is dropped first.</summary>
    public int Capacity { get; init; } = 500;

    /// <summary>Bytes kept of each request and response body; the rest is counted, not kept, and the entry says "truncated".</summary>
    public int BodyLimit { get; init; } = 1024 * 1024;

    /// <summary>Body bytes kept across all entries; past it the oldest entries go even when the ring has room.</summary>
    public long TotalBodyBytes { get; init; } = 64L * 1024 * 1024;
}
