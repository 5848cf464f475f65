using System.Collections.Immutable;

namespace Portway.Configuration;

internal static class ClustersSection
{
    public static ImmutableArray<ClusterConfig> Read(YamlSection top)
    {
        var result = ImmutableArray.CreateBuilder<ClusterConfig>();
        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var c in top.List("clusters", "id", "destinations", "load_balancing", "hash_on", "health", "timeouts", "retries", "http2", "tls", "rules"))
        {
            var id = c.String("id", required: true) ?? "";
            if (id.Length > 0 && !ids.Add(id)) c.Error("id", $"duplicate cluster id '{id}'; cluster ids must be unique");
            var lb = c.Enum("load_balancing", LoadBalancingNames.All) ?? LoadBalancingNames.RoundRobin;
            var hashOn = c.String("hash_on");
            if (hashOn is not null && !(hashOn == "client_ip" || IsNamed(hashOn, "header:") || IsNamed(hashOn, "cookie:")))
                c.Error("hash_on", $"'{hashOn}' is not allowed; allowed: client_ip, header:NAME, cookie:NAME");
            if (hashOn is not null && lb != LoadBalancingNames.ConsistentHash)
                c.Error("hash_on", "only applies with load_balancing: consistent_hash");

            var cluster = new ClusterConfig
            {
                Id = id,
                LoadBalancing = lb,
                HashOn = lb == LoadBalancingNames.ConsistentHash ? hashOn ?? "client_ip" : null,
                Destinations = ReadDestinations(c),
                Http2ToDestinations = c.Bool("http2") ?? false,
                Tls = TlsSection.ReadUpstream(c),
                Rules = RulesSection.Read(c),
            };
            var timeouts = c.Child("timeouts", "connect", "response");
            if (timeouts is not null)
            {
                cluster = cluster with
                {
                    ConnectTimeout = timeouts.Duration("connect", TimeSpan.FromMilliseconds(1)) ?? cluster.ConnectTimeout,
                    ResponseTimeout = timeouts.Duration("response", TimeSpan.FromMilliseconds(1)) ?? cluster.ResponseTimeout,
                };
            }
            var retries = c.Child("retries", "attempts", "budget_percent", "non_idempotent");
            if (retries is not null)
            {
                cluster = cluster with
                {
                    Retries = new RetryConfig
                    {
                        Attempts = retries.Int("attempts", 1, 10) ?? 2,
                        BudgetPercent = retries.Double("budget_percent", 0, 100) ?? 20,
                        NonIdempotent = retries.Bool("non_idempotent") ?? false,
                    },
                };
            }
            var health = c.Child("health", "active", "passive");
            if (health is not null) cluster = ReadHealth(health, cluster);
            result.Add(cluster);
        }
        return result.ToImmutable();
    }

    private static bool IsNamed(string value, string prefix) =>
        value.StartsWith(prefix, StringComparison.Ordinal) && value.Length > prefix.Length;

    private static ImmutableArray<DestinationConfig> ReadDestinations(YamlSection c)
    {
        var result = ImmutableArray.CreateBuilder<DestinationConfig>();
        var node = c.Raw("destinations");
        if (node is null)
        {
            c.Error("destinations", "is required: a list of server URLs, e.g. - url: http://127.0.0.1:3000");
            return result.ToImmutable();
        }
        var i = 0;
        // Each item is either a bare URL or a mapping {url | tunnel, weight, id}.
        if (node is YamlDotNet.RepresentationModel.YamlSequenceNode seq)
        {
            foreach (var item in seq.Children)
            {
                var at = $"{c.Join("destinations")}[{i}]";
                string? text = null, tunnel = null, id = null;
                int weight = 1;
                YamlSection? section = null;
                if (item is YamlDotNet.RepresentationModel.YamlScalarNode s) text = s.Value;
                else if (item is YamlDotNet.RepresentationModel.YamlMappingNode m)
                {
                    section = new YamlSection(c.Context, m, at, "url", "tunnel", "weight", "id");
                    text = section.String("url");
                    tunnel = section.String("tunnel");
                    weight = section.Int("weight", 0, 1000) ?? 1;
                    id = section.String("id");
                    if (text is null == tunnel is null)
                        c.Context.Error(item, at, "needs exactly one of url (a server) or tunnel (a tunnel name), e.g. url: http://127.0.0.1:3000 or tunnel: laptop");
                }
                else c.Context.Error(item, at, "must be a URL or a mapping with url or tunnel, weight, id");

                if (tunnel is not null && text is null)
                {
                    if (!Protocol.TunnelNames.IsValid(tunnel))
                        c.Context.Error(section!.Raw("tunnel")!, at + ".tunnel", $"'{tunnel}' is not a tunnel name: {Protocol.TunnelNames.Rule}");
                    else
                        result.Add(new DestinationConfig(id ?? $"d{i}", null, weight, tunnel));
                }
                else if (text is not null && tunnel is null)
                {
                    if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != "http" && url.Scheme != "https") || url.Host.Length == 0)
                        c.Context.Error(section?.Raw("url") ?? item, at + ".url", $"'{text}' is not a server URL; write it like http://127.0.0.1:3000 or https://api.internal");
                    else
                        result.Add(new DestinationConfig(id ?? $"d{i}", url, weight));
                }
                i++;
            }
        }
        else c.Error("destinations", "must be a list of server URLs");
        if (result.Count == 0 && i == 0) c.Error("destinations", "needs at least one destination");
        return result.ToImmutable();
    }

    private static ClusterConfig ReadHealth(YamlSection health, ClusterConfig cluster)
    {
        var active = health.Child("active", "path", "interval", "timeout", "expect", "unhealthy_after", "healthy_after");
        if (active is not null)
        {
            var a = new ActiveHealthConfig();
            var path = active.String("path");
            if (path is not null && !path.StartsWith('/')) active.Error("path", $"'{path}' must start with '/'");
            var expect = active.String("expect");
            int min = a.ExpectMin, max = a.ExpectMax;
            if (expect is not null && !TryParseStatusRange(expect, out min, out max))
                active.Error("expect", $"'{expect}' is not a status or range; write it like 200 or 200-399");
            a = a with
            {
                Path = path ?? a.Path,
                Interval = active.Duration("interval", TimeSpan.FromMilliseconds(100)) ?? a.Interval,
                Timeout = active.Duration("timeout", TimeSpan.FromMilliseconds(10)) ?? a.Timeout,
                ExpectMin = min,
                ExpectMax = max,
                UnhealthyAfter = active.Int("unhealthy_after", 1, 100) ?? a.UnhealthyAfter,
                HealthyAfter = active.Int("healthy_after", 1, 100) ?? a.HealthyAfter,
            };
            cluster = cluster with { ActiveHealth = a };
        }
        var passive = health.Child("passive", "consecutive_failures", "ejection");
        if (passive is not null)
        {
            var p = new PassiveHealthConfig();
            cluster = cluster with
            {
                PassiveHealth = p with
                {
                    ConsecutiveFailures = passive.Int("consecutive_failures", 1, 1000) ?? p.ConsecutiveFailures,
                    Ejection = passive.Duration("ejection", TimeSpan.FromMilliseconds(100)) ?? p.Ejection,
                },
            };
        }
        return cluster;
    }

    private static bool TryParseStatusRange(string text, out int min, out int max)
    {
        var parts = text.Split('-');
        min = max = 0;
        if (parts.Length == 1 && int.TryParse(parts[0], out min)) max = min;
        else if (parts.Length != 2 || !int.TryParse(parts[0], out min) || !int.TryParse(parts[1], out max)) return false;
        return min is >= 100 and <= 599 && max >= min && max <= 599;
    }
}
