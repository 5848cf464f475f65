using Microsoft.AspNetCore.Builder;
using Portway.Edge.Geo;
using YarpRoute = Yarp.ReverseProxy.Configuration.RouteConfig;

namespace Portway.Edge.Routing;

/// <summary>
/// Endpoint metadata of a route with match.geo: the regions its clients must be in. The names
/// travel in YARP's route metadata (<see cref="Key"/>) because that is what YARP compares to
/// decide whether to rebuild a route's endpoint; a reload that changes only match.geo rebuilds it.
/// The value is <c>INDEX:REGION,REGION</c>, INDEX being the route's place in the file (region names
/// hold neither ':' nor ',').
/// </summary>
internal sealed class GeoRouteMetadata(int index, string[] regions)
{
    public const string Key = "portway-geo";

    private Resolved? _resolved;

    /// <summary>The route's position in routes[]: among equally specific geo routes a client matches, the first listed wins.</summary>
    public int Index { get; } = index;

    public IReadOnlyList<string> Regions { get; } = regions;

    public static string Value(int index, IEnumerable<string> regions) =>
        index.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + string.Join(',', regions);

    /// <summary>
    /// The route's regions as bits of <paramref name="table"/>; worked out once per table (the
    /// table changes on reload, the endpoint may outlive it by a few requests), not per request.
    /// </summary>
    public ulong MaskIn(GeoTable table)
    {
        var resolved = _resolved;
        if (resolved is not null && ReferenceEquals(resolved.Table, table)) return resolved.Mask;
        ulong mask = 0;
        foreach (var region in Regions) mask |= table.BitOf(region);
        _resolved = new Resolved(table, mask);
        return mask;
    }

    /// <summary>YARP's endpoint convention: adds the metadata to the endpoint of a route that carries <see cref="Key"/>.</summary>
    public static void AddTo(IEndpointConventionBuilder endpoint, YarpRoute route)
    {
        if (route.Metadata is not null && route.Metadata.TryGetValue(Key, out var value) && value.IndexOf(':') is > 0 and var colon
            && int.TryParse(value.AsSpan(0, colon), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
        {
            var metadata = new GeoRouteMetadata(index, value[(colon + 1)..].Split(','));
            endpoint.Add(builder => builder.Metadata.Add(metadata));
        }
    }

    private sealed record Resolved(GeoTable Table, ulong Mask);
}
