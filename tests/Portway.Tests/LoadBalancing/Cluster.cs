using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Portway.Tests.Infrastructure;
using Yarp.ReverseProxy;
using Xunit;
using Yarp.ReverseProxy.Model;

namespace Portway.Tests.LoadBalancing;

/// <summary>Helpers for load-balancing tests: YAML for one route to one cluster, tallies by origin, destination state.</summary>
internal static class Cluster
{
    /// <summary>A route for every path to cluster 'app' with the given destinations and extra cluster keys (indented 4).
    /// Tests that read /metrics pass their own cluster id: instruments of every edge in the test process share the
    /// meter name, so a scrape also sees other tests' clusters.</summary>
    public static string Yaml(IEnumerable<string> destinations, string extra = "", string clusterId = "app")
    {
        var lines = string.Join("\n", destinations.Select(d => d.StartsWith("url:", StringComparison.Ordinal) ? $"      - {d}" : $"      - url: {d}"));
        return $"""
            routes:
              - id: web
                cluster: {clusterId}
            clusters:
              - id: {clusterId}
                destinations:
            {lines}
            {extra}
            """;
    }

    public static string Yaml(IEnumerable<TestOrigin> origins, string extra = "", string clusterId = "app") => Yaml(origins.Select(o => o.Url.ToString()), extra, clusterId);

    /// <summary>Sends <paramref name="count"/> GETs one after another and counts responses by X-Origin ("" when absent).</summary>
    public static async Task<Dictionary<string, int>> TallyAsync(HttpClient client, int count, Action<HttpRequestMessage, int>? prepare = null)
    {
        var tally = new Dictionary<string, int>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            prepare?.Invoke(request, i);
            using var response = await client.SendAsync(request);
            var origin = OriginOf(response);
            tally[origin] = tally.GetValueOrDefault(origin) + 1;
        }
        return tally;
    }

    public static string OriginOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Origin", out var values) ? values.First() : $"status {(int)response.StatusCode}";

    public static DestinationState Destination(TestEdge edge, string id)
    {
        var state = edge.Host.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(state.TryGetCluster("app", out var cluster), "cluster 'app' is loaded");
        return cluster!.Destinations[id];
    }

    /// <summary>Whether the destination is among those YARP currently balances over (health applied).</summary>
    public static bool IsAvailable(TestEdge edge, string id, string clusterId = "app")
    {
        var state = edge.Host.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(state.TryGetCluster(clusterId, out var cluster), $"cluster '{clusterId}' is loaded");
        foreach (var d in cluster!.DestinationsState.AvailableDestinations)
        {
            if (d.DestinationId == id) return true;
        }
        return false;
    }

    /// <summary>A loopback port nothing listens on (bound once by the OS, then released).</summary>
    public static int DeadPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
