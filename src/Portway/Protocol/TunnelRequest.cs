namespace Portway.Protocol;

/// <summary>
/// What an agent asks for, one per tunnel, sent as <c>Portway-Tunnel: KIND; id=ID[; name=N][; resume=N][; port=P]</c>.
/// <c>Id</c> is the agent's own label for the tunnel (grants refer to it). <c>Name</c> is a
/// requested name (the token must allow it); <c>Resume</c> is a name the edge gave this agent
/// before (after an edge restart it is granted again when free); <c>Port</c> likewise for TCP.
/// </summary>
internal sealed record TunnelRequest(TunnelKind Kind, string Id, string? Name = null, string? Resume = null, int? Port = null)
{
    public string ToHeaderValue() => HeaderParameters.Format(Kind == TunnelKind.Http ? "http" : "tcp",
        ("id", Id), ("name", Name), ("resume", Resume), ("port", Port?.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public static bool TryParse(string value, out TunnelRequest request, out string error)
    {
        request = null!;
        if (!HeaderParameters.TryParse(value, out var head, out var p))
        {
            error = $"'{value}' is not KIND; key=value; …";
            return false;
        }
        TunnelKind kind;
        if (head.Equals("http", StringComparison.OrdinalIgnoreCase)) kind = TunnelKind.Http;
        else if (head.Equals("tcp", StringComparison.OrdinalIgnoreCase)) kind = TunnelKind.Tcp;
        else
        {
            error = $"unknown tunnel kind '{head}'; allowed: http, tcp";
            return false;
        }
        if (!p.TryGetValue("id", out var id) || id.Length is 0 or > 64)
        {
            error = "every tunnel needs an id of 1 to 64 characters";
            return false;
        }
        p.TryGetValue("name", out var name);
        p.TryGetValue("resume", out var resume);
        int? port = null;
        if (p.TryGetValue("port", out var portText))
        {
            if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n is < 1 or > 65535)
            {
                error = $"port '{portText}' is not a port number";
                return false;
            }
            port = n;
        }
        request = new TunnelRequest(kind, id, name?.ToLowerInvariant(), resume?.ToLowerInvariant(), port);
        error = "";
        return true;
    }
}
