using System.Net;

namespace Portway.Configuration;

/// <summary>
/// geo: where a client is, for routes[].match.geo (docs/geo.md): MaxMind databases (country,
/// continent, ASN) and named regions made of countries, continents, ASNs and networks.
/// </summary>
internal sealed record GeoConfig
{
    public EquatableArray<GeoDatabaseConfig> Databases { get; init; } = [];
    public EquatableArray<GeoRegionConfig> Regions { get; init; } = [];

    /// <summary>At most this many regions: a client's regions are one bit each in a 64-bit set, so matching allocates nothing.</summary>
    public const int MaxRegions = 64;
}

/// <summary>
/// A .mmdb file as the loader found it. Its size and modification time are part of the value, so
/// a database replaced on disk makes the next reload's config unequal to the running one, and the
/// reload applies it even when the YAML did not change.
/// </summary>
internal sealed record GeoDatabaseConfig(string Path, long Length, long ModifiedTicks);

/// <summary>One region: a client is in it when any member matches (ISO country, continent code, ASN, or a network).</summary>
internal sealed record GeoRegionConfig
{
    public required string Name { get; init; }
    /// <summary>ISO 3166-1 alpha-2 codes, upper case (the databases' country.iso_code).</summary>
    public EquatableArray<string> Countries { get; init; } = [];
    /// <summary>MaxMind continent codes (continent.code): AF, AN, AS, EU, NA, OC, SA.</summary>
    public EquatableArray<string> Continents { get; init; } = [];
    /// <summary>autonomous_system_number values (GeoLite2/GeoIP2 ASN databases).</summary>
    public EquatableArray<long> Asns { get; init; } = [];
    public EquatableArray<IPNetwork> Networks { get; init; } = [];
}
