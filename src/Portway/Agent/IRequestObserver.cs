namespace Portway.Agent;

/// <summary>
/// The seam where the agent's requests are observed: the status screen's counters implement it
/// today, and a request inspector (the --inspect web UI) plugs in here without touching forwarding.
/// Called once per finished request, on the request's thread: implementations must be cheap.
/// </summary>
internal interface IRequestObserver
{
    void OnCompleted(ObservedRequest request);
}

/// <summary>One finished request as the agent saw it.</summary>
internal sealed record ObservedRequest(
    DateTimeOffset Started,
    string Tunnel,
    string Method,
    string Target,
    int Status,
    TimeSpan Duration,
    string? ClientIp);
