namespace Portway.Edge.Settings;

/// <summary>
/// YARP metadata keys and ids of the routes and clusters that tunnels add. Here rather than in
/// Tunnels/ because the mapper (Routing/) and destination health (Health/) read them too.
/// </summary>
internal static class TunnelMetadata
{
    /// <summary>On tunnel routes, clusters and destinations: the tunnel's name.</summary>
    public const string Name = "Portway.Tunnel";

    /// <summary>On a file cluster's destination that is a tunnel name rather than a server: the name.</summary>
    public const string Destination = "Portway.TunnelDestination";

    /// <summary>On a file cluster with at least one tunnel destination ("true").</summary>
    public const string HasTunnelDestinations = "Portway.HasTunnelDestinations";

    /// <summary>On a tunnel cluster whose token turned the http → https redirect off ("false").</summary>
    public const string NoHttpsRedirect = "Portway.TunnelNoHttpsRedirect";

    /// <summary>On tunnel routes, clusters and destinations of a token's tunnels: the token's name (its rules apply).</summary>
    public const string Token = "Portway.TunnelToken";

    public static string RouteId(string name) => "tunnel:" + name;

    public static string ClusterId(string name) => "tunnel:" + name;

    /// <summary>
    /// Tunnel routes sort before every route of the config file (YARP's default order is 0), so a
    /// catch-all or wildcard route cannot take a tunnel's host by accident. Names that a static
    /// route lists exactly are refused at registration instead (Tunnels/TunnelRegistry).
    /// </summary>
    public const int RouteOrder = -1_000_000;
}
