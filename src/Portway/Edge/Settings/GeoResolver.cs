using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Edge.Clients;
using Portway.Edge.Geo;

namespace Portway.Edge.Settings;

/// <summary>
/// The client's geo regions for whatever needs them (route matching by routes[].match.geo; allow
/// and deny rules later): looked up in the <see cref="GeoTable"/> of the snapshot in force, at
/// most once per request, from the client's address (Edge/Clients/ClientAddress).
/// </summary>
internal sealed class GeoResolver(PortwayProxyConfigProvider proxy)
{
    public GeoRegionSet RegionsOf(HttpContext context) => proxy.Settings.Geo.RegionsOf(context, ClientAddress.Of(context));

    /// <summary>The same, for a caller that already holds the client's address (a rule, from its <see cref="RuleRequest"/>).</summary>
    public GeoRegionSet RegionsOf(HttpContext context, IPAddress? client) => proxy.Settings.Geo.RegionsOf(context, client);

    /// <summary>The table in force: for resolving region names once, not per request.</summary>
    public GeoTable Table => proxy.Settings.Geo;
}
