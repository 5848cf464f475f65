using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Portway.Agent;
using Portway.Agent.Inspector;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tunnels;

namespace Portway.Tests.Inspector;

/// <summary>A real local server, a real edge and a real agent with its inspector on 127.0.0.1:0.</summary>
internal sealed class InspectorFixture : IAsyncDisposable
{
    private InspectorFixture(TestOrigin origin, TestEdge edge, TestAgent agent)
    {
        Origin = origin;
        Edge = edge;
        Agent = agent;
        Inspector = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = agent.Host.InspectorUrl, Timeout = TimeSpan.FromSeconds(30) };
        Visitor = TunnelClient.Create(TimeSpan.FromSeconds(30));
    }

    public TestOrigin Origin { get; }
    public TestEdge Edge { get; }
    public TestAgent Agent { get; }
    public HttpClient Inspector { get; }
    public HttpClient Visitor { get; }
    public Uri PublicUrl => Agent.Url;

    public static async Task<InspectorFixture> StartAsync(RequestDelegate local, InspectorOptions? options = null, Action<WebApplication>? configure = null)
    {
        var origin = await TestOrigin.StartAsync("local", local, configure: configure);
        var edge = await TestEdge.StartAsync("");
        var agent = await TestAgent.StartAsync(new AgentOptions
        {
            Edge = edge.Url,
            Tunnels = [TestAgent.Http(origin.Url)],
            Inspect = new IPEndPoint(IPAddress.Loopback, 0),
            InspectorOptions = options ?? new InspectorOptions(),
        });
        return new InspectorFixture(origin, edge, agent);
    }

    /// <summary>A visitor's request through the tunnel; fails unless the local server answered it (not an edge or agent error page).</summary>
    public async Task VisitAsync(HttpRequestMessage request)
    {
        using var response = await Visitor.SendAsync(request);
        if (!response.Headers.Contains("X-Origin"))
            throw new InvalidOperationException($"{request.Method} {request.RequestUri}: {(int)response.StatusCode} did not come from the local server: {await response.Content.ReadAsStringAsync()}");
    }

    public Task VisitAsync(string path) => VisitAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(PublicUrl, path)));

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Inspector.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The list, newest first, once it holds at least <paramref name="count"/> entries (recording ends just after the visitor's response).</summary>
    public async Task<JsonElement[]> WaitForRequestsAsync(int count)
    {
        JsonElement[] list = [];
        await Wait.UntilAsync(async () =>
        {
            list = [.. (await GetJsonAsync("/api/requests")).GetProperty("requests").EnumerateArray()];
            return list.Length >= count;
        }, because: $"the inspector lists {count} request(s)");
        return list;
    }

    public static string? Header(JsonElement headers, string name)
    {
        foreach (var pair in headers.EnumerateArray())
        {
            if (string.Equals(pair[0].GetString(), name, StringComparison.OrdinalIgnoreCase)) return pair[1].GetString();
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        Inspector.Dispose();
        Visitor.Dispose();
        await Agent.DisposeAsync();
        await Edge.DisposeAsync();
        await Origin.DisposeAsync();
    }
}
