using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Rules;

/// <summary>
/// What one rate limit counts by: the <c>key</c> of a <c>rate_limit</c> rule, one part or a tuple
/// of parts, turned into the partition name of a request. A request that lacks a part (no such
/// header, no user, not a tunnel) is never lumped with every other such request into one shared
/// limiter: it is counted by its client address, passed, or refused (<c>missing_key</c>).
/// </summary>
internal sealed class RateLimitKey
{
    private enum Source { ClientIp, Route, Header, Claim, TunnelToken }

    [ThreadStatic]
    private static StringBuilder? t_builder;

    private readonly Source[] _sources;
    private readonly string[] _names;
    private readonly bool _fallBackToAddress;

    public RateLimitKey(IReadOnlyList<string> parts, string missingKey)
    {
        _sources = new Source[parts.Count];
        _names = new string[parts.Count];
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            (_sources[i], _names[i]) = part switch
            {
                "client_ip" => (Source.ClientIp, ""),
                "route" => (Source.Route, ""),
                "tunnel_token" => (Source.TunnelToken, ""),
                _ when part.StartsWith("header:", StringComparison.Ordinal) => (Source.Header, part[7..]),
                _ => (Source.Claim, part[6..]),
            };
        }
        _fallBackToAddress = missingKey == "client_ip";
    }

    public static bool IsValid(string key) => key switch
    {
        "client_ip" or "route" or "tunnel_token" => true,
        _ when key.StartsWith("header:", StringComparison.Ordinal) => key.Length > 7 && IsToken(key.AsSpan(7)),
        _ when key.StartsWith("claim:", StringComparison.Ordinal) => key.Length > 6,
        _ => false,
    };

    /// <summary>
    /// The request's partition: the client's <see cref="IPAddress"/> for the usual key, the address
    /// alone; else a name, and false when a part is missing and <c>missing_key</c> is allow or deny
    /// (the caller decides). Parts are joined by a line feed, which no header value can hold
    /// (RFC 9110 §5.5), each tagged '=' for a value or '@' for the client address standing in for a
    /// missing one, so a header that spells an address never shares the keyless client's limiter.
    /// </summary>
    public bool TryGet(RuleRequest request, out object partition)
    {
        // The address itself is the partition (it hashes and compares its bytes, and never equals
        // a name, the partition of the other keys): no text per request.
        if (_sources.Length == 1 && _sources[0] == Source.ClientIp && request.Client is { } address)
        {
            partition = address;
            return true;
        }
        var sb = t_builder ??= new StringBuilder(64);
        sb.Clear();
        for (var i = 0; i < _sources.Length; i++)
        {
            if (i > 0) sb.Append('\n');
            var value = Value(request, _sources[i], _names[i]);
            if (!string.IsNullOrEmpty(value))
            {
                sb.Append('=').Append(value);
                continue;
            }
            if (!_fallBackToAddress)
            {
                partition = "";
                return false;
            }
            sb.Append('@').Append(request.Client?.ToString());
        }
        partition = sb.ToString();
        // A header value can be long; the builder is per thread and must not keep it.
        if (sb.Capacity > 1024) t_builder = null;
        return true;
    }

    private static string? Value(RuleRequest request, Source source, string name) => source switch
    {
        Source.ClientIp => request.Client?.ToString(),
        // The route's id: one limiter per route, also when the rule is global or a cluster's.
        Source.Route => request.RouteId,
        Source.Header => request.HttpContext.Request.Headers[name].ToString(),
        // The validated token's claims (a jwt rule before this one); an anonymous user has none.
        Source.Claim => request.User.FindFirst(name)?.Value,
        _ => TunnelToken(request.HttpContext),
    };

    /// <summary>The name of the tunnels.tokens entry the request's tunnel dialed with; null off tunnels.</summary>
    private static string? TunnelToken(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config.Metadata is { } metadata
        && metadata.TryGetValue(TunnelMetadata.Token, out var token) ? token : null;

    private static bool IsToken(ReadOnlySpan<char> name)
    {
        foreach (var c in name)
        {
            if (c <= ' ' || c >= 127 || "\"(),/:;<=>?@[\\]{}".Contains(c)) return false;
        }
        return true;
    }
}
