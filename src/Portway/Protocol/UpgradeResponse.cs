namespace Portway.Protocol;

/// <summary>The edge's answer to a link request: 101 with grants, or a refusal with a message.</summary>
internal sealed class UpgradeResponse
{
    public required int StatusCode { get; init; }
    public required string Reason { get; init; }
    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }
    /// <summary>The refusal's plain-text body (empty for 101).</summary>
    public string Body { get; init; } = "";
    /// <summary>For 101: the link, with any bytes read past the response head put back in front.</summary>
    public Stream? Link { get; init; }

    public string? Header(string name)
    {
        foreach (var (k, v) in Headers)
        {
            if (k.Equals(name, StringComparison.OrdinalIgnoreCase)) return v;
        }
        return null;
    }

    public IEnumerable<string> HeaderValues(string name)
    {
        foreach (var (k, v) in Headers)
        {
            if (k.Equals(name, StringComparison.OrdinalIgnoreCase)) yield return v;
        }
    }
}
