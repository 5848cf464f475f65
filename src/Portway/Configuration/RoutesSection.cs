using System.Collections.Immutable;

namespace Portway.Configuration;

internal static class RoutesSection
{
    internal static readonly string[] HeaderModes = ["exact", "prefix", "contains", "exists", "not_exists"];
    internal static readonly string[] QueryModes = ["exact", "prefix", "contains", "exists"];
    internal static readonly string[] TransformKinds =
        ["request_header_set", "request_header_remove", "response_header_set", "response_header_remove", "path_remove_prefix", "path_set", "path_prefix"];
    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"];

    public static ImmutableArray<RouteConfig> Read(YamlSection top)
    {
        var result = ImmutableArray.CreateBuilder<RouteConfig>();
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var index = 0;
        foreach (var r in top.List("routes", "id", "match", "cluster", "order", "timeout", "transforms", "cache", "access", "rules"))
        {
            var id = r.String("id") ?? $"route{index}";
            index++;
            if (!ids.Add(id)) r.Error("id", $"duplicate route id '{id}'; route ids must be unique");
            var cluster = r.String("cluster", required: true) ?? "";
            var match = r.Child("match", "hosts", "path", "path_prefix", "methods", "headers", "query", "geo");
            var route = new RouteConfig
            {
                Id = id,
                ClusterId = cluster,
                Order = r.Int("order", -100_000, 100_000),
                Timeout = r.Duration("timeout", TimeSpan.FromMilliseconds(1)),
                Transforms = ReadTransforms(r),
                Cache = CacheSection.ReadRoute(r),
                Rules = [.. AccessSection.Read(r), .. RulesSection.Read(r)],
            };
            if (match is not null) route = ReadMatch(match, route);
            result.Add(route);
        }
        return result.ToImmutable();
    }

    private static RouteConfig ReadMatch(YamlSection m, RouteConfig route)
    {
        var hosts = ImmutableArray.CreateBuilder<string>();
        foreach (var (host, _) in m.StringList("hosts"))
        {
            // A '*.' prefix is a wildcard for one or more labels, as in YARP and nginx's server_name.
            var bare = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
            var hostOnly = bare.Contains(':') && !bare.StartsWith('[') ? bare[..bare.LastIndexOf(':')] : bare;
            if (bare.Length == 0 || Uri.CheckHostName(hostOnly) == UriHostNameType.Unknown)
                m.Error("hosts", $"'{host}' is not a host name; write it like example.com, *.example.com or example.com:8080");
            else hosts.Add(host.ToLowerInvariant());
        }

        string? path = null;
        var pattern = m.String("path");
        var prefix = m.String("path_prefix");
        if (pattern is not null && prefix is not null) m.Error("path_prefix", "set either path (a pattern) or path_prefix, not both");
        if (pattern is not null)
        {
            if (!pattern.StartsWith('/')) m.Error("path", $"'{pattern}' must start with '/', e.g. /api/{{**rest}}");
            else path = pattern;
        }
        else if (prefix is not null)
        {
            if (!prefix.StartsWith('/')) m.Error("path_prefix", $"'{prefix}' must start with '/', e.g. /api");
            else path = prefix.TrimEnd('/') + "/{**portway-rest}";
        }

        var methods = ImmutableArray.CreateBuilder<string>();
        foreach (var (method, _) in m.StringList("methods"))
        {
            var upper = method.ToUpperInvariant();
            if (Array.IndexOf(Methods, upper) < 0) m.Error("methods", $"'{method}' is not an HTTP method; allowed: {string.Join(", ", Methods)}");
            else methods.Add(upper);
        }

        var headers = ImmutableArray.CreateBuilder<HeaderMatchConfig>();
        foreach (var h in m.List("headers", "name", "values", "mode"))
        {
            var name = h.String("name", required: true);
            var mode = h.Enum("mode", HeaderModes) ?? (h.Has("values") ? "exact" : "exists");
            var values = h.StringList("values").Select(v => v.Value).ToImmutableArray();
            if (values.Length == 0 && mode is not ("exists" or "not_exists")) h.Error("values", $"mode '{mode}' needs at least one value");
            if (name is not null) headers.Add(new HeaderMatchConfig(name, values, mode));
        }

        var query = ImmutableArray.CreateBuilder<QueryMatchConfig>();
        foreach (var q in m.List("query", "name", "values", "mode"))
        {
            var name = q.String("name", required: true);
            var mode = q.Enum("mode", QueryModes) ?? (q.Has("values") ? "exact" : "exists");
            var values = q.StringList("values").Select(v => v.Value).ToImmutableArray();
            if (values.Length == 0 && mode is not "exists") q.Error("values", $"mode '{mode}' needs at least one value");
            if (name is not null) query.Add(new QueryMatchConfig(name, values, mode));
        }

        return route with
        {
            Hosts = hosts.ToImmutable(),
            Path = path,
            Methods = methods.ToImmutable(),
            Headers = headers.ToImmutable(),
            Query = query.ToImmutable(),
            Geo = m.StringList("geo").Select(g => g.Value).ToImmutableArray(),
        };
    }

    private static ImmutableArray<TransformConfig> ReadTransforms(YamlSection r)
    {
        var result = ImmutableArray.CreateBuilder<TransformConfig>();
        foreach (var t in r.List("transforms", "kind", "name", "value"))
        {
            var kind = t.Enum("kind", TransformKinds, required: true);
            if (kind is null) continue;
            var needsName = kind.Contains("header", StringComparison.Ordinal);
            var name = t.String("name", required: needsName) ?? "";
            var value = t.String("value");
            if (kind is "request_header_set" or "response_header_set" or "path_remove_prefix" or "path_set" or "path_prefix" && value is null)
                t.Error("value", $"transform '{kind}' needs a value");
            result.Add(new TransformConfig(kind, name, value));
        }
        return result.ToImmutable();
    }
}
