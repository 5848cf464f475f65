using System.Globalization;
using System.Text.Json;

namespace Portway.Agent.Inspector;

/// <summary>
/// The inspector API's JSON, written by hand with <see cref="Utf8JsonWriter"/> so the shape is
/// exactly what docs/inspector.md shows (snake_case, headers as [name, value] pairs in arrival
/// order, since a header may repeat).
/// </summary>
internal static class InspectorJson
{
    /// <summary>A list row: what the page's table and the event stream need.</summary>
    public static void WriteSummary(Utf8JsonWriter w, CapturedExchange e)
    {
        w.WriteStartObject();
        WriteSummaryFields(w, e);
        w.WriteEndObject();
    }

    public static void WriteDetail(Utf8JsonWriter w, CapturedExchange e)
    {
        w.WriteStartObject();
        WriteSummaryFields(w, e);
        w.WriteStartObject("request");
        WriteHeaders(w, e.RequestHeaders);
        WriteBody(w, e.RequestBody, e.RequestHeaders);
        w.WriteEndObject();
        w.WriteStartObject("response");
        WriteHeaders(w, e.ResponseHeaders);
        WriteBody(w, e.ResponseBody, e.ResponseHeaders);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static void WriteList(Utf8JsonWriter w, CapturedExchange[] entries)
    {
        w.WriteStartObject();
        w.WriteStartArray("requests");
        foreach (var e in entries) WriteSummary(w, e);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteSummaryFields(Utf8JsonWriter w, CapturedExchange e)
    {
        w.WriteNumber("id", e.Id);
        if (e.ReplayOf is { } of) w.WriteNumber("replay_of", of);
        else w.WriteNull("replay_of");
        w.WriteString("tunnel", e.Tunnel);
        w.WriteString("client_ip", e.ClientIp);
        w.WriteString("started", e.Started.ToString("O", CultureInfo.InvariantCulture));
        w.WriteNumber("duration_ms", Math.Round(e.Duration.TotalMilliseconds, 2));
        w.WriteString("method", e.Method);
        w.WriteString("path", e.Target);
        w.WriteNumber("status", e.Status);
        w.WriteNumber("request_size", e.RequestBody.Size);
        w.WriteNumber("response_size", e.ResponseBody.Size);
        w.WriteString("response_type", Find(e.ResponseHeaders, "Content-Type"));
        w.WriteString("error", e.Error);
    }

    private static void WriteHeaders(Utf8JsonWriter w, KeyValuePair<string, string>[] headers)
    {
        w.WriteStartArray("headers");
        foreach (var (name, value) in headers)
        {
            w.WriteStartArray();
            w.WriteStringValue(name);
            w.WriteStringValue(value);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    private static void WriteBody(Utf8JsonWriter w, CapturedBody body, KeyValuePair<string, string>[] headers)
    {
        var view = BodyView.Of(body, Find(headers, "Content-Encoding"));
        w.WriteStartObject("body");
        w.WriteNumber("size", body.Size);
        w.WriteNumber("kept", body.Data.Length);
        w.WriteBoolean("truncated", body.Truncated);
        w.WriteString("content_type", Find(headers, "Content-Type"));
        w.WriteString("decoded_from", view.DecodedFrom);
        if (view.Text is not null) w.WriteString("text", view.Text);
        else w.WriteString("base64", view.Base64);
        w.WriteEndObject();
    }

    public static string? Find(KeyValuePair<string, string>[] headers, string name)
    {
        foreach (var (n, v) in headers)
        {
            if (n.Equals(name, StringComparison.OrdinalIgnoreCase)) return v;
        }
        return null;
    }
}
