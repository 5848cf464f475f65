using System.Collections.Immutable;
using System.Security.Authentication;

namespace Portway.Configuration;

/// <summary>Reads the <c>tls:</c> section and a cluster's <c>tls:</c> block (docs/tls.md).</summary>
internal static class TlsSection
{
    private static readonly string[] SiteKeys =
        ["hosts", "default", "certificate", "challenge", "cert", "key", "pkcs12", "password", "redirect", "hsts", "hsts_include_subdomains"];
    private static readonly string[] AcmeKeys =
        ["directory", "email", "agree_tos", "ca_root", "challenges", "key_type", "storage", "tunnels", "tunnel_orders_per_hour", "renew_at", "retry_min", "retry_max", "poll_interval", "dns"];
    private static readonly string[] ChallengeTypes = ["tls-alpn-01", "http-01", "dns-01"];

    public static TlsConfig Read(YamlSection top)
    {
        var t = top.Child("tls", "sites", "acme", "min_version", "client_auth", "ciphers");
        var result = new TlsConfig();
        if (t is null) return result;
        var minVersion = t.Enum("min_version", ["1.2", "1.3"]) switch
        {
            "1.3" => SslProtocols.Tls13,
            _ => SslProtocols.Tls12,
        };
        var acme = ReadAcme(t);
        return result with
        {
            Sites = ReadSites(t, acme),
            Acme = acme,
            MinVersion = minVersion,
            ClientAuth = ReadClientAuth(t),
            Ciphers = t.Enum("ciphers", ["system", "mozilla_intermediate"]) ?? result.Ciphers,
        };
    }

    private static ImmutableArray<TlsSiteConfig> ReadSites(YamlSection t, AcmeConfig acme)
    {
        var sites = ImmutableArray.CreateBuilder<TlsSiteConfig>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var hasDefault = false;
        foreach (var s in t.List("sites", SiteKeys))
        {
            var hosts = ImmutableArray.CreateBuilder<string>();
            foreach (var (host, node) in s.StringList("hosts"))
            {
                var name = host.ToLowerInvariant().TrimEnd('.');
                var bare = name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name;
                if (Uri.CheckHostName(bare) != UriHostNameType.Dns)
                    s.Context.Error(node, s.Join("hosts"), $"'{host}' is not a DNS name; write it like example.com or *.example.com");
                else if (!seen.Add(name))
                    s.Context.Error(node, s.Join("hosts"), $"'{host}' is already in another site; each name gets one certificate");
                else hosts.Add(name);
            }
            var isDefault = s.Bool("default") ?? false;
            if (isDefault && hasDefault) s.Error("default", "only one site can be the default certificate");
            hasDefault |= isDefault;
            if (hosts.Count == 0 && !isDefault) s.Error("hosts", "a site needs hosts (or default: true)");

            var site = new TlsSiteConfig
            {
                Hosts = hosts.ToImmutable(),
                Default = isDefault,
                RedirectHttp = s.Bool("redirect") ?? true,
                HstsIncludeSubdomains = s.Bool("hsts_include_subdomains") ?? false,
            };
            var hsts = s.String("hsts");
            if (hsts is not null && hsts != "off") site = site with { HstsMaxAge = s.Duration("hsts", TimeSpan.Zero) };
            sites.Add(ReadSource(s, site, acme));
        }
        return sites.ToImmutable();
    }

    private static TlsSiteConfig ReadSource(YamlSection s, TlsSiteConfig site, AcmeConfig acme)
    {
        var auto = s.Enum("certificate", ["auto"]) is not null;
        var cert = s.String("cert");
        var key = s.String("key");
        var p12 = s.String("pkcs12");
        var given = (auto ? 1 : 0) + (cert is not null || key is not null ? 1 : 0) + (p12 is not null ? 1 : 0);
        if (given != 1)
        {
            s.Error(given == 0 ? "hosts" : "certificate",
                "give exactly one certificate source: certificate: auto (ACME), cert + key (PEM files), or pkcs12 (+ password)");
            return site;
        }
        if (!auto && s.Has("challenge")) s.Error("challenge", "applies to certificate: auto only (the challenge proves control of the names to the ACME CA)");
        if (auto)
        {
            if (site.Hosts.IsEmpty) s.Error("certificate", "an ACME certificate needs host names; the default certificate must come from files");
            return site with { Source = CertificateSource.Acme, Challenge = ReadChallenge(s, site, acme) };
        }
        if (p12 is not null) return site with { Source = CertificateSource.Pkcs12, Pkcs12File = p12, Password = s.String("password") };
        if (cert is null) s.Error("key", "a PEM key needs its certificate: add cert: /path/to/fullchain.pem");
        if (key is null) s.Error("cert", "a PEM certificate needs its private key: add key: /path/to/key.pem");
        return site with { Source = CertificateSource.PemFiles, CertFile = cert, KeyFile = key };
    }

