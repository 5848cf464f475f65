using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Caching;

/// <summary>
/// The cache as a step of YARP's proxy pipeline: the route is known, and a hit is answered here,
/// before load balancing, so it never touches a destination. Routes without <c>cache: true</c>
/// pass straight through.
/// </summary>
internal sealed class CacheMiddleware(RequestDelegate next, HttpCache cache, BackgroundRevalidator revalidator, PortwayProxyConfigProvider config)
{
    public Task InvokeAsync(HttpContext context)
    {
        var route = context.Features.Get<IReverseProxyFeature>()?.Route;
        if (route is null || !config.Settings.Route(route.Config.RouteId).Cache) return next(context);
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) return ServeAsync(context, mayWait: true);
        return ForwardUnsafeAsync(context);
    }

    private async Task ServeAsync(HttpContext context, bool mayWait)
    {
        var request = context.Request;
        var key = CacheKey.For(request);
        var cc = CacheDirectives.Parse(request.Headers.CacheControl);
        // Pragma: no-cache counts only without Cache-Control (RFC 9111 §5.4).
        var noCache = cc.NoCache || (!cc.Present && request.Headers.Pragma.ToString().Contains("no-cache", StringComparison.OrdinalIgnoreCase));
        var entry = cache.Store.Find(key, request.Headers, out var uriKnown);
        if (entry is null && cache.Disk is not null)
        {
            entry = await cache.Disk.LoadAsync(key, request.Headers, cache.Store);
            uriKnown |= entry is not null;
        }

        if (entry is not null)
        {
            var now = cache.Time.GetUtcNow();
            var f = entry.Freshness;
            var age = f.Age(now);
            var remaining = f.Lifetime - age;
            var mayReuse = !noCache && !f.NoCache;
            if (mayReuse && remaining > TimeSpan.Zero
                && (cc.MaxAge < 0 || age <= TimeSpan.FromSeconds(cc.MaxAge) || f.Immutable)
                && (cc.MinFresh < 0 || remaining >= TimeSpan.FromSeconds(cc.MinFresh)))
            {
                // §4.2: fresh and acceptable to the client.
                var ageSeconds = (long)age.TotalSeconds;
                cache.Metrics.OnHit(HttpMethods.IsHead(request.Method) ? 0 : entry.BodyLength);
                await CacheResponder.WriteAsync(context, entry, ageSeconds, entry.TextFor(ageSeconds).CacheStatus);
                return;
            }
            if (mayReuse && remaining <= TimeSpan.Zero && !f.MustRevalidate && (cc.MaxAge < 0 || age <= TimeSpan.FromSeconds(cc.MaxAge)))
            {
                var staleness = -remaining;
                // §4.2.4: the client accepts stale (max-stale), or RFC 5861 stale-while-revalidate
                // lets the cache answer now and refresh in the background.
                var clientAccepts = cc.MaxStaleAny || (cc.MaxStale >= 0 && staleness <= TimeSpan.FromSeconds(cc.MaxStale));
                var swr = !clientAccepts && cc.MinFresh < 0 && f.StaleWhileRevalidate > TimeSpan.Zero && staleness <= f.StaleWhileRevalidate;
                if (clientAccepts || swr)
                {
                    if (swr) revalidator.Start(context, key, entry);
                    var ageSeconds = (long)age.TotalSeconds;
                    cache.Metrics.OnStale(HttpMethods.IsHead(request.Method) ? 0 : entry.BodyLength);
                    await CacheResponder.WriteAsync(context, entry, ageSeconds, entry.TextFor(ageSeconds).CacheStatus + (swr ? "; detail=stale-while-revalidate" : ""));
                    return;
                }
            }
            if (cc.OnlyIfCached)
            {
                await OnlyIfCachedAsync(context);
                return;
            }
            // RFC 9211 §2.2: "request" when a fresh entry was refused by the request's directives.
            var why = remaining > TimeSpan.Zero && !f.NoCache ? "request" : "stale";
            await new OriginFetch(cache, context, key, entry, why, cc, background: false).RunAsync(next);
            return;
        }

        if (cc.OnlyIfCached)
        {
            // §5.2.1.7: nothing stored, and the client forbids going to the origin.
            await OnlyIfCachedAsync(context);
            return;
        }
        var fwd = uriKnown ? "vary-miss" : "uri-miss";
        if (!mayWait || HttpMethods.IsHead(request.Method))
        {
            await new OriginFetch(cache, context, key, null, mayWait ? fwd : "miss", cc, background: false).RunAsync(next);
            return;
        }
        if (cache.Collapser.TryLead(key, out var wait))
        {
            try
            {
                await new OriginFetch(cache, context, key, null, fwd, cc, background: false).RunAsync(next);
            }
            finally
            {
                cache.Collapser.Done(key);
            }
            return;
        }
        // Another request is fetching this key: wait for it (bounded), then look again; on a
        // timeout or an unstorable answer, go to the origin without waiting again.
        await cache.Collapser.WaitAsync(wait, cache.Config.LockTimeout, context.RequestAborted);
        await ServeAsync(context, mayWait: false);
    }

    private static Task OnlyIfCachedAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        context.Response.Headers[CacheStatus.HeaderName] = CacheStatus.OnlyIfCachedMiss;
        context.Response.Headers.CacheControl = "no-store";
        return Task.CompletedTask;
    }

    /// <summary>
    /// POST, PUT, DELETE, PATCH…: forwarded, and when they succeed the target URI and any
    /// same-origin Location / Content-Location are invalidated (RFC 9111 §4.4).
    /// </summary>
    private async Task ForwardUnsafeAsync(HttpContext context)
    {
        var response = context.Response;
        response.OnStarting(static state =>
        {
            CacheStatus.Set(((HttpResponse)state).Headers, CacheStatus.Bypass);
            return Task.CompletedTask;
        }, response);
        cache.Metrics.OnBypass();
        await next(context);
        var method = context.Request.Method;
        if (response.StatusCode is < 200 or >= 400 || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method)) return;
        var key = CacheKey.For(context.Request);
        cache.Invalidate(key);
        var self = new Uri(key);
        InvalidateSameOrigin(self, response.Headers.Location.ToString());
        InvalidateSameOrigin(self, response.Headers[HeaderNames.ContentLocation].ToString());
    }

    private void InvalidateSameOrigin(Uri self, string reference)
    {
        if (reference.Length == 0 || !Uri.TryCreate(self, reference, out var target)) return;
        // Only the same origin: a response must not evict another site's entries (§4.4).
        if (!string.Equals(target.Scheme, self.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(target.Host, self.Host, StringComparison.OrdinalIgnoreCase) || target.Port != self.Port) return;
        cache.Invalidate(CacheKey.FromUri(target));
    }
}
