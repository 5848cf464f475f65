namespace Portway.Edge.Geo;

/// <summary>A request's regions, looked up once and kept on the HttpContext (with the table they came from: a reload mid-request looks up again).</summary>
internal sealed class GeoRegionsFeature(GeoRegionSet regions)
{
    public GeoRegionSet Regions { get; } = regions;
}