    /// <summary>
    /// The site's own challenge type, if it has one. Wildcards are always dns-01: CAs validate them
    /// no other way (RFC 8555 §7.1.3; Let's Encrypt offers only dns-01 for them).
    /// </summary>
    private static string? ReadChallenge(YamlSection s, TlsSiteConfig site, AcmeConfig acme)
    {
        var challenge = s.Enum("challenge", ChallengeTypes);
        string? wildcard = null;
        foreach (var h in site.Hosts)
        {
            if (h.StartsWith("*.", StringComparison.Ordinal)) wildcard ??= h;
        }
        if (wildcard is not null && challenge is not null and not "dns-01")
            s.Error("challenge", $"'{wildcard}' is a wildcard, which CAs validate only with dns-01; write challenge: dns-01 or leave it out");
        if (acme.Dns is null && (wildcard is not null || challenge == "dns-01"))
        {
            var what = wildcard is not null ? $"'{wildcard}': wildcard certificates need the dns-01 challenge" : "challenge: dns-01 needs a way to publish TXT records";
            s.Error(wildcard is not null ? "hosts" : "challenge",
                $"{what}; configure tls.acme.dns (provider: rfc2136 or exec, see docs/tls.md \"dns-01\"), or use a certificate file");
        }
        return wildcard is not null ? "dns-01" : challenge;
    }

    private static AcmeConfig ReadAcme(YamlSection t)
    {
        var a = t.Child("acme", [.. AcmeKeys, AcmeEabSection.Key]);
        var d = new AcmeConfig();
        if (a is null) return d;
        var directory = d.Directory;
        var text = a.String("directory");
        if (text is not null)
        {
            var resolved = text switch
            {
                "letsencrypt" => AcmeConfig.LetsEncryptProduction,
                "letsencrypt_staging" => AcmeConfig.LetsEncryptStaging,
                _ => text,
            };
            if (Uri.TryCreate(resolved, UriKind.Absolute, out var uri) && uri.Scheme == "https") directory = uri;
            else a.Error("directory", $"'{text}' is not an https:// ACME directory URL (or letsencrypt, letsencrypt_staging)");
        }
        var challenges = ImmutableArray.CreateBuilder<string>();
        foreach (var (c, node) in a.StringList("challenges"))
        {
            if (Array.IndexOf(ChallengeTypes, c) < 0)
                a.Context.Error(node, a.Join("challenges"), $"'{c}' is not a challenge Portway answers; allowed: {string.Join(", ", ChallengeTypes)}");
            else challenges.Add(c);
        }
        var dns = DnsChallengeSection.Read(a);
        if (dns is null && challenges.Contains("dns-01"))
            a.Error("challenges", "dns-01 needs tls.acme.dns (provider: rfc2136 or exec) to publish its TXT records; see docs/tls.md \"dns-01\"");
        var email = a.String("email");
        if (email is not null && (!email.Contains('@') || email.Contains(':'))) a.Error("email", $"'{email}' is not an email address");
        var tunnelsMode = a.Enum("tunnels", ["true", "false", "wildcard"]);
        return d with
        {
            Eab = AcmeEabSection.Read(a),
            Directory = directory,
            Email = email,
            AgreeTos = a.Bool("agree_tos") ?? false,
            CaRoot = a.String("ca_root"),
            Challenges = challenges.Count > 0 ? challenges.ToImmutable() : d.Challenges,
            KeyType = a.Enum("key_type", ["ecdsa_p256", "rsa_2048"]) ?? d.KeyType,
            Storage = a.String("storage") ?? d.Storage,
            // true: a certificate per tunnel name on demand; wildcard: one dns-01 wildcard per tunnels domain.
            Tunnels = tunnelsMode == "true",
            TunnelsWildcard = tunnelsMode == "wildcard",
            TunnelOrdersPerHour = a.Int("tunnel_orders_per_hour", 1, 10_000) ?? d.TunnelOrdersPerHour,
            RenewAt = a.Double("renew_at", 0.1, 0.95) ?? d.RenewAt,
            RetryMin = a.Duration("retry_min", TimeSpan.FromMilliseconds(100)) ?? d.RetryMin,
            RetryMax = a.Duration("retry_max", TimeSpan.FromSeconds(1)) ?? d.RetryMax,
            PollInterval = a.Duration("poll_interval", TimeSpan.FromMilliseconds(50)) ?? d.PollInterval,
            Dns = dns,
        };
    }

