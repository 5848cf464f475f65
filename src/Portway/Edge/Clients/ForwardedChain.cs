using System.Net;
using Microsoft.Extensions.Primitives;

namespace Portway.Edge.Clients;

/// <summary>
/// Reads the hops a request passed through from <c>Forwarded</c> (RFC 7239) or
/// <c>X-Forwarded-For</c>, left (the first client) to right (the proxy nearest to us). A hop that
/// names no usable address — RFC 7239's <c>unknown</c> or an obfuscated <c>_name</c> (§6.2, §6.3), an
/// element without <c>for=</c>, or text that is not an address — is kept as null rather than failing
/// the whole header: a proxy appends to whatever its client sent, so garbage on the left is the
/// visitor's and must not decide anything; only a null the walk in <see cref="ClientAddress"/>
/// actually reaches makes it fall back to the peer.
/// </summary>
internal static class ForwardedChain
{
    /// <summary>X-Forwarded-For: comma-separated addresses, over one or several header lines (in order).</summary>
    public static void ReadXForwardedFor(StringValues values, List<IPAddress?> hops)
    {
        foreach (var value in values)
        {
            if (value is null) continue;
            var rest = value.AsSpan();
            while (true)
            {
                var comma = rest.IndexOf(',');
                var item = comma < 0 ? rest : rest[..comma];
                hops.Add(ParseNode(item.Trim()));
                if (comma < 0) break;
                rest = rest[(comma + 1)..];
            }
        }
    }

    /// <summary>Forwarded: elements separated by commas, each <c>pair;pair</c>; the hop is the <c>for</c> pair's node (RFC 7239 §4).</summary>
    public static void ReadForwarded(StringValues values, List<IPAddress?> hops)
    {
        foreach (var value in values)
        {
            if (value is null) continue;
            var start = 0;
            var quoted = false;
            for (var i = 0; i <= value.Length; i++)
            {
                if (i < value.Length)
                {
                    var c = value[i];
                    if (c == '\\' && quoted) { i++; continue; }
                    if (c == '"') quoted = !quoted;
                    if (c != ',' || quoted) continue;
                }
                hops.Add(ForOf(value.AsSpan(start, i - start)));
                start = i + 1;
            }
        }
    }

    /// <summary>The address of one Forwarded element's <c>for</c> pair; null when it has none (§5.2: the parameter names are case-insensitive).</summary>
    private static IPAddress? ForOf(ReadOnlySpan<char> element)
    {
        while (element.Length > 0)
        {
            var semicolon = IndexOutsideQuotes(element, ';');
            var pair = (semicolon < 0 ? element : element[..semicolon]).Trim();
            var equals = pair.IndexOf('=');
            if (equals > 0 && pair[..equals].Trim().Equals("for", StringComparison.OrdinalIgnoreCase))
            {
                var node = pair[(equals + 1)..].Trim();
                if (node.Length >= 2 && node[0] == '"' && node[^1] == '"') node = node[1..^1];
                // A node holds no character that needs a quoted-pair; one that does is not an address.
                return node.Contains('\\') ? null : ParseNode(node);
            }
            if (semicolon < 0) break;
            element = element[(semicolon + 1)..];
        }
        return null;
    }

    private static int IndexOutsideQuotes(ReadOnlySpan<char> text, char separator)
    {
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && quoted) { i++; continue; }
            if (text[i] == '"') quoted = !quoted;
            else if (text[i] == separator && !quoted) return i;
        }
        return -1;
    }

    /// <summary>
    /// One node: <c>192.0.2.60</c>, <c>192.0.2.60:4711</c>, <c>2001:db8::17</c>, <c>[2001:db8::17]</c> or
    /// <c>[2001:db8::17]:4711</c> (RFC 7239 §6; X-Forwarded-For writers use the same shapes). The port is dropped.
    /// </summary>
    internal static IPAddress? ParseNode(ReadOnlySpan<char> node)
    {
        if (node.Length == 0) return null;
        if (node[0] == '[')
        {
            var close = node.IndexOf(']');
            if (close < 0) return null;
            var after = node[(close + 1)..];
            if (after.Length > 0 && (after[0] != ':' || !IsPort(after[1..]))) return null;
            return IPAddress.TryParse(node[1..close], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? v6 : null;
        }
        var colon = node.IndexOf(':');
        if (colon >= 0 && node.LastIndexOf(':') == colon)
        {
            // One colon: IPv4 with a port (an IPv6 address has at least two).
            if (!IsPort(node[(colon + 1)..])) return null;
            node = node[..colon];
        }
        if (!IPAddress.TryParse(node, out var address)) return null;
        // IPAddress.TryParse takes shorthand like "1" or "10.1" as IPv4; a proxy writes four parts.
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && node.Count('.') != 3) return null;
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    private static bool IsPort(ReadOnlySpan<char> text)
    {
        if (text.Length is 0 or > 5) return false;
        foreach (var c in text)
        {
            if (c is < '0' or > '9') return false;
        }
        return true;
    }
}
