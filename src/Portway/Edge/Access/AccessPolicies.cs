using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Access;

/// <summary>
/// The compiled guards of every route, swapped as a whole when the config changes. A route whose
/// access config did not change keeps its policy object, so its rate-limit buckets survive reloads.
/// </summary>
internal sealed class AccessPolicies : IDisposable
{
    private volatile Dictionary<string, RouteAccessPolicy> _byRoute = new(StringComparer.OrdinalIgnoreCase);

    public AccessPolicies(EdgeState state)
    {
        Build(state.Current);
        state.Changed += Build;
    }

    public bool IsEmpty => _byRoute.Count == 0;

    public RouteAccessPolicy? Get(string routeId) => _byRoute.TryGetValue(routeId, out var p) ? p : null;

    private void Build(PortwayConfig config)
    {
        var old = _byRoute;
        var next = new Dictionary<string, RouteAccessPolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var route in config.Routes)
        {
            if (route.Access is null) continue;
            next[route.Id] = old.TryGetValue(route.Id, out var existing) && existing.Config == route.Access
                ? existing
                : new RouteAccessPolicy(route.Access);
        }
        _byRoute = next;
        foreach (var (id, policy) in old)
        {
            if (!next.TryGetValue(id, out var kept) || !ReferenceEquals(kept, policy)) policy.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var p in _byRoute.Values) p.Dispose();
    }
}
