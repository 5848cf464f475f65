using System.Globalization;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// Reads Portway's settings back out of YARP metadata (written by ProxyConfigMapper). A missing
/// or unparsable value yields the caller's default, which is always the config record's default.
/// </summary>
internal static class MetadataValues
{
    public static int Int(IReadOnlyDictionary<string, string>? metadata, string key, int fallback) =>
        metadata is not null && metadata.TryGetValue(key, out var text)
        && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    public static double Double(IReadOnlyDictionary<string, string>? metadata, string key, double fallback) =>
        metadata is not null && metadata.TryGetValue(key, out var text)
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    public static bool Bool(IReadOnlyDictionary<string, string>? metadata, string key, bool fallback) =>
        metadata is not null && metadata.TryGetValue(key, out var text) && bool.TryParse(text, out var value) ? value : fallback;

    public static string? String(IReadOnlyDictionary<string, string>? metadata, string key) =>
        metadata is not null && metadata.TryGetValue(key, out var text) ? text : null;
}
