using System.Net;

namespace Portway.Configuration;

/// <summary>Reads <c>tls.acme.dns</c> (docs/tls.md, "dns-01"). The TSIG secret never appears in an error.</summary>
internal static class DnsChallengeSection
{
    private static readonly string[] Keys =
    [
        "provider", "server", "zone", "tsig_key_name", "tsig_algorithm", "tsig_secret", "command", "timeout",
        "resolver", "propagation_timeout", "propagation_interval", "ttl",
    ];
    private static readonly string[] Rfc2136Only = ["server", "zone", "tsig_key_name", "tsig_algorithm", "tsig_secret"];
    private static readonly string[] ExecOnly = ["command", "timeout"];
    /// <summary>The HMAC algorithms of RFC 8945 §6 that BIND, Knot and PowerDNS all accept (hmac-md5 is left out on purpose).</summary>
    public static readonly string[] TsigAlgorithms = ["hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha1"];

    public static DnsChallengeConfig? Read(YamlSection acme)
    {
        var d = acme.Child("dns", Keys);
        if (d is null) return null;
        var result = new DnsChallengeConfig();
        var provider = d.Enum("provider", [DnsChallengeConfig.Rfc2136, DnsChallengeConfig.Exec], required: true) ?? result.Provider;
        foreach (var key in provider == DnsChallengeConfig.Rfc2136 ? ExecOnly : Rfc2136Only)
        {
            if (d.Has(key)) d.Error(key, $"applies to provider {(provider == DnsChallengeConfig.Rfc2136 ? DnsChallengeConfig.Exec : DnsChallengeConfig.Rfc2136)} only; this one is {provider}");
        }
        result = result with
        {
            Provider = provider,
            Resolver = HostPort(d, "resolver"),
            PropagationTimeout = d.Duration("propagation_timeout", TimeSpan.FromSeconds(1)) ?? result.PropagationTimeout,
            PropagationInterval = d.Duration("propagation_interval", TimeSpan.FromMilliseconds(100)) ?? result.PropagationInterval,
            Ttl = d.Int("ttl", 0, 86400) ?? result.Ttl,
        };
        return provider == DnsChallengeConfig.Rfc2136 ? ReadRfc2136(d, result) : ReadExec(d, result);
    }

    private static DnsChallengeConfig ReadRfc2136(YamlSection d, DnsChallengeConfig result)
    {
        var server = d.Has("server") ? HostPort(d, "server") : null;
        if (!d.Has("server")) d.Error("server", "provider rfc2136 needs server: the primary that accepts DNS UPDATE, like 192.0.2.53 or ns1.example.com:53");
        var zone = d.String("zone");
        if (zone is not null)
        {
            zone = zone.TrimEnd('.').ToLowerInvariant();
            if (Uri.CheckHostName(zone) != UriHostNameType.Dns) d.Error("zone", $"'{zone}' is not a zone name; write it like example.com");
            else zone += ".";
        }
        var keyName = d.String("tsig_key_name");
        var secret = d.String("tsig_secret");
        if (keyName is null != (secret is null))
            d.Error(keyName is null ? "tsig_secret" : "tsig_key_name", "tsig_key_name and tsig_secret go together (tsig-keygen prints both); leave both out only if the server allows unsigned updates from this address");
        if (secret is not null && !IsBase64(secret))
            d.Error("tsig_secret", "is not base64; copy the secret \"…\" line that tsig-keygen printed (the value is not shown here)");
        return result with
        {
            Server = server,
            Zone = zone,
            TsigKeyName = keyName is null ? null : keyName.TrimEnd('.').ToLowerInvariant() + ".",
            TsigAlgorithm = d.Enum("tsig_algorithm", TsigAlgorithms) ?? result.TsigAlgorithm,
            TsigSecret = secret,
        };
    }

    private static DnsChallengeConfig ReadExec(YamlSection d, DnsChallengeConfig result)
    {
        var command = d.String("command");
        if (command is null) d.Error("command", "provider exec needs command: the program run as COMMAND present|cleanup FQDN VALUE");
        else if (!Path.IsPathFullyQualified(command)) d.Error("command", $"'{command}' must be an absolute path, so the program run does not depend on PATH");
        return result with
        {
            Command = command,
            Timeout = d.Duration("timeout", TimeSpan.FromSeconds(1)) ?? result.Timeout,
        };
    }

    private static string? HostPort(YamlSection d, string key)
    {
        var text = d.String(key);
        if (text is null) return null;
        if (TryParseHostPort(text, out _, out _)) return text;
        d.Error(key, $"'{text}' is not host or host:port (like 127.0.0.1:53, [2001:db8::1]:53 or ns1.example.com)");
        return null;
    }

    /// <summary>"host", "host:port", "[v6]:port" or a bare IPv6 address; the port defaults to 53 (RFC 1035 §4.2).</summary>
    public static bool TryParseHostPort(string text, out string host, out int port)
    {
        host = text;
        port = 53;
        if (IPAddress.TryParse(text, out var ip) && !text.StartsWith('['))
        {
            host = ip.ToString();
            return true;
        }
        var colon = text.LastIndexOf(':');
        if (colon > 0 && (text[0] != '[' || text[colon - 1] == ']'))
        {
            if (!int.TryParse(text.AsSpan(colon + 1), out port) || port is < 1 or > 65535) return false;
            host = text[..colon];
        }
        host = host.Trim('[', ']');
        return host.Length > 0 && (IPAddress.TryParse(host, out _) || Uri.CheckHostName(host) == UriHostNameType.Dns);
    }

    private static bool IsBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) && written > 0;
    }
}
