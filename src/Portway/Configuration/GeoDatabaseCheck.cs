using MaxMind.Db;

namespace Portway.Configuration;

/// <summary>Opens a .mmdb the way the edge will, to report a missing or unreadable file as a config error.</summary>
internal static class GeoDatabaseCheck
{
    /// <summary>Null when <paramref name="path"/> is a MaxMind database; else what is wrong and what to do.</summary>
    public static string? Check(string path)
    {
        if (!File.Exists(path))
            return $"'{path}': no such file; give the path of a GeoLite2/GeoIP2 Country, City or ASN .mmdb (Portway ships none; see docs/geo.md)";
        try
        {
            // Memory mode, as the edge reads it: the file is copied in, so replacing or rewriting it
            // later cannot change what a running lookup reads.
            using var reader = new Reader(path, FileAccessMode.Memory);
            // A lookup walks the search tree and decodes a record: a truncated tree fails here, not per request.
            reader.Find<Dictionary<string, object>>(System.Net.IPAddress.Parse("1.1.1.1"));
            return null;
        }
        catch (Exception e) when (e is InvalidDatabaseException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            return $"'{path}' is not a readable MaxMind database ({e.Message}); download a fresh GeoLite2/GeoIP2 .mmdb";
        }
    }
}
