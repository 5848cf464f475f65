using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Portway.Edge.Clients;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>A buffered delivery as the schemes read it: headers, the exact body bytes, the URL the provider called, the form.</summary>
internal sealed class WebhookRequest(HttpRequest request, byte[] body)
{
    private Dictionary<string, StringValues>? _form;

    public ReadOnlySpan<byte> Body => body;

    public string Method => request.Method;

    /// <summary>The header's value, empty when it is absent.</summary>
    public string Header(string name) => request.Headers[name].ToString();

    /// <summary>
    /// The URL the provider called (Twilio, Square, HubSpot sign it): scheme and host as the
    /// client saw them — a trusted proxy's X-Forwarded-Proto/Host when the client address came
    /// from one, else this connection's — with the path and query as sent.
    /// </summary>
    public string PublicUrl()
    {
        var scheme = request.Scheme;
        var host = request.Host.Value ?? "";
        if (ClientAddress.IsForwarded(request.HttpContext))
        {
            if (First(request.Headers["X-Forwarded-Proto"]) is { Length: > 0 } p) scheme = p;
            if (First(request.Headers["X-Forwarded-Host"]) is { Length: > 0 } h) host = h;
        }
        return $"{scheme}://{host}{request.PathBase}{request.Path}{request.QueryString}";
    }

    /// <summary>The leftmost value: the proxy nearest the client wrote it.</summary>
    private static string First(StringValues values)
    {
        var text = values.ToString();
        var comma = text.IndexOf(',');
        return (comma < 0 ? text : text[..comma]).Trim();
    }

    /// <summary>
    /// The body's fields when it is application/x-www-form-urlencoded or multipart/form-data
    /// (Mailgun posts inbound mail with attachments that way; file parts are skipped); empty
    /// otherwise, and for a multipart body that does not parse.
    /// </summary>
    public Dictionary<string, StringValues> Form()
    {
        if (_form is not null) return _form;
        var type = request.ContentType ?? "";
        if (type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)) _form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
        else if (type.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase)) _form = Multipart(type);
        else _form = [];
        return _form;
    }

    private Dictionary<string, StringValues> Multipart(string contentType)
    {
        var fields = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || HeaderUtilities.RemoveQuotes(media.Boundary).Value is not { Length: > 0 } boundary)
            return fields;
        // The body is already in memory: every read below completes at once, so waiting on it
        // here blocks nothing (the schemes' Verify is synchronous).
        var reader = new MultipartReader(boundary, new MemoryStream(body, writable: false));
        try
        {
            while (reader.ReadNextSectionAsync().GetAwaiter().GetResult() is { } section)
            {
                if (section.GetContentDispositionHeader() is not { } disposition || !disposition.IsFormDisposition()) continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (string.IsNullOrEmpty(name)) continue;
                using var text = new StreamReader(section.Body, Encoding.UTF8);
                fields[name] = StringValues.Concat(fields.GetValueOrDefault(name), text.ReadToEnd());
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            fields.Clear(); // not a multipart body after all: no fields, so the signature is missing
        }
        return fields;
    }

    public bool IsJson => (request.ContentType ?? "").Contains("json", StringComparison.OrdinalIgnoreCase);
}
