using System.Globalization;
using Microsoft.AspNetCore.Http;
using Portway.Edge.ErrorPages;

namespace Portway.Edge.Caching;

/// <summary>
/// The purge API on the admin listener: POST /cache/purge?url=… (one URI, every variant),
/// ?prefix=… (every URI starting with it) or ?tag=… (every object whose Surrogate-Key/Cache-Tag
/// carried the tag). Answers {"purged":N}.
/// </summary>
internal sealed class CachePurgeMiddleware(RequestDelegate next, HttpCache cache)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.Equals("/cache/purge", StringComparison.Ordinal))
        {
            await next(context);
            return;
        }
        if (!HttpMethods.IsPost(context.Request.Method) && !HttpMethods.IsDelete(context.Request.Method))
        {
            context.Response.Headers.Allow = "POST, DELETE";
            await ErrorPage.WriteAsync(context, 405, "Method Not Allowed", "Purge with POST /cache/purge?url=… (or ?prefix=…, ?tag=…).");
            return;
        }
        var query = context.Request.Query;
        string? url = query["url"], prefix = query["prefix"], tag = query["tag"];
        if ((url is null ? 0 : 1) + (prefix is null ? 0 : 1) + (tag is null ? 0 : 1) != 1)
        {
            await ErrorPage.WriteAsync(context, 400, "Bad Request", "Give exactly one of url, prefix or tag.",
                "Example: curl -X POST 'http://127.0.0.1:9090/cache/purge?url=http://example.com/logo.png'");
            return;
        }
        int purged;
        if (url is not null)
        {
            var key = CacheKey.FromUrl(url);
            if (key is null)
            {
                await ErrorPage.WriteAsync(context, 400, "Bad Request", $"'{url}' is not an absolute http(s) URL.", "Write it as the client asks for it, e.g. http://example.com/logo.png");
                return;
            }
            purged = cache.Invalidate(key);
        }
        else if (prefix is not null)
        {
            var key = CacheKey.FromUrl(prefix);
            if (key is null)
            {
                await ErrorPage.WriteAsync(context, 400, "Bad Request", $"'{prefix}' is not an absolute http(s) URL prefix.", "Example: http://example.com/assets/");
                return;
            }
            purged = cache.Purge(key, null);
        }
        else purged = cache.Purge(null, tag);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{\"purged\":" + purged.ToString(CultureInfo.InvariantCulture) + "}\n");
    }
}
