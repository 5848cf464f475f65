namespace Portway.Configuration;

/// <summary>Checks that need the whole file: references between sections.</summary>
internal static class ConfigValidator
{
    public static void CrossCheck(PortwayConfig config, YamlSection top, ConfigContext context)
    {
        var clusterIds = config.Clusters.Select(c => c.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var routeNodes = top.Raw("routes") as YamlDotNet.RepresentationModel.YamlSequenceNode;
        for (var i = 0; i < config.Routes.Length; i++)
        {
            var route = config.Routes[i];
            if (route.ClusterId.Length == 0 || clusterIds.Contains(route.ClusterId)) continue;
            var node = routeNodes is not null && i < routeNodes.Children.Count && routeNodes.Children[i] is YamlDotNet.RepresentationModel.YamlMappingNode m
                && m.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode("cluster"), out var c) ? c : routeNodes;
            var hint = Nearest.Find(route.ClusterId, clusterIds);
            var known = clusterIds.Count == 0 ? "no clusters are defined" : $"defined clusters: {string.Join(", ", clusterIds)}";
            context.Error(node, $"routes[{i}].cluster",
                $"unknown cluster '{route.ClusterId}'{(hint is null ? "" : $" (did you mean '{hint}'?)")}; {known}");
        }
        CheckTunnelDestinations(config, top, context);
    }

    /// <summary>
    /// A cluster's tunnel destinations: tunnels must be on, and once tokens exist the name must be
    /// one a token reserves, or any agent allowed that name by a pattern could take the cluster's traffic.
    /// </summary>
    private static void CheckTunnelDestinations(PortwayConfig config, YamlSection top, ConfigContext context)
    {
        var tunnels = config.Tunnels;
        var reserved = tunnels.Tokens.SelectMany(t => t.ReservedNames).ToHashSet(StringComparer.Ordinal);
        var clusterNodes = top.Raw("clusters") as YamlDotNet.RepresentationModel.YamlSequenceNode;
        for (var i = 0; i < config.Clusters.Length; i++)
        {
            var cluster = config.Clusters[i];
            foreach (var d in cluster.Destinations)
            {
                if (d.Tunnel is not { } name) continue;
                var (node, key) = TunnelNode(clusterNodes?.Children.ElementAtOrDefault(i), name, $"clusters[{i}].destinations");
                if (!tunnels.Enabled)
                    context.Error(node ?? clusterNodes, key, $"tunnel '{name}' needs tunnels; tunnels.enabled is false");
                else if (tunnels.Tokens.Length > 0 && !reserved.Contains(name))
                    context.Error(node ?? clusterNodes, key,
                        $"tunnel '{name}' is not in any token's reserved_names; reserve it (tunnels.tokens[].reserved_names) so only its owner's agents receive this cluster's traffic");
            }
        }
    }

    /// <summary>Where a destination's tunnel: NAME is written, for the error's line and column.</summary>
    private static (YamlDotNet.RepresentationModel.YamlNode?, string) TunnelNode(YamlDotNet.RepresentationModel.YamlNode? cluster, string name, string key)
    {
        if (cluster is not YamlDotNet.RepresentationModel.YamlMappingNode m
            || !m.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode("destinations"), out var list)
            || list is not YamlDotNet.RepresentationModel.YamlSequenceNode seq) return (cluster, key);
        var tunnelKey = new YamlDotNet.RepresentationModel.YamlScalarNode("tunnel");
        for (var j = 0; j < seq.Children.Count; j++)
        {
            if (seq.Children[j] is YamlDotNet.RepresentationModel.YamlMappingNode d && d.Children.TryGetValue(tunnelKey, out var value)
                && value is YamlDotNet.RepresentationModel.YamlScalarNode { Value: { } v } && v == name)
                return (value, $"{key}[{j}].tunnel");
        }
        return (list, key);
    }
}
