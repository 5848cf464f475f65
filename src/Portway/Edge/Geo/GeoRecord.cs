using MaxMind.Db;

namespace Portway.Edge.Geo;

/// <summary>
/// The fields Portway reads from a GeoLite2/GeoIP2 record, by their standard names: country.iso_code
/// and continent.code (Country and City databases), autonomous_system_number (ASN databases). The
/// reader decodes only these and skips the rest of the record (names in many languages, cities,
/// subdivisions), so a City database costs no more per lookup than a Country one.
/// </summary>
internal sealed class GeoRecord
{
    [Constructor]
    public GeoRecord(
        [MapKey("country")] GeoCode? country,
        [MapKey("continent")] GeoCode? continent,
        [MapKey("autonomous_system_number")] long? asn)
    {
        Country = country?.Value;
        Continent = continent?.Value;
        Asn = asn;
    }

    public string? Country { get; }
    public string? Continent { get; }
    public long? Asn { get; }
}

/// <summary>A country's iso_code or a continent's code.</summary>
internal sealed class GeoCode
{
    [Constructor]
    public GeoCode([MapKey("iso_code")] string? isoCode, [MapKey("code")] string? code) => Value = isoCode ?? code;

    public string? Value { get; }
}
