using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing.Matching;
using Portway.Edge.Settings;

namespace Portway.Edge.Routing;

/// <summary>
/// routes[].match.geo as an ASP.NET Core matcher policy, the way YARP matches headers and query
/// parameters: a route with match.geo ranks before the same route without it, and a client in
/// none of its regions makes it invalid, so the request falls through to the next route that
/// matches (an EU route before a catch-all). It composes with hosts, path, methods, headers and
/// with tunnel routes, since it only ever removes geo routes from the candidates.
/// </summary>
internal sealed class GeoMatcherPolicy(GeoResolver geo) : MatcherPolicy, IEndpointComparerPolicy, IEndpointSelectorPolicy
{
    // After the built-in host/method policies and YARP's header and query ones (they filter first,
    // and cheaply); a geo lookup is the costliest check, done last and only for surviving candidates.
    public override int Order => 1_000;

    public IComparer<Endpoint> Comparer { get; } = new GeoComparer();

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            if (endpoint.Metadata.GetMetadata<GeoRouteMetadata>() is not null) return true;
        }
        return false;
    }

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var looked = false;
        Geo.GeoRegionSet regions = default;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!candidates.IsValidCandidate(i)) continue;
            var metadata = candidates[i].Endpoint.Metadata.GetMetadata<GeoRouteMetadata>();
            if (metadata is null) continue;
            if (!looked)
            {
                regions = geo.RegionsOf(httpContext);
                looked = true;
            }
            if ((regions.Mask & metadata.MaskIn(regions.Table)) == 0) candidates.SetValidity(i, false);
        }
        if (looked) KeepFirstListed(candidates);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Two equally specific geo routes (same score) can both hold a client in two regions; ASP.NET
    /// Core would answer that with an ambiguous-match 500. The one listed first in routes[] wins,
    /// as the first matching server block or ACL does in nginx and HAProxy; <c>order</c> still
    /// decides between routes that set it (they differ in score).
    /// </summary>
    private static void KeepFirstListed(CandidateSet candidates)
    {
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!candidates.IsValidCandidate(i) || candidates[i].Endpoint.Metadata.GetMetadata<GeoRouteMetadata>() is not { } mine) continue;
            for (var j = 0; j < candidates.Count; j++)
            {
                if (j == i || !candidates.IsValidCandidate(j) || candidates[j].Score != candidates[i].Score) continue;
                if (candidates[j].Endpoint.Metadata.GetMetadata<GeoRouteMetadata>() is { } other && other.Index < mine.Index)
                {
                    candidates.SetValidity(i, false);
                    break;
                }
            }
        }
    }

    /// <summary>Endpoints with geo metadata first (EndpointMetadataComparer's rule), so an equally specific route without it is the fallback.</summary>
    private sealed class GeoComparer : EndpointMetadataComparer<GeoRouteMetadata>;
}
