using System.Net;
using Microsoft.AspNetCore.Http;

namespace Portway.Agent;

/// <summary>Pages the agent answers with (the edge passes them through): what happened and what to do, HTML or text.</summary>
internal static class AgentErrorPage
{
    public static Task WriteAsync(HttpContext context, int status, string title, string detail, string? hint = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.Headers.CacheControl = "no-store";
        if (context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            response.ContentType = "text/html; charset=utf-8";
            return response.WriteAsync(
                $"<!doctype html><html><head><meta charset=\"utf-8\"><title>{status} {E(title)}</title>"
                + "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}small{color:#777}</style></head>"
                + $"<body><h1>{status} {E(title)}</h1><p>{E(detail)}</p>{(hint is null ? "" : $"<p>{E(hint)}</p>")}<p><small>Portway agent</small></p></body></html>\n");
        }
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync($"{status} {title}\n{detail}\n{(hint is null ? "" : hint + "\n")}");
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
