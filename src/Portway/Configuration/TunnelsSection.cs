using System.Collections.Immutable;

namespace Portway.Configuration;

internal static class TunnelsSection
{
    public static TunnelsConfig Read(YamlSection top)
    {
        var t = top.Child("tunnels", "enabled", "domains", "tokens", "reconnect_grace", "tcp_ports", "browser_warning", "by_name");
        var d = new TunnelsConfig();
        if (t is null) return d;
        var domains = t.StringList("domains").Select(x => x.Value.ToLowerInvariant().TrimStart('.')).ToImmutableArray();
        foreach (var (domain, node) in t.StringList("domains"))
        {
            if (Uri.CheckHostName(domain.TrimStart('.')) != UriHostNameType.Dns)
                t.Context.Error(node, t.Join("domains"), $"'{domain}' is not a DNS name; write it like tunnels.example.com");
        }
        int min = d.TcpPortMin, max = d.TcpPortMax;
        var ports = t.String("tcp_ports");
        if (ports is "0")
        {
            // 0: any free port the OS picks (tests, or an edge that does not care which ports).
            min = max = 0;
        }
        else if (ports is not null)
        {
            var parts = ports.Split('-');
            if (parts.Length != 2 || !int.TryParse(parts[0], out min) || !int.TryParse(parts[1], out max) || min < 1 || max > 65535 || min > max)
                t.Error("tcp_ports", $"'{ports}' is not a port range; write it like 20000-20999 (or 0 for any free port)");
        }
        var tokens = ImmutableArray.CreateBuilder<TunnelTokenConfig>();
        foreach (var tok in t.List("tokens", "name", "sha256", "reserved_names", "allowed_patterns", "max_tunnels", "allow_pooling", "allow_tcp", "https_redirect", "rules", "limits", "browser_warning"))
        {
            var hash = tok.String("sha256", required: true);
            if (hash is not null && (hash.Length != 64 || !hash.All(Uri.IsHexDigit)))
                tok.Error("sha256", "must be the 64-hex-digit SHA-256 of the token; make it with: portway token hash TOKEN");
            tokens.Add(new TunnelTokenConfig
            {
                Name = tok.String("name") ?? $"token{tokens.Count}",
                Sha256 = hash?.ToLowerInvariant() ?? "",
                ReservedNames = tok.StringList("reserved_names").Select(x => x.Value.ToLowerInvariant()).ToImmutableArray(),
                AllowedPatterns = tok.StringList("allowed_patterns").Select(x => x.Value.ToLowerInvariant()).ToImmutableArray(),
                MaxTunnels = tok.Int("max_tunnels", 1, 10_000) ?? 10,
                AllowPooling = tok.Bool("allow_pooling") ?? false,
                AllowTcp = tok.Bool("allow_tcp") ?? true,
                HttpsRedirect = tok.Bool("https_redirect") ?? true,
                Rules = RulesSection.Read(tok),
                Limits = ReadLimits(tok),
                BrowserWarning = tok.Bool("browser_warning"),
            });
        }
        var byName = ImmutableArray.CreateBuilder<TunnelNameRulesConfig>();
        foreach (var entry in t.List("by_name", "names", "rules"))
        {
            var names = entry.StringList("names").Select(x => x.Value.ToLowerInvariant()).ToImmutableArray();
            foreach (var (name, node) in entry.StringList("names"))
            {
                if (name.Count(c => c == '*') > 1 || !name.Replace("*", "a").All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
                    entry.Context.Error(node, entry.Join("names"), $"'{name}' is not a tunnel name or pattern; write it like shop or demo-* (letters, digits, '-', one '*')");
            }
            if (names.IsEmpty) entry.Error("names", "is required: the tunnel names (or patterns like demo-*) these rules are for");
            var rules = RulesSection.Read(entry);
            if (rules.IsEmpty && !entry.Has("rules")) entry.Error("rules", "is required: the rules for these tunnels");
            byName.Add(new TunnelNameRulesConfig(names, rules));
        }
        return d with
        {
            Enabled = t.Bool("enabled") ?? true,
            ByName = byName.ToImmutable(),
            Domains = domains.Length > 0 ? domains : d.Domains,
            Tokens = tokens.ToImmutable(),
            ReconnectGrace = t.Duration("reconnect_grace") ?? d.ReconnectGrace,
            TcpPortMin = min,
            TcpPortMax = max,
            BrowserWarning = t.Bool("browser_warning") ?? false,
        };
    }

    private static TunnelLimitsConfig? ReadLimits(YamlSection token)
    {
        var l = token.Child("limits", "connections", "requests", "per", "bandwidth");
        if (l is null) return null;
        var bandwidth = l.Size("bandwidth");
        // Below 1k a second, one HTTP/2 frame header and a PING would take most of it.
        if (bandwidth is < 1024) l.Error("bandwidth", $"{bandwidth} bytes/s is too little for a link; allowed: 1k or more (bytes per second, like 512k or 10m)");
        if (l.Has("per") && !l.Has("requests")) l.Error("per", "needs requests: how many requests per this period, e.g. requests: 50");
        return new TunnelLimitsConfig
        {
            Connections = l.Int("connections", 1, 1_000_000),
            Requests = l.Int("requests", 1, 10_000_000),
            Per = l.Duration("per", TimeSpan.FromMilliseconds(10)) ?? TimeSpan.FromSeconds(1),
            Bandwidth = bandwidth is < 1024 ? null : bandwidth,
        };
    }
}
