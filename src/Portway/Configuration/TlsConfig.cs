using System.Security.Authentication;

namespace Portway.Configuration;

/// <summary>
/// TLS for the edge's https listeners (see docs/tls.md): which certificate each site gets, ACME,
/// redirect and HSTS, and client-certificate requirements per route.
/// </summary>
internal sealed record TlsConfig
{
    public EquatableArray<TlsSiteConfig> Sites { get; init; } = [];
    public AcmeConfig Acme { get; init; } = new();
    /// <summary>Lowest protocol offered. TLS 1.2 (Mozilla's "intermediate" profile); 1.3 for "modern".</summary>
    public SslProtocols MinVersion { get; init; } = SslProtocols.Tls12;
    public EquatableArray<ClientAuthConfig> ClientAuth { get; init; } = [];
    /// <summary>"system" (the platform's list; keeps OpenSSL's per-certificate context cache and session resumption) or "mozilla_intermediate" (exactly that list).</summary>
    public string Ciphers { get; init; } = "system";
}

/// <summary>Where a site's certificate comes from.</summary>
internal enum CertificateSource
{
    /// <summary>PEM certificate (chain) + PEM key, RSA or ECDSA.</summary>
    PemFiles,
    Pkcs12,
    /// <summary>Issued and renewed over ACME.</summary>
    Acme,
}

/// <summary>
/// A site: host names (exact or *.wildcard) sharing one certificate. <c>Default</c> serves
/// connections whose SNI matches nothing (or that send none).
/// </summary>
internal sealed record TlsSiteConfig
{
    public EquatableArray<string> Hosts { get; init; } = [];
    public bool Default { get; init; }
    public CertificateSource Source { get; init; }
    public string? CertFile { get; init; }
    public string? KeyFile { get; init; }
    public string? Pkcs12File { get; init; }
    public string? Password { get; init; }
    /// <summary>308 from http:// to https:// for these hosts (default on; /.well-known/acme-challenge/ is always exempt).</summary>
    public bool RedirectHttp { get; init; } = true;
    /// <summary>Strict-Transport-Security max-age; null = no header. Off by default because HSTS is sticky in browsers.</summary>
    public TimeSpan? HstsMaxAge { get; init { field = value; HstsHeader = Hsts(value, HstsIncludeSubdomains); } }
    public bool HstsIncludeSubdomains { get; init { field = value; HstsHeader = Hsts(HstsMaxAge, value); } }
    /// <summary>ACME sites: the one challenge type used for this site instead of acme.challenges; "dns-01" for wildcards.</summary>
    public string? Challenge { get; init; }

    /// <summary>
    /// The Strict-Transport-Security value, built once per site rather than per response. Set by the
    /// two init accessors above (object initializers and <c>with</c> both run them), so it always
    /// follows them and the generated Equals, which compares it too, stays a comparison of the config.
    /// </summary>
    public string? HstsHeader { get; private set; }

    private static string? Hsts(TimeSpan? maxAge, bool includeSubdomains) => maxAge is not { } age ? null
        : $"max-age={(long)age.TotalSeconds}{(includeSubdomains ? "; includeSubDomains" : "")}";

    /// <summary>What to name in an error: the hosts, or "the default certificate".</summary>
    public string Label => Hosts.IsEmpty ? "the default certificate" : string.Join(", ", Hosts);
}

/// <summary>ACME (RFC 8555) account and issuance settings.</summary>
internal sealed record AcmeConfig
{
    /// <summary>Let's Encrypt production, as Caddy and certbot default to.</summary>
    public const string LetsEncryptProduction = "https://acme-v02.api.letsencrypt.org/directory";
    public const string LetsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory";

    public Uri Directory { get; init; } = new(LetsEncryptProduction);
    public string? Email { get; init; }
    /// <summary>External Account Binding for CAs that require one (ZeroSSL, Google Trust Services); null = none.</summary>
    public AcmeEabConfig? Eab { get; init; }
    public bool AgreeTos { get; init; }
    /// <summary>PEM file of roots to trust for the CA's own HTTPS (a private CA, Pebble); null = the system's roots.</summary>
    public string? CaRoot { get; init; }
    /// <summary>Challenge types in order of preference. tls-alpn-01 first: it needs only the https port. dns-01 only when listed (or per site).</summary>
    public EquatableArray<string> Challenges { get; init; } = ["tls-alpn-01", "http-01"];
    /// <summary>"ecdsa_p256" (default: smaller, faster handshakes) or "rsa_2048" (for very old clients).</summary>
    public string KeyType { get; init; } = "ecdsa_p256";
    /// <summary>Certificates and the account key; keys are written 0600.</summary>
    public string Storage { get; init; } = DefaultStorage();
    /// <summary>Also issue for tunnel names under tunnels.domains when the tunnel code asks for one.</summary>
    public bool Tunnels { get; init; }
    /// <summary>
    /// tunnels: wildcard — one dns-01 certificate for *.DOMAIN per tunnels.domains entry instead of
    /// one per name: the loader adds those sites (<see cref="TlsSection.WithTunnelWildcards"/>).
    /// </summary>
    public bool TunnelsWildcard { get; init; }
    /// <summary>
    /// New tunnel-name certificates ordered per hour at most (renewals do not count): a flood of new
    /// names cannot burn the CA's limits (Let's Encrypt: 300 new orders per 3 h per account, 50
    /// certificates per registered domain per week; busy edges want the dns-01 wildcard instead).
    /// </summary>
    public int TunnelOrdersPerHour { get; init; } = 10;
    /// <summary>Renew when this share of the lifetime has passed (2/3, what certbot and Caddy use), unless ARI says otherwise.</summary>
    public double RenewAt { get; init; } = 2.0 / 3.0;
    /// <summary>First back-off after a failed order; doubles up to <see cref="RetryMax"/>.</summary>
    public TimeSpan RetryMin { get; init; } = TimeSpan.FromMinutes(1);
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromHours(6);
    /// <summary>How often pending authorizations and orders are polled when the CA sends no Retry-After.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>How dns-01 answers are published (tls.acme.dns); null = dns-01 is not available.</summary>
    public DnsChallengeConfig? Dns { get; init; }

    private static string DefaultStorage()
    {
        var data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        return Path.Combine(data.Length > 0 ? data : Path.GetTempPath(), "portway", "acme");
    }
}

/// <summary>Visitors must present a client certificate issued by <c>CaFile</c> on this route (mTLS).</summary>
internal sealed record ClientAuthConfig(string RouteId, string CaFile, string SubjectHeader = "X-Client-Cert-Subject");

/// <summary>TLS to a cluster's https:// destinations.</summary>
internal sealed record UpstreamTlsConfig
{
    /// <summary>PEM roots trusted for the servers instead of the system's.</summary>
    public string? CaFile { get; init; }
    /// <summary>Name sent as SNI and checked in the server's certificate (also sent as Host).</summary>
    public string? ServerName { get; init; }
    public string? ClientCertFile { get; init; }
    public string? ClientKeyFile { get; init; }
    /// <summary>Skip validation entirely. Loudly logged; for labs only.</summary>
    public bool Insecure { get; init; }
}
