using System.Collections.Frozen;
using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Configuration;
using Portway.Edge.Clients;

namespace Portway.Edge.Geo;

/// <summary>
/// geo: compiled: the opened databases and, per member kind, which regions it belongs to (a
/// 64-bit set each), so a client's regions are one lookup per database plus one pass over the
/// networks, ORed together. Built once per config change beside YARP's lists (EdgeSettings), read
/// per request. A database whose file did not change keeps its opened instance across reloads.
/// </summary>
internal sealed class GeoTable
{
    public static readonly GeoTable Empty = Build(new GeoConfig(), previous: null);

    private readonly GeoDatabase[] _databases;
    private readonly FrozenDictionary<string, int> _index;
    private readonly FrozenDictionary<string, ulong> _countries;
    private readonly FrozenDictionary<string, ulong> _continents;
    private readonly FrozenDictionary<long, ulong> _asns;
    private readonly (IPNetwork Network, ulong Regions)[] _networks;

    /// <summary>Up to this many networks and no database, a client's regions are looked up again rather than kept per request.</summary>
    private const int FewNetworks = 16;

    private GeoTable(GeoConfig source, GeoDatabase[] databases, string[] names, FrozenDictionary<string, ulong> countries,
        FrozenDictionary<string, ulong> continents, FrozenDictionary<long, ulong> asns, (IPNetwork, ulong)[] networks)
    {
        Source = source;
        _databases = databases;
        RegionNames = names;
        _index = names.Select((n, i) => (n, i)).ToFrozenDictionary(p => p.n, p => p.i, StringComparer.OrdinalIgnoreCase);
        _countries = countries;
        _continents = continents;
        _asns = asns;
        _networks = networks;
    }

    public GeoConfig Source { get; }

    /// <summary>geo.regions' names in order; region i is bit i of a <see cref="GeoRegionSet"/>.</summary>
    public string[] RegionNames { get; }

    /// <summary>True when no region is defined: nothing to look up.</summary>
    public bool IsEmpty => RegionNames.Length == 0;

    /// <summary>The bit of the region named <paramref name="region"/>; 0 when the table has no such region.</summary>
    public ulong BitOf(string region) => _index.TryGetValue(region, out var i) ? 1UL << i : 0;

    public static GeoTable Build(GeoConfig config, GeoTable? previous)
    {
        if (previous is not null && previous.Source == config) return previous;
        var databases = new GeoDatabase[config.Databases.Length];
        for (var i = 0; i < databases.Length; i++)
        {
            var wanted = config.Databases[i];
            databases[i] = Array.Find(previous?._databases ?? [], d => d.Config == wanted) ?? new GeoDatabase(wanted);
        }
        var countries = new Dictionary<string, ulong>(StringComparer.OrdinalIgnoreCase);
        var continents = new Dictionary<string, ulong>(StringComparer.OrdinalIgnoreCase);
        var asns = new Dictionary<long, ulong>();
        var networks = new List<(IPNetwork, ulong)>();
        var names = new string[config.Regions.Length];
        for (var i = 0; i < names.Length; i++)
        {
            var region = config.Regions[i];
            var bit = 1UL << i;
            names[i] = region.Name;
            foreach (var c in region.Countries) countries[c] = countries.GetValueOrDefault(c) | bit;
            foreach (var c in region.Continents) continents[c] = continents.GetValueOrDefault(c) | bit;
            foreach (var a in region.Asns) asns[a] = asns.GetValueOrDefault(a) | bit;
            foreach (var n in region.Networks) networks.Add((n, bit));
        }
        return new GeoTable(config, databases, names, countries.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase),
            continents.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), asns.ToFrozenDictionary(), [.. networks]);
    }

    /// <summary>
    /// The regions of the request's client, <paramref name="client"/> (<see cref="ClientAddress"/>). Looked up at most once
    /// per request when a database or a long network list is involved (route matching and rules
    /// may each ask); a few networks are checked again instead, which costs less than keeping the
    /// answer on the request.
    /// </summary>
    public GeoRegionSet RegionsOf(HttpContext context, IPAddress? client)
    {
        if (IsEmpty) return new GeoRegionSet(this, 0);
        if (_databases.Length == 0 && _networks.Length <= FewNetworks) return new GeoRegionSet(this, Lookup(client));
        if (context.Features[typeof(GeoRegionsFeature)] is GeoRegionsFeature cached && ReferenceEquals(cached.Regions.Table, this)) return cached.Regions;
        var regions = new GeoRegionSet(this, Lookup(client));
        context.Features[typeof(GeoRegionsFeature)] = new GeoRegionsFeature(regions);
        return regions;
    }

    /// <summary>The regions of <paramref name="address"/>: every network that contains it, and what each database says of it.</summary>
    public ulong Lookup(IPAddress? address)
    {
        if (address is null) return 0;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        ulong mask = 0;
        foreach (var (network, regions) in _networks)
        {
            if (network.Contains(address)) mask |= regions;
        }
        foreach (var database in _databases)
        {
            if (database.Find(address) is not { } record) continue;
            if (record.Country is { } country && _countries.TryGetValue(country, out var byCountry)) mask |= byCountry;
            if (record.Continent is { } continent && _continents.TryGetValue(continent, out var byContinent)) mask |= byContinent;
            if (record.Asn is { } asn && _asns.TryGetValue(asn, out var byAsn)) mask |= byAsn;
        }
        return mask;
    }
}
