namespace Portway.Edge.Geo;

/// <summary>
/// The regions a client is in: one bit per region of the <see cref="GeoTable"/> it came from. A
/// value type, so asking costs no allocation; names are resolved against that table.
/// </summary>
internal readonly struct GeoRegionSet(GeoTable table, ulong mask)
{
    public GeoTable Table { get; } = table;

    /// <summary>Bit i set = the client is in the table's region i.</summary>
    public ulong Mask { get; } = mask;

    public bool IsEmpty => Mask == 0;

    /// <summary>True when the client is in the region named <paramref name="region"/> (case-insensitive); false for an unknown name.</summary>
    public bool Contains(string region) => Table is not null && Table.BitOf(region) is var bit && (Mask & bit) != 0;

    /// <summary>The regions' names, in the order geo.regions lists them (for logs and rules; allocates).</summary>
    public IReadOnlyList<string> Names()
    {
        var names = new List<string>();
        for (var i = 0; Table is not null && i < Table.RegionNames.Length; i++)
        {
            if ((Mask & (1UL << i)) != 0) names.Add(Table.RegionNames[i]);
        }
        return names;
    }
}
