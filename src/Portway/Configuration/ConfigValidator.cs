using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using YamlDotNet.RepresentationModel;

namespace Portway.Configuration;

/// <summary>Checks that need the whole file: references between sections.</summary>
internal static class ConfigValidator
{
    public static void CrossCheck(PortwayConfig config, YamlSection top, ConfigContext context)
    {
        var clusterIds = config.Clusters.Select(c => c.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var routeNodes = top.Raw("routes") as YamlSequenceNode;
        for (var i = 0; i < config.Routes.Length; i++)
        {
            var route = config.Routes[i];
            if (route.ClusterId.Length == 0 || clusterIds.Contains(route.ClusterId)) continue;
            var node = routeNodes is not null && i < routeNodes.Children.Count && routeNodes.Children[i] is YamlMappingNode m
                && m.Children.TryGetValue(new YamlScalarNode("cluster"), out var c) ? c : routeNodes;
            var hint = Nearest.Find(route.ClusterId, clusterIds);
            var known = clusterIds.Count == 0 ? "no clusters are defined" : $"defined clusters: {string.Join(", ", clusterIds)}";
            context.Error(node, $"routes[{i}].cluster",
                $"unknown cluster '{route.ClusterId}'{(hint is null ? "" : $" (did you mean '{hint}'?)")}; {known}");
        }
        CheckTunnelDestinations(config, top, context);
        CheckOwnPaths(config, routeNodes, context);
    }

    /// <summary>
    /// A rule's own paths (oidc's callback) must be ones the route matches: the provider's
    /// redirect back to a path the route does not cover goes to another route or a 404, and the
    /// login can never finish. The route's rules and its cluster's are checked; global and tunnel
    /// rules see every path.
    /// </summary>
    private static void CheckOwnPaths(PortwayConfig config, YamlSequenceNode? routeNodes, ConfigContext context)
    {
        for (var i = 0; i < config.Routes.Length; i++)
        {
            var route = config.Routes[i];
            if (route.Path is null || routeNodes?.Children.ElementAtOrDefault(i) is not YamlMappingNode node
                || !node.Children.TryGetValue(new YamlScalarNode("match"), out var m) || m is not YamlMappingNode match) continue;
            var cluster = config.Clusters.FirstOrDefault(c => string.Equals(c.Id, route.ClusterId, StringComparison.OrdinalIgnoreCase));
            var rules = route.Rules.Select(r => (Rule: r, Whose: "the route's"))
                .Concat(cluster?.Rules.Select(r => (Rule: r, Whose: $"cluster '{cluster.Id}''s")) ?? []);
            TemplateMatcher matcher;
            try
            {
                matcher = new TemplateMatcher(TemplateParser.Parse(route.Path), new RouteValueDictionary());
            }
            catch (ArgumentException)
            {
                continue; // a pattern the router rejects is reported by the route's own validation
            }
            var key = match.Children.ContainsKey(new YamlScalarNode("path")) ? "path" : "path_prefix";
            var written = match.Children[new YamlScalarNode(key)];
            var under = route.Path.Split('{')[0].TrimEnd('/');
            foreach (var (rule, whose) in rules)
            {
                foreach (var (name, path) in rule.OwnPaths)
                {
                    if (matcher.TryMatch(path, new RouteValueDictionary())) continue;
                    var example = under + path;
                    var hint = under.Length > 0 && matcher.TryMatch(example, new RouteValueDictionary()) ? $" (e.g. {name}: {example})" : "";
                    context.Error(written, $"routes[{i}].match.{key}",
                        $"'{(written as YamlScalarNode)?.Value}' does not match {path}, the {name} of {whose} {rule.Kind} rule, so those requests would never reach the rule; set {name} to a path under this one{hint} or widen the match");
                }
            }
        }
    }

    /// <summary>
    /// A cluster's tunnel destinations: tunnels must be on, and once tokens exist the name must be
    /// one a token reserves, or any agent allowed that name by a pattern could take the cluster's traffic.
    /// </summary>
    private static void CheckTunnelDestinations(PortwayConfig config, YamlSection top, ConfigContext context)
    {
        var tunnels = config.Tunnels;
        var reserved = tunnels.Tokens.SelectMany(t => t.ReservedNames).ToHashSet(StringComparer.Ordinal);
        var clusterNodes = top.Raw("clusters") as YamlSequenceNode;
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
    private static (YamlNode?, string) TunnelNode(YamlNode? cluster, string name, string key)
    {
        if (cluster is not YamlMappingNode m
            || !m.Children.TryGetValue(new YamlScalarNode("destinations"), out var list)
            || list is not YamlSequenceNode seq) return (cluster, key);
        var tunnelKey = new YamlScalarNode("tunnel");
        for (var j = 0; j < seq.Children.Count; j++)
        {
            if (seq.Children[j] is YamlMappingNode d && d.Children.TryGetValue(tunnelKey, out var value)
                && value is YamlScalarNode { Value: { } v } && v == name)
                return (value, $"{key}[{j}].tunnel");
        }
        return (list, key);
    }
}
