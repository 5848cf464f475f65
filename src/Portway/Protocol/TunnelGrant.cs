namespace Portway.Protocol;

/// <summary>
/// What the edge gave, one per requested tunnel:
/// <c>Portway-Grant: ID; name=NAME; url=URL[; http=URL][; https=URL][; https_pending=REASON]</c>.
/// <c>url</c> is the one URL to show (https when the edge serves it, else http); <c>http</c> and
/// <c>https</c> list every form the edge really serves for the name, so the agent prints a line for
/// each; <c>https_pending</c> (percent-encoded) says why https is not served yet. For TCP tunnels
/// the name is the port and the URL is tcp://HOST:PORT. The edge sends the same header again in a
/// grants update (protocol.md message 11) when a certificate arrives or an order fails.
/// </summary>
internal sealed record TunnelGrant(string Id, string Name, string Url, string? Http = null, string? Https = null, string? HttpsPending = null)
{
    public string ToHeaderValue() => HeaderParameters.Format(Id, ("name", Name), ("url", Url), ("http", Http), ("https", Https),
        ("https_pending", HttpsPending is null ? null : Uri.EscapeDataString(HttpsPending)));

    /// <summary>Every URL the edge serves for the tunnel, https first; the plain url when the edge sent no list.</summary>
    public IEnumerable<string> ServedUrls()
    {
        if (Https is null && Http is null)
        {
            yield return Url;
            yield break;
        }
        if (Https is not null) yield return Https;
        if (Http is not null) yield return Http;
    }

    public static bool TryParse(string value, out TunnelGrant grant)
    {
        grant = null!;
        if (!HeaderParameters.TryParse(value, out var id, out var p) || !p.TryGetValue("name", out var name) || !p.TryGetValue("url", out var url)) return false;
        p.TryGetValue("http", out var http);
        p.TryGetValue("https", out var https);
        var pending = p.TryGetValue("https_pending", out var encoded) ? Uri.UnescapeDataString(encoded) : null;
        grant = new TunnelGrant(id, name, url, http, https, pending);
        return true;
    }
}
