using System.Net;
using Microsoft.AspNetCore.Http;

namespace Portway.Edge.ErrorPages;

/// <summary>
/// The pages Portway itself answers with. Each says what happened and what to do about it, in
/// HTML for browsers and plain text for curl and scripts.
/// </summary>
internal static class ErrorPage
{
    public static Task WriteAsync(HttpContext context, int status, string title, string detail, string? hint = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.Headers.CacheControl = "no-store";
        var requestId = RequestId.Of(context);
        var accept = context.Request.Headers.Accept.ToString();
        if (accept.Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            response.ContentType = "text/html; charset=utf-8";
            return response.WriteAsync(
                $"<!doctype html><html><head><meta charset=\"utf-8\"><title>{status} {Encode(title)}</title>"
                + "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}code,pre{background:#f3f3f3;padding:.1em .3em}small{color:#777}</style></head>"
                + $"<body><h1>{status} {Encode(title)}</h1><p>{Encode(detail)}</p>"
                + (hint is null ? "" : $"<p>{Encode(hint)}</p>")
                + $"<p><small>Portway{(requestId is null ? "" : $" · request id {Encode(requestId)}")}</small></p></body></html>\n");
        }
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(
            $"{status} {title}\n{detail}\n{(hint is null ? "" : hint + "\n")}{(requestId is null ? "" : $"request id: {requestId}\n")}");
    }

    private static string Encode(string s) => WebUtility.HtmlEncode(s);
}
