namespace Portway.Configuration;

/// <summary>
/// <c>tls.acme.dns</c>: how Portway publishes dns-01 answers (RFC 8555 §8.4) and how long it
/// waits for them to be visible before asking the CA to look (docs/tls.md, "dns-01").
/// </summary>
internal sealed record DnsChallengeConfig
{
    public const string Rfc2136 = "rfc2136";
    public const string Exec = "exec";

    /// <summary><see cref="Rfc2136"/> (DNS UPDATE signed with TSIG) or <see cref="Exec"/> (the operator's program).</summary>
    public string Provider { get; init; } = Rfc2136;

    /// <summary>rfc2136: the primary server that takes UPDATEs, host or host:port (port 53 by default).</summary>
    public string? Server { get; init; }
    /// <summary>rfc2136: the zone to update ("example.com."); null = asked of the server (the SOA owner above the record).</summary>
    public string? Zone { get; init; }
    public string? TsigKeyName { get; init; }
    /// <summary>hmac-sha256 by default: what <c>tsig-keygen</c> and <c>knotc</c> generate, and RFC 8945 §6's "mandatory to implement".</summary>
    public string TsigAlgorithm { get; init; } = "hmac-sha256";
    /// <summary>Base64 TSIG secret. Never logged: <see cref="ToString"/> leaves it out.</summary>
    public string? TsigSecret { get; init; }

    /// <summary>exec: the program run as <c>COMMAND present|cleanup FQDN VALUE</c>.</summary>
    public string? Command { get; init; }
    /// <summary>exec: how long one run may take. A minute, as lego's exec provider allows.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>host:port asked instead of the zone's authoritative servers when checking that the record is visible.</summary>
    public string? Resolver { get; init; }
    /// <summary>How long to wait for the record to be visible before giving up. Two minutes, lego's and certbot's order of magnitude.</summary>
    public TimeSpan PropagationTimeout { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan PropagationInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>TTL of the TXT record: short, so a resolver never caches an old answer for long (lego uses 120 s, Caddy 0).</summary>
    public int Ttl { get; init; } = 60;

    /// <summary>Everything but the secret: records print all their members, and configs end up in logs.</summary>
    public override string ToString() =>
        $"DnsChallengeConfig {{ Provider = {Provider}, Server = {Server}, Zone = {Zone}, TsigKeyName = {TsigKeyName}, TsigAlgorithm = {TsigAlgorithm}, "
        + $"TsigSecret = {(TsigSecret is null ? "" : "(set)")}, Command = {Command}, Timeout = {Timeout}, Resolver = {Resolver}, "
        + $"PropagationTimeout = {PropagationTimeout}, PropagationInterval = {PropagationInterval}, Ttl = {Ttl} }}";
}
