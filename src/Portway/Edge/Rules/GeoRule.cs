using System.Collections.Immutable;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>geo</c>: allow or deny by the client's regions (geo.regions, docs/geo.md). Deny wins; when
/// <c>allow</c> is set, a client in none of its regions is refused too. The regions come from the
/// same per-request lookup routes[].match.geo uses, so both on one request cost one lookup.
/// </summary>
internal sealed partial class GeoRule : RuleKind<GeoRule.Config>
{
    internal sealed record Config(EquatableArray<string> Allow, EquatableArray<string> Deny) : RuleConfig
    {
        public override string Kind => "geo";
    }

    public override string Name => "geo";

    public override string[] Keys { get; } = ["allow", "deny"];

    public override Config? Read(YamlSection rule)
    {
        if (!rule.Has("allow") && !rule.Has("deny"))
            rule.Context.Error(rule.Node, rule.Path, "checks nothing; give allow and/or deny, e.g. allow: [eu] (regions of geo.regions)");
        return new Config(Regions(rule, "allow"), Regions(rule, "deny"));
    }

    public override Rule Compile(Config config, RuleServices services) => new Check(config, services);

    private static ImmutableArray<string> Regions(YamlSection s, string key)
    {
        var result = ImmutableArray.CreateBuilder<string>();
        var path = s.Join(key);
        foreach (var (name, node) in s.StringList(key))
        {
            result.Add(name);
            // The regions are defined elsewhere in the file (geo.regions): checked once all of it is read.
            s.Context.AfterLoad(config =>
            {
                var known = new string[config.Geo.Regions.Length];
                for (var i = 0; i < known.Length; i++) known[i] = config.Geo.Regions[i].Name;
                if (Array.Exists(known, k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase))) return;
                var hint = Nearest.Find(name, known);
                var list = known.Length == 0 ? "geo.regions defines none" : $"defined regions: {string.Join(", ", known)}";
                s.Context.Error(node, path, $"unknown region '{name}'{(hint is null ? "" : $" (did you mean '{hint}'?)")}; {list}");
            });
        }
        return result.ToImmutable();
    }

    private sealed partial class Check(Config config, RuleServices services) : Rule(config)
    {
        /// <summary>Resolved at the first request (rules are compiled before the host's services exist).</summary>
        private GeoResolver? _geo;

        /// <summary>The allow and deny names as bits of the table in force, worked out again when a reload replaces the table.</summary>
        private Masks? _masks;

        public override Task? OnRequest(RuleRequest request)
        {
            var client = request.Client;
            var regions = (_geo ??= services.Get<GeoResolver>()).RegionsOf(request.HttpContext, client);
            if (IsAllowed(regions)) return null;
            LogDenied(request.Logger, client?.ToString(), request.RouteId);
            var where = regions.IsEmpty ? "not in any region this site knows" : $"in {string.Join(", ", regions.Names())}";
            return ErrorPage.WriteAsync(request.HttpContext, StatusCodes.Status403Forbidden, "Forbidden",
                $"Your address ({client}) is {where}, which may not use this site.",
                "If you should have access, ask the site's operator to add your network to the route's geo rule.");
        }

        private bool IsAllowed(Geo.GeoRegionSet regions)
        {
            var masks = _masks;
            if (masks is null || !ReferenceEquals(masks.Table, regions.Table)) _masks = masks = new Masks(regions.Table, config);
            if ((regions.Mask & masks.Deny) != 0) return false;
            return config.Allow.IsEmpty || (regions.Mask & masks.Allow) != 0;
        }

        /// <summary>Names the table lacks (a reload dropped the region) are no bit: they match no one, as before.</summary>
        private sealed class Masks(Geo.GeoTable? table, Config config)
        {
            public Geo.GeoTable? Table { get; } = table;
            public ulong Allow { get; } = Of(table, config.Allow);
            public ulong Deny { get; } = Of(table, config.Deny);

            private static ulong Of(Geo.GeoTable? table, EquatableArray<string> names)
            {
                ulong mask = 0;
                foreach (var name in names) mask |= table?.BitOf(name) ?? 0;
                return mask;
            }
        }

        [LoggerMessage(EventId = EventIds.GeoDenied, Level = LogLevel.Information, Message = "Denied {Client} on route {Route} by its geo rule")]
        private static partial void LogDenied(ILogger logger, string? client, string route);
    }
}
