using System.Collections.Immutable;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Portway.Configuration;

internal static class ListenersSection
{
    internal static readonly string[] ProtocolNames = ["http1", "http2", "http1_and_http2"];

    public static ImmutableArray<ListenerConfig> Read(YamlSection top)
    {
        var result = ImmutableArray.CreateBuilder<ListenerConfig>();
        var names = new HashSet<string>();
        foreach (var item in top.List("listeners", "name", "url", "protocols"))
        {
            var url = ReadUrl(item, "url", required: true);
            var name = item.String("name") ?? url?.Scheme ?? "listener";
            if (!names.Add(name)) item.Error("name", $"duplicate listener name '{name}'; each listener needs its own name");
            // https listeners offer HTTP/2 beside HTTP/1.1 by default: ALPN picks one per connection.
            if (url is not null) result.Add(new ListenerConfig(name, url, ReadProtocols(item, url.Scheme == "https")));
        }
        if (result.Count == 0 && top.Context.Errors.Count == 0) top.Error("listeners", "needs at least one listener, e.g. - url: http://0.0.0.0:8080");
        return result.ToImmutable();
    }

    private static HttpProtocols ReadProtocols(YamlSection item, bool tls) =>
        item.Enum("protocols", ProtocolNames) switch
        {
            "http2" => HttpProtocols.Http2,
            "http1_and_http2" => HttpProtocols.Http1AndHttp2,
            "http1" => HttpProtocols.Http1,
            _ => tls ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1,
        };

    public static AdminConfig ReadAdmin(YamlSection top)
    {
        var admin = top.Child("admin", "url", "enabled");
        if (admin is null) return new AdminConfig();
        if (admin.Bool("enabled") == false) return new AdminConfig { Url = null };
        var url = ReadUrl(admin, "url", required: false);
        return url is null ? new AdminConfig() : new AdminConfig { Url = url };
    }

    /// <summary>A listen URL: http://HOST:PORT where HOST is an address, localhost, * or 0.0.0.0.</summary>
    private static Uri? ReadUrl(YamlSection s, string key, bool required)
    {
        var text = s.String(key, required);
        if (text is null) return null;
        // Uri rejects '*' as a host; treat it like 0.0.0.0 (Kestrel's "any").
        var normalized = text.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var url) || (url.Scheme != "http" && url.Scheme != "https")
            || url.AbsolutePath != "/" || url.Query.Length > 0)
        {
            s.Error(key, $"'{text}' is not a listen URL; write it like http://0.0.0.0:8080, http://127.0.0.1:8080 or https://0.0.0.0:8443");
            return null;
        }
        return url;
    }
}
