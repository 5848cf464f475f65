namespace Portway.Protocol;

/// <summary>
/// What the edge gave, one per requested tunnel: <c>Portway-Grant: ID; name=NAME; url=URL</c>.
/// For TCP tunnels the name is the port and the URL is tcp://HOST:PORT.
/// </summary>
internal sealed record TunnelGrant(string Id, string Name, string Url)
{
    public string ToHeaderValue() => HeaderParameters.Format(Id, ("name", Name), ("url", Url));

    public static bool TryParse(string value, out TunnelGrant grant)
    {
        grant = null!;
        if (!HeaderParameters.TryParse(value, out var id, out var p) || !p.TryGetValue("name", out var name) || !p.TryGetValue("url", out var url)) return false;
        grant = new TunnelGrant(id, name, url);
        return true;
    }
}
