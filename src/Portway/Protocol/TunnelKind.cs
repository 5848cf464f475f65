namespace Portway.Protocol;

internal enum TunnelKind
{
    /// <summary>HTTP(S) to a local web server, served at NAME.DOMAIN.</summary>
    Http,

    /// <summary>Raw TCP to a local port, served on a port the edge allocates.</summary>
    Tcp,
}
