namespace Portway.Protocol;

/// <summary>
/// The parameter syntax of the Portway-Tunnel and Portway-Grant headers: a leading token, then
/// <c>; key=value</c> pairs (the shape of RFC 9110 §5.6.6 parameters, without quoting: every value
/// used here is a name, a number or a URL, none of which contain ';', ',' or spaces).
/// </summary>
internal static class HeaderParameters
{
    public static bool TryParse(string value, out string head, out Dictionary<string, string> parameters)
    {
        parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var parts = value.Split(';', StringSplitOptions.TrimEntries);
        head = parts[0];
        if (head.Length == 0 || !IsPlain(head)) return false;
        for (var i = 1; i < parts.Length; i++)
        {
            if (parts[i].Length == 0) continue;
            var eq = parts[i].IndexOf('=');
            if (eq <= 0) return false;
            var key = parts[i][..eq].Trim();
            var v = parts[i][(eq + 1)..].Trim();
            if (!IsPlain(key) || !IsPlain(v) || !parameters.TryAdd(key, v)) return false;
        }
        return true;
    }

    public static string Format(string head, params (string Key, string? Value)[] parameters)
    {
        var text = head;
        foreach (var (key, value) in parameters)
        {
            if (string.IsNullOrEmpty(value)) continue;
            if (!IsPlain(value)) throw new ArgumentException($"'{value}' cannot be sent in a header parameter", nameof(parameters));
            text += $"; {key}={value}";
        }
        return text;
    }

    private static bool IsPlain(string s)
    {
        foreach (var c in s)
        {
            if (c is <= ' ' or > '~' or ';' or ',' or '"') return false;
        }
        return true;
    }
}
