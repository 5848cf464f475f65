using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Portway.Http;

/// <summary>
/// RFC 9110 §7.6.1: the fields a received message's Connection field names are about that one
/// connection; an intermediary removes them (and Connection itself) before forwarding. YARP
/// already drops Connection and the fixed hop-by-hop names (Keep-Alive, Proxy-Connection, TE,
/// Transfer-Encoding, Upgrade); this removes the fields Connection names, which YARP forwards.
/// Shared by the edge's forwarder and the agent's, which both copy an upstream response.
/// </summary>
internal static class ConnectionOptions
{
    /// <summary>
    /// Removes from <paramref name="forwarded"/> each field the Connection field of
    /// <paramref name="received"/> names. Allocates nothing when there is no Connection field.
    /// </summary>
    public static void RemoveNamedFields(HttpResponseMessage received, IHeaderDictionary forwarded)
    {
        if (!received.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var lines)) return;
        foreach (var line in lines) RemoveNamedFields(line, forwarded);
    }

    /// <summary>The same for the trailers already copied to the client's response (§7.6.1 names trailer fields too).</summary>
    public static void RemoveNamedTrailers(HttpResponseMessage received, HttpContext context)
    {
        if (!received.Headers.NonValidated.TryGetValues(HeaderNames.Connection, out var lines)) return;
        if (context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is not { } trailers) return;
        foreach (var line in lines) RemoveNamedFields(line, trailers);
    }

    /// <summary>One Connection field line: <c>#connection-option</c>, tokens in a comma list (§7.6.1, §5.6.1).</summary>
    public static void RemoveNamedFields(ReadOnlySpan<char> line, IHeaderDictionary forwarded)
    {
        foreach (var range in line.Split(','))
        {
            var option = line[range].Trim(" \t");
            // "close" and "keep-alive" name no field anyone sends; skip the lookup.
            if (option.Length == 0 || option.Equals("close", StringComparison.OrdinalIgnoreCase) || option.Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
                continue;
            forwarded.Remove(option.ToString());
        }
    }
}
