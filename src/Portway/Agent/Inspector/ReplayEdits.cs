using System.Text.Json;

namespace Portway.Agent.Inspector;

/// <summary>
/// Optional changes for a replay, from the POST body: <c>{"method": "PUT", "path": "/x?y=1",
/// "headers": [["Name", "value"], …], "body": "text"}</c> (or <c>"body_base64"</c>). Absent fields keep
/// the captured value; <c>headers</c>, when given, replaces all of them.
/// </summary>
internal sealed record ReplayEdits(string? Method, string? Target, KeyValuePair<string, string>[]? Headers, byte[]? Body)
{
    public static readonly ReplayEdits None = new(null, null, null, null);

    /// <summary>Parses the POST body; null and a message saying what to send instead when it is not valid.</summary>
    public static ReplayEdits? Parse(ReadOnlySpan<byte> json, out string error)
    {
        error = "";
        if (json.Trim((byte)' ').IsEmpty) return None;
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "the body must be a JSON object like {\"method\": \"POST\", \"path\": \"/x\", \"headers\": [[\"Name\", \"value\"]], \"body\": \"…\"}";
                return null;
            }
            string? method = null, target = null;
            KeyValuePair<string, string>[]? headers = null;
            byte[]? body = null;
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "method" when p.Value.ValueKind == JsonValueKind.String && IsToken(p.Value.GetString()!):
                        method = p.Value.GetString()!.ToUpperInvariant();
                        break;
                    case "path" when p.Value.ValueKind == JsonValueKind.String && p.Value.GetString()!.StartsWith('/'):
                        target = p.Value.GetString();
                        break;
                    case "headers" when p.Value.ValueKind == JsonValueKind.Array:
                        var list = new List<KeyValuePair<string, string>>();
                        foreach (var pair in p.Value.EnumerateArray())
                        {
                            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2 || pair[0].ValueKind != JsonValueKind.String
                                || pair[1].ValueKind != JsonValueKind.String || !IsToken(pair[0].GetString()!))
                            {
                                error = "headers: each header must be a [\"Name\", \"value\"] pair with a valid name";
                                return null;
                            }
                            list.Add(new(pair[0].GetString()!, pair[1].GetString()!));
                        }
                        headers = [.. list];
                        break;
                    case "body" when p.Value.ValueKind == JsonValueKind.String:
                        body = System.Text.Encoding.UTF8.GetBytes(p.Value.GetString()!);
                        break;
                    case "body_base64" when p.Value.ValueKind == JsonValueKind.String && p.Value.TryGetBytesFromBase64(out var bytes):
                        body = bytes;
                        break;
                    default:
                        error = $"'{p.Name}' is not a replay field or has the wrong type; allowed: method (a token like PUT), path (starting with /), headers ([[name, value], …]), body (text) or body_base64";
                        return null;
                }
            }
            return new ReplayEdits(method, target, headers, body);
        }
        catch (JsonException e)
        {
            error = "the body is not valid JSON: " + e.Message;
            return null;
        }
    }

    private static bool IsToken(string s)
    {
        if (s.Length == 0) return false;
        foreach (var c in s)
        {
            // RFC 9110 §5.6.2 tchar
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))) return false;
        }
        return true;
    }
}
