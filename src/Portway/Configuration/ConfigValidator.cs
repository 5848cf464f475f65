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
    }
}
