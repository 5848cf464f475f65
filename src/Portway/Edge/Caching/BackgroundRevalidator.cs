using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.Caching;

/// <summary>
/// stale-while-revalidate (RFC 5861 §3): the stale entry is served at once and refreshed by a
/// conditional request made here, through YARP's forwarder with the route's transforms and the
/// cluster's client, so the origin sees what a foreground request would send. One refresh per
/// key at a time.
/// </summary>
internal sealed class BackgroundRevalidator(HttpCache cache, IHttpForwarder forwarder)
{
    private readonly ConcurrentDictionary<string, byte> _running = new(StringComparer.Ordinal);

    /// <summary>Refreshes in progress (tests wait on this).</summary>
    public int Running => _running.Count;

    public void Start(HttpContext context, string key, CacheEntry entry)
    {
        var proxy = context.Features.Get<IReverseProxyFeature>();
        if (proxy?.Cluster is not { } cluster) return;
        var destinations = proxy.AvailableDestinations;
        if (destinations.Count == 0 || !_running.TryAdd(key, 0)) return;
        var destination = destinations[Random.Shared.Next(destinations.Count)];

        var background = new DefaultHttpContext();
        var source = context.Request;
        var request = background.Request;
        request.Method = HttpMethods.Get;
        request.Protocol = "HTTP/1.1";
        request.Scheme = source.Scheme;
        request.Host = source.Host;
        request.PathBase = source.PathBase;
        request.Path = source.Path;
        request.QueryString = source.QueryString;
        foreach (var h in source.Headers) request.Headers[h.Key] = h.Value;
        // The client's own directives and conditionals are not the cache's.
        request.Headers.Remove("Cache-Control");
        request.Headers.Remove("Pragma");
        request.Headers.Remove("If-None-Match");
        request.Headers.Remove("If-Modified-Since");
        background.Connection.RemoteIpAddress = context.Connection.RemoteIpAddress;
        background.Features.Set(proxy);
        var route = proxy.Route;
        var config = cluster.Config.HttpRequest ?? ForwarderRequestConfig.Empty;
        _ = Task.Run(() => RunAsync(background, key, entry, destination.Model.Config.Address, cluster.HttpClient, config, route.Transformer));
    }

    private async Task RunAsync(HttpContext background, string key, CacheEntry entry, string destination, HttpMessageInvoker client, ForwarderRequestConfig config, HttpTransformer transformer)
    {
        try
        {
            var fetch = new OriginFetch(cache, background, key, entry, "stale", CacheDirectives.Parse(default), background: true);
            await fetch.RunAsync(async ctx =>
            {
                var error = await forwarder.SendAsync(ctx, destination, client, config, transformer);
                if (error != ForwarderError.None) HttpCache.LogRevalidationFailed(cache.Logger, key, error.ToString());
            });
        }
        catch (Exception e)
        {
            HttpCache.LogRevalidationFailed(cache.Logger, key, e.Message);
        }
        finally
        {
            _running.TryRemove(key, out _);
        }
    }
}
