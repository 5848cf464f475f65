namespace Portway.Protocol;

/// <summary>
/// What an agent asks for, one per tunnel, sent as <c>Portway-Tunnel: KIND; id=ID[; name=N][; resume=N][; port=P]</c>.
/// <c>Id</c> is the agent's own label for the tunnel (grants refer to it). <c>Name</c> is a
/// requested name (the token must allow it); <c>Resume</c> is a name the edge gave this agent
/// before (after an edge restart it is granted again when free); <c>Port</c> likewise for TCP.
/// <c>Policy</c> is the agent's policy file as written (<c>--policy</c>), sent as <c>policy=</c>
/// base64url of its UTF-8 text: an alphabet with no header delimiters, so any YAML travels intact.
/// </summary>
internal sealed record TunnelRequest(TunnelKind Kind, string Id, string? Name = null, string? Resume = null, int? Port = null, string? Policy = null)
{
    public string ToHeaderValue() => HeaderParameters.Format(Kind == TunnelKind.Http ? "http" : "tcp",
        ("id", Id), ("name", Name), ("resume", Resume), ("port", Port?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("policy", Policy is null ? null : System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.UTF8.GetBytes(Policy))));

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
        string? policy = null;
        if (p.TryGetValue("policy", out var encoded))
        {
            // Decoded size bounded before decoding: base64 grows 4/3, so this caps what is allocated.
            if (encoded.Length > 16 * 1024 || !System.Buffers.Text.Base64Url.IsValid(encoded))
            {
                error = "policy is not base64url text of at most 8 KiB";
                return false;
            }
            try
            {
                policy = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(System.Buffers.Text.Base64Url.DecodeFromChars(encoded));
            }
            catch (System.Text.DecoderFallbackException)
            {
                error = "policy is not UTF-8 text";
                return false;
            }
        }
        request = new TunnelRequest(kind, id, name?.ToLowerInvariant(), resume?.ToLowerInvariant(), port, policy);
        error = "";
        return true;
    }
}
