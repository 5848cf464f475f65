using System.Collections.Immutable;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Portway.Configuration;

/// <summary>
/// Reads geo: (databases, regions) and checks routes[].match.geo against the regions. Each
/// database file is opened here, at load and at every reload, so a missing or corrupt file is a
/// config error at its entry, never a surprise at the first request.
/// </summary>
internal static partial class GeoSection
{
    /// <summary>MaxMind's continent codes (continent.code in GeoLite2/GeoIP2 Country and City).</summary>
    internal static readonly string[] Continents = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"];

    public static GeoConfig Read(YamlSection top)
    {
        var g = top.Child("geo", "databases", "regions");
        if (g is null) return new GeoConfig();
        var databases = ImmutableArray.CreateBuilder<GeoDatabaseConfig>();
        foreach (var (path, node) in g.StringList("databases"))
        {
            if (GeoDatabaseCheck.Check(path) is { } problem) g.Context.Error(node, g.Join("databases"), problem);
            else
            {
                var info = new FileInfo(path);
                databases.Add(new GeoDatabaseConfig(path, info.Length, info.LastWriteTimeUtc.Ticks));
            }
        }
        return new GeoConfig { Databases = databases.ToImmutable(), Regions = ReadRegions(g, databases.Count > 0) };
    }

    private static ImmutableArray<GeoRegionConfig> ReadRegions(YamlSection g, bool haveDatabase)
    {
        var result = ImmutableArray.CreateBuilder<GeoRegionConfig>();
        var raw = g.Raw("regions");
        if (raw is null) return result.ToImmutable();
        if (raw is not YamlMappingNode map)
        {
            g.Error("regions", "must be a mapping of region name to members, e.g. eu: [continent:EU, CH, 10.1.0.0/16]");
            return result.ToImmutable();
        }
        var names = map.Children.Keys.Select(k => (k as YamlScalarNode)?.Value ?? "").ToArray();
        // Every name is known here: a region's name is the operator's choice, not a key to check.
        var regions = new YamlSection(g.Context, map, g.Join("regions"), names);
        if (names.Length > GeoConfig.MaxRegions)
            g.Error("regions", $"{names.Length} regions; at most {GeoConfig.MaxRegions} are allowed");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (keyNode, _) in map.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? "";
            var key = regions.Join(name);
            if (!RegionName().IsMatch(name))
            {
                g.Context.Error(keyNode, key, $"'{name}' is not a region name; use letters, digits, '-' and '_', e.g. eu or us-east");
                continue;
            }
            // match.geo compares names case-insensitively, so 'eu' and 'EU' would be one region twice.
            if (!seen.Add(name))
            {
                g.Context.Error(keyNode, key, $"region '{name}' is defined twice (names are compared ignoring case); merge the two lists");
                continue;
            }
            var countries = ImmutableArray.CreateBuilder<string>();
            var continents = ImmutableArray.CreateBuilder<string>();
            var asns = ImmutableArray.CreateBuilder<long>();
            var networks = ImmutableArray.CreateBuilder<System.Net.IPNetwork>();
            var members = regions.StringList(name);
            if (members.Count == 0) regions.Error(name, "a region needs at least one member: a country code (DE), continent:EU, asn:13335 or a CIDR (10.0.0.0/8)");
            foreach (var (member, node) in members)
            {
                var needsDatabase = true;
                if (member.StartsWith("continent:", StringComparison.OrdinalIgnoreCase))
                {
                    var code = member["continent:".Length..].ToUpperInvariant();
                    if (Array.IndexOf(Continents, code) >= 0) continents.Add(code);
                    else
                    {
                        var hint = Nearest.Find(code, Continents);
                        needsDatabase = false;
                        g.Context.Error(node, key, $"'{member}': unknown continent{(hint is null ? "" : $" (did you mean 'continent:{hint}'?)")}; allowed: {string.Join(", ", Continents)}");
                    }
                }
                else if (member.StartsWith("asn:", StringComparison.OrdinalIgnoreCase))
                {
                    if (uint.TryParse(member.AsSpan(4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var asn)) asns.Add(asn);
                    else
                    {
                        needsDatabase = false;
                        g.Context.Error(node, key, $"'{member}' is not an AS number; write it like asn:13335");
                    }
                }
                else if (member.Length == 2 && char.IsAsciiLetter(member[0]) && char.IsAsciiLetter(member[1]))
                {
                    countries.Add(member.ToUpperInvariant());
                }
                else if (ConfigValues.TryParseNetwork(member, out var network))
                {
                    networks.Add(network);
                    needsDatabase = false;
                }
                else
                {
                    g.Context.Error(node, key, $"'{member}' is not a region member; write a country code (DE), continent:EU, asn:13335, or an address or CIDR (10.0.0.0/8, 2001:db8::/32)");
                    needsDatabase = false;
                }
                if (needsDatabase && !haveDatabase)
                    g.Context.Error(node, key, $"'{member}' needs a MaxMind database: list a GeoLite2/GeoIP2 Country, City or ASN .mmdb in geo.databases (networks work without one)");
            }
            result.Add(new GeoRegionConfig
            {
                Name = name,
                Countries = countries.ToImmutable(),
                Continents = continents.ToImmutable(),
                Asns = asns.ToImmutable(),
                Networks = networks.ToImmutable(),
            });
        }
        return result.ToImmutable();
    }

    /// <summary>routes[].match.geo names regions geo.regions defines; an unknown one is reported with the nearest known name.</summary>
    public static void CrossCheck(PortwayConfig config, YamlSection top, ConfigContext context)
    {
        var known = config.Geo.Regions.Select(r => r.Name).ToArray();
        var routeNodes = top.Raw("routes") as YamlSequenceNode;
        for (var i = 0; i < config.Routes.Length; i++)
        {
            foreach (var name in config.Routes[i].Geo)
            {
                if (known.Contains(name, StringComparer.OrdinalIgnoreCase)) continue;
                var hint = Nearest.Find(name, known);
                var list = known.Length == 0 ? "geo.regions defines none" : $"defined regions: {string.Join(", ", known)}";
                context.Error(GeoNode(routeNodes, i, name) ?? routeNodes, $"routes[{i}].match.geo",
                    $"unknown region '{name}'{(hint is null ? "" : $" (did you mean '{hint}'?)")}; {list}");
            }
        }
    }

    private static YamlNode? GeoNode(YamlSequenceNode? routes, int index, string name)
    {
        if (routes is null || index >= routes.Children.Count || routes.Children[index] is not YamlMappingNode route
            || !route.Children.TryGetValue(new YamlScalarNode("match"), out var match) || match is not YamlMappingNode m
            || !m.Children.TryGetValue(new YamlScalarNode("geo"), out var geo)) return null;
        if (geo is YamlSequenceNode seq)
            return seq.Children.FirstOrDefault(c => c is YamlScalarNode s && s.Value == name) ?? geo;
        return geo;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex RegionName();
}
