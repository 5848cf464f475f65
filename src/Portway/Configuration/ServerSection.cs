using System.Collections.Immutable;
using System.Net;

namespace Portway.Configuration;

/// <summary>Server-wide sections: forwarded headers, limits and the access log.</summary>
internal static class ServerSection
{
    public static ForwardedConfig ReadForwarded(YamlSection top)
    {
        var f = top.Child("forwarded", "trusted_proxies", "x_forwarded", "forwarded", "request_id_header");
        var result = new ForwardedConfig();
        if (f is null) return result;
        var trusted = ImmutableArray.CreateBuilder<IPNetwork>();
        foreach (var (text, node) in f.StringList("trusted_proxies"))
        {
            if (ConfigValues.TryParseNetwork(text, out var network)) trusted.Add(network);
            else f.Context.Error(node, f.Join("trusted_proxies"), $"'{text}' is not an address or CIDR; write it like 10.0.0.0/8, 192.168.1.7 or ::1/128");
        }
        return result with
        {
            TrustedProxies = trusted.ToImmutable(),
            XForwarded = f.Bool("x_forwarded") ?? true,
            Forwarded = f.Bool("forwarded") ?? true,
            RequestIdHeader = f.String("request_id_header") ?? result.RequestIdHeader,
        };
    }

    public static LimitsConfig ReadLimits(YamlSection top)
    {
        var l = top.Child("limits", "max_request_header_bytes", "max_request_body_bytes", "max_request_line_bytes",
            "max_connections", "min_data_rate", "min_data_rate_grace", "request_headers_timeout", "keep_alive_timeout");
        var d = new LimitsConfig();
        if (l is null) return d;
        return d with
        {
            MaxRequestHeaderBytes = Positive(l, "max_request_header_bytes") ?? d.MaxRequestHeaderBytes,
            MaxRequestBodyBytes = Positive(l, "max_request_body_bytes") ?? d.MaxRequestBodyBytes,
            MaxRequestLineBytes = Positive(l, "max_request_line_bytes") ?? d.MaxRequestLineBytes,
            MaxConnections = l.Long("max_connections", 1, 10_000_000) ?? d.MaxConnections,
            MinDataRateBytesPerSecond = l.Size("min_data_rate") ?? d.MinDataRateBytesPerSecond,
            // Kestrel requires a grace period of more than 1 s.
            MinDataRateGrace = l.Duration("min_data_rate_grace", TimeSpan.FromSeconds(2)) ?? d.MinDataRateGrace,
            RequestHeadersTimeout = l.Duration("request_headers_timeout", TimeSpan.FromSeconds(1)) ?? d.RequestHeadersTimeout,
            KeepAliveTimeout = l.Duration("keep_alive_timeout", TimeSpan.FromSeconds(1)) ?? d.KeepAliveTimeout,
        };
    }

    private static long? Positive(YamlSection s, string key)
    {
        var v = s.Size(key);
        if (v is <= 0)
        {
            s.Error(key, "must be greater than zero");
            return null;
        }
        return v;
    }

    public static AccessLogConfig ReadAccessLog(YamlSection top)
    {
        var a = top.Child("access_log", "enabled", "target");
        if (a is null) return new AccessLogConfig();
        return new AccessLogConfig { Enabled = a.Bool("enabled") ?? true, Target = a.String("target") ?? "stdout" };
    }
}
