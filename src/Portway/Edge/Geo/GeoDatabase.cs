using System.Diagnostics.CodeAnalysis;
using System.Net;
using MaxMind.Db;
using Portway.Configuration;

namespace Portway.Edge.Geo;

/// <summary>One opened .mmdb. Read into memory (not mapped), so a file replaced or rewritten on disk never changes, or crashes, a running lookup; a reload opens the new one.</summary>
internal sealed class GeoDatabase
{
    private readonly Reader _reader;

    public GeoDatabase(GeoDatabaseConfig config)
    {
        Config = config;
        try
        {
            _reader = new Reader(config.Path, FileAccessMode.Memory);
        }
        catch (Exception e) when (e is InvalidDatabaseException or IOException or UnauthorizedAccessException)
        {
            // The loader checked this file moments ago; it changed since. The reload reports it and keeps the running config.
            throw new InvalidOperationException($"geo.databases: '{config.Path}' cannot be read ({e.Message})", e);
        }
    }

    public GeoDatabaseConfig Config { get; }

    /// <summary>The record for <paramref name="address"/>, or null when the database has none (or a damaged entry: a lookup never fails a request).</summary>
    // MaxMind.Db finds the [Constructor]s by reflection and carries no trimming annotations: keep them in a trimmed (Native AOT) build.
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(GeoRecord))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(GeoCode))]
    public GeoRecord? Find(IPAddress address)
    {
        try
        {
            return _reader.Find<GeoRecord>(address);
        }
        catch (InvalidDatabaseException)
        {
            return null;
        }
    }
}
