using System.Globalization;
using System.Net;

namespace Portway.Configuration;

/// <summary>Parsing of the small value languages used in the config (durations, sizes, CIDRs).</summary>
internal static class ConfigValues
{
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        var i = 0;
        while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.' || (i == 0 && text[i] == '-'))) i++;
        if (i == 0 || !double.TryParse(text.AsSpan(0, i), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return false;
        double ms;
        switch (text[i..])
        {
            case "ms": ms = n; break;
            case "" or "s": ms = n * 1000; break;
            case "m": ms = n * 60_000; break;
            case "h": ms = n * 3_600_000; break;
            case "d": ms = n * 86_400_000; break;
            default: return false;
        }
        value = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    public static string FormatDuration(TimeSpan d) =>
        d.TotalMilliseconds < 1000 ? $"{d.TotalMilliseconds:0}ms" : $"{d.TotalSeconds:0.###}s";

    public static bool TryParseSize(string text, out long value)
    {
        value = 0;
        text = text.Trim().ToLowerInvariant();
        long mult = 1;
        if (text.EndsWith('b')) text = text[..^1];
        if (text.EndsWith('k')) mult = 1024;
        else if (text.EndsWith('m')) mult = 1024 * 1024;
        else if (text.EndsWith('g')) mult = 1024L * 1024 * 1024;
        if (mult != 1) text = text[..^1];
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return false;
        value = n * mult;
        return true;
    }

    /// <summary>Accepts "10.0.0.0/8", "::1/128" or a bare address (a /32 or /128).</summary>
    public static bool TryParseNetwork(string text, out IPNetwork network)
    {
        if (IPNetwork.TryParse(text, out network)) return true;
        if (IPAddress.TryParse(text, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        return false;
    }
}