    private static ImmutableArray<ClientAuthConfig> ReadClientAuth(YamlSection t)
    {
        var result = ImmutableArray.CreateBuilder<ClientAuthConfig>();
        foreach (var c in t.List("client_auth", "route", "ca", "header"))
        {
            var route = c.String("route", required: true);
            var ca = c.String("ca", required: true);
            var header = c.String("header") ?? "X-Client-Cert-Subject";
            if (route is not null && ca is not null) result.Add(new ClientAuthConfig(route, ca, header));
        }
        return result.ToImmutable();
    }

    /// <summary>A cluster's <c>tls:</c> block for its https:// destinations.</summary>
    public static UpstreamTlsConfig? ReadUpstream(YamlSection cluster)
    {
        var u = cluster.Child("tls", "ca", "server_name", "client_cert", "client_key", "insecure");
        if (u is null) return null;
        var result = new UpstreamTlsConfig
        {
            CaFile = u.String("ca"),
            ServerName = u.String("server_name"),
            ClientCertFile = u.String("client_cert"),
            ClientKeyFile = u.String("client_key"),
            Insecure = u.Bool("insecure") ?? false,
        };
        if (result.ServerName is { } sni && Uri.CheckHostName(sni) != UriHostNameType.Dns)
            u.Error("server_name", $"'{sni}' is not a DNS name");
        if ((result.ClientCertFile is null) != (result.ClientKeyFile is null))
            u.Error(result.ClientCertFile is null ? "client_key" : "client_cert", "client_cert and client_key go together (PEM files)");
        if (result.Insecure && result.CaFile is not null) u.Error("insecure", "insecure skips validation, so ca would be ignored; set one or the other");
        return result;
    }

    /// <summary>Checks against the rest of the file: https listeners need certificates, client_auth names real routes.</summary>
    /// <summary>
    /// tunnels: wildcard, spelled out: a <c>*.DOMAIN</c> site over dns-01 for every tunnel domain no
    /// site covers yet, so the store, renewal, redirects and the agents' URLs treat it like any site.
    /// </summary>
    public static PortwayConfig WithTunnelWildcards(PortwayConfig config)
    {
        if (!config.Tls.Acme.TunnelsWildcard || config.Tls.Acme.Dns is null) return config;
        var sites = config.Tls.Sites.Items.ToBuilder();
        foreach (var domain in config.Tunnels.Domains)
        {
            var wildcard = "*." + domain;
            if (domain == "localhost" || config.Tls.Sites.Any(s => s.Hosts.Contains(wildcard))) continue;
            sites.Add(new TlsSiteConfig { Hosts = [wildcard], Source = CertificateSource.Acme, Challenge = "dns-01" });
        }
        return config with { Tls = config.Tls with { Sites = sites.ToImmutable() } };
    }

    public static void CrossCheck(PortwayConfig config, YamlSection top)
    {
        var https = false;
        foreach (var l in config.Listeners) https |= l.Url.Scheme == "https";
        if (https && config.Tls.Sites.IsEmpty && !config.Tls.Acme.TunnelsWildcard) // a wildcard mode adds its sites
            top.Error("listeners", "an https:// listener needs certificates: add tls.sites (files or certificate: auto); see docs/tls.md");
        var tls = top.Child("tls", "sites", "acme", "min_version", "client_auth", "ciphers");
        var needsAcme = false;
        foreach (var s in config.Tls.Sites) needsAcme |= s.Source == CertificateSource.Acme;
        if ((needsAcme || config.Tls.Acme.Tunnels || config.Tls.Acme.TunnelsWildcard) && !config.Tls.Acme.AgreeTos && tls is not null)
            tls.Error("acme", $"ACME needs acme.agree_tos: true (read the CA's terms first: {config.Tls.Acme.Directory})");
        if (tls is null) return;
        if (config.Tls.Acme.TunnelsWildcard && tls.Child("acme", AcmeKeys) is { } acme)
        {
            if (config.Tls.Acme.Dns is null)
                acme.Error("tunnels", "wildcard needs tls.acme.dns: CAs validate wildcard certificates only with dns-01 (see docs/tls.md); or use tunnels: true for a certificate per name");
            else if (!config.Tunnels.Domains.Any(d => d != "localhost"))
                acme.Error("tunnels", "wildcard needs a tunnel domain: set tunnels.domains, e.g. [tunnels.example.com] (localhost names need no certificate)");
        }
        foreach (var c in config.Tls.ClientAuth)
        {
            var found = false;
            foreach (var r in config.Routes) found |= string.Equals(r.Id, c.RouteId, StringComparison.OrdinalIgnoreCase);
            if (!found) tls.Error("client_auth", $"unknown route '{c.RouteId}'; client_auth names a route id from routes:");
        }
    }
}
