using System.Collections.Immutable;
using System.Net;
using Portway.Configuration;
using Portway.Protocol;

namespace Portway.Agent;

/// <summary>
/// Validation shared by the CLI flags and the agent config file, so `portway http 3000 --basic-auth u:p`
/// and the same tunnel in a file are checked by the same code and give the same messages.
/// Each parser returns null and sets <c>error</c> to "what is wrong; what to write instead".
/// </summary>
internal static class AgentTunnelSpec
{
    /// <summary>PORT, HOST:PORT or a URL (http/https for HTTP tunnels). A bare port means localhost.</summary>
    public static Uri? ParseTarget(TunnelKind kind, string text, out string error)
    {
        error = "";
        text = text.Trim();
        var example = kind == TunnelKind.Http ? "3000, localhost:3000 or http://127.0.0.1:3000" : "22 or localhost:5432";
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port))
        {
            if (port is >= 1 and <= 65535) return new Uri($"{(kind == TunnelKind.Http ? "http" : "tcp")}://localhost:{port}");
            error = $"'{text}' is not a port (1-65535); write {example}";
            return null;
        }
        if (!text.Contains("://", StringComparison.Ordinal)) text = (kind == TunnelKind.Http ? "http://" : "tcp://") + text;
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Host.Length > 0 && uri.AbsolutePath == "/" && uri.Query.Length == 0)
        {
            if (kind == TunnelKind.Http && uri.Scheme is "http" or "https") return uri;
            if (kind == TunnelKind.Tcp && uri.Scheme == "tcp" && uri.Port > 0) return uri;
        }
        error = $"'{text}' is not a local address; write {example}";
        return null;
    }

    public static (string User, string Password)? ParseBasicAuth(string text, out string error)
    {
        error = "";
        var colon = text.IndexOf(':');
        if (colon > 0 && colon < text.Length - 1) return (text[..colon], text[(colon + 1)..]);
        error = $"'{text}' is not USER:PASSWORD (both non-empty; the first ':' separates them)";
        return null;
    }

    public static IPNetwork? ParseCidr(string text, out string error)
    {
        error = "";
        if (ConfigValues.TryParseNetwork(text.Trim(), out var network)) return network;
        error = $"'{text}' is not an address or CIDR; write it like 10.0.0.0/8, 192.168.1.7 or ::1/128";
        return null;
    }

    /// <summary>"Name: value" (the colon form curl -H uses).</summary>
    public static (string Name, string Value)? ParseHeader(string text, out string error)
    {
        error = "";
        var colon = text.IndexOf(':');
        if (colon > 0)
        {
            var name = text[..colon].Trim();
            if (IsToken(name)) return (name, text[(colon + 1)..].Trim());
        }
        error = $"'{text}' is not a header; write it like \"X-Env: dev\"";
        return null;
    }

    public static string? ParseHeaderName(string text, out string error)
    {
        error = "";
        if (IsToken(text.Trim())) return text.Trim();
        error = $"'{text}' is not a header name; write it like X-Powered-By";
        return null;
    }

    /// <summary>"rewrite", or a host[:port] to send as Host.</summary>
    public static string? ParseHostHeader(string text, out string error)
    {
        error = "";
        if (text == "rewrite") return text;
        if (Uri.CheckHostName(text.Split(':')[0]) != UriHostNameType.Unknown && text.IndexOfAny([' ', '/', '\r', '\n']) < 0) return text;
        error = $"'{text}' is neither 'rewrite' nor a host name; write --host-header rewrite or --host-header example.com";
        return null;
    }

    public static string? ParseName(string text, out string error)
    {
        error = "";
        var lower = text.Trim().ToLowerInvariant();
        if (TunnelNames.IsValid(lower)) return lower;
        error = $"'{text}' is not a tunnel name: {TunnelNames.Rule}";
        return null;
    }

    /// <summary>
    /// A --policy file, read and checked with the edge's own readers before anything is dialed, so
    /// a mistake is a located error here rather than a refusal from the edge. Null with the
    /// problems in <paramref name="errors"/> (each file:line:column: key: what is wrong).
    /// </summary>
    public static string? ReadPolicy(string path, List<ConfigError> errors)
    {
        try
        {
            var text = YamlFile.ReadText(path);
            PolicyDocument.Parse(text, path);
            return text;
        }
        catch (ConfigException e)
        {
            errors.AddRange(e.Errors);
            return null;
        }
    }

    /// <summary>ADDR (host:port or a port) for the inspector, or "false" to turn it off.</summary>
    public static bool TryParseInspect(string text, out IPEndPoint? endpoint, out string error)
    {
        error = "";
        endpoint = null;
        if (text is "false" or "off" or "no") return true;
        if (int.TryParse(text, out var port) && port is > 0 and < 65536)
        {
            endpoint = new IPEndPoint(IPAddress.Loopback, port);
            return true;
        }
        var t = text.StartsWith("localhost:", StringComparison.Ordinal) ? "127.0.0.1" + text[9..] : text;
        if (IPEndPoint.TryParse(t, out var ep) && ep.Port > 0)
        {
            endpoint = ep;
            return true;
        }
        error = $"'{text}' is not an address; write --inspect 127.0.0.1:4040 or --inspect false";
        return false;
    }

    private static bool IsToken(string s)
    {
        if (s.Length == 0) return false;
        foreach (var c in s)
        {
            // RFC 9110 §5.6.2 tchar
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))) return false;
        }
        return true;
    }

    public static ImmutableArray<T> Collect<T>(IEnumerable<string> values, Func<string, (bool Ok, T Value, string Error)> parse, Action<string> report)
    {
        var builder = ImmutableArray.CreateBuilder<T>();
        foreach (var v in values)
        {
            var (ok, value, error) = parse(v);
            if (ok) builder.Add(value);
            else report(error);
        }
        return builder.ToImmutable();
    }
}
