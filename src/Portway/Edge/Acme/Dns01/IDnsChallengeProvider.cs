namespace Portway.Edge.Acme.Dns01;

/// <summary>
/// Publishes and withdraws the TXT record of a dns-01 answer (RFC 8555 §8.4). One class per
/// <c>tls.acme.dns.provider</c>. A failure throws <see cref="DnsChallengeException"/> with a sentence an operator can act on.
/// </summary>
internal interface IDnsChallengeProvider
{
    /// <summary>The server to check for the record when no resolver is configured; null = the zone's authoritative servers.</summary>
    Task<System.Net.IPEndPoint?> CheckServerAsync(CancellationToken ct);

    /// <param name="recordName">FQDN with the trailing dot, e.g. <c>_acme-challenge.example.com.</c></param>
    Task PresentAsync(string recordName, string value, CancellationToken ct);

    Task CleanupAsync(string recordName, string value, CancellationToken ct);
}
