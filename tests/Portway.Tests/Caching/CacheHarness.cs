using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Net.Http.Headers;
using Portway.Configuration;
using Portway.Edge;
using Portway.Edge.Caching;
using Portway.Tests.Infrastructure;

namespace Portway.Tests.Caching;

/// <summary>
/// A real origin behind a real edge with one caching route, and a real HttpClient. The edge's
/// clock is a FakeTimeProvider (and the origin stamps Date from the same clock), so freshness
/// tests move time instead of sleeping.
/// </summary>
internal sealed class CacheHarness : IAsyncDisposable
{
    private readonly string _configPath;
    private readonly IAsyncDisposable _origin;
    private readonly Func<int> _originRequests;

    private CacheHarness(TestOrigin? origin, IAsyncDisposable originToDispose, Func<int> originRequests, FakeTimeProvider time, string configPath)
    {
        Origin = origin!;
        _origin = originToDispose;
        _originRequests = originRequests;
        Time = time;
        _configPath = configPath;
    }

    /// <summary>The Kestrel origin (null when the harness was started on a <see cref="RawOrigin"/>).</summary>
    public TestOrigin Origin { get; }
    public FakeTimeProvider Time { get; }
    public EdgeHost Edge { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public HttpCache Cache => Edge.Services.GetRequiredService<HttpCache>();
    public int OriginRequests => _originRequests();

    /// <summary>
    /// Starts the origin (whose handler sets the headers the test needs) and the edge.
    /// <paramref name="cacheYaml"/> is the body of the top-level cache: section, indented two spaces.
    /// </summary>
    public static async Task<CacheHarness> StartAsync(Func<HttpContext, Task> handler, string cacheYaml = "", bool routeCaches = true, FakeTimeProvider? time = null)
    {
        // A whole second, so the origin's Date (second precision) equals the edge's clock exactly.
        time ??= new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        var clock = time;
        var origin = await TestOrigin.StartAsync("origin", ctx =>
        {
            ctx.Response.Headers.Date = HeaderUtilities.FormatDate(clock.GetUtcNow());
            return handler(ctx);
        });
        return await StartAsync(origin, origin, origin.Url, () => origin.Requests, cacheYaml, routeCaches, time);
    }

    /// <summary>
    /// The edge in front of an origin that writes raw bytes (fields Kestrel would not send). The
    /// origin's Date, if any, is its own: tests pass a clock whose start matches it.
    /// </summary>
    public static Task<CacheHarness> StartAsync(RawOrigin raw, string cacheYaml = "", bool routeCaches = true, FakeTimeProvider? time = null) =>
        StartAsync(null, raw, raw.Url, () => raw.Requests, cacheYaml, routeCaches,
            time ?? new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds())));

    private static async Task<CacheHarness> StartAsync(TestOrigin? kestrel, IAsyncDisposable origin, Uri originUrl, Func<int> requests, string cacheYaml, bool routeCaches, FakeTimeProvider time)
    {
        var dir = Directory.CreateTempSubdirectory("portway-cache-test-");
        var path = Path.Combine(dir.FullName, "portway.yaml");
        var yaml = $"""
            cache:
            {Indent(cacheYaml.Contains("memory:", StringComparison.Ordinal) ? cacheYaml : "memory: 64m\n" + cacheYaml)}
            routes:
              - id: web
                cluster: app
                cache: {(routeCaches ? "true" : "false")}
            clusters:
              - id: app
                destinations:
                  - {originUrl}
            """;
        await File.WriteAllTextAsync(path, TestEdge.WithTestDefaults(yaml));
        var harness = new CacheHarness(kestrel, origin, requests, time, path);
        await harness.StartEdgeAsync();
        return harness;
    }

    private static string Indent(string text) =>
        string.Join("\n", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "  " + l.TrimEnd()));

    private async Task StartEdgeAsync()
    {
        var config = ConfigLoader.LoadFile(_configPath);
        Edge = EdgeHost.Create(config, _configPath, s => s.AddSingleton<TimeProvider>(Time));
        await Edge.StartAsync();
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None })
        {
            BaseAddress = Edge.ProxyUrl,
        };
    }

    /// <summary>Edits the config file in place; the edge reloads it through its file watcher.</summary>
    public async Task EditConfigAsync(string from, string to)
    {
        var text = await File.ReadAllTextAsync(_configPath);
        await File.WriteAllTextAsync(_configPath, text.Replace(from, to, StringComparison.Ordinal));
    }

    /// <summary>Stops the edge (flushing the disk tier) and starts a new one on the same config.</summary>
    public async Task RestartEdgeAsync()
    {
        await StopEdgeAsync();
        await StartEdgeAsync();
    }

    private async Task StopEdgeAsync()
    {
        Client.Dispose();
        await Edge.StopAsync();
        await Edge.DisposeAsync();
    }

    /// <summary>Host header for every request; null = the edge's address. A fixed name keeps keys stable across an edge restart (new port).</summary>
    public string? Host { get; set; }

    public Task<HttpResponseMessage> GetAsync(string path, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Get, path, headers);

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        if (Host is not null) request.Headers.Host = Host;
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        var response = await Client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    public void Advance(TimeSpan by) => Time.Advance(by);

    public async ValueTask DisposeAsync()
    {
        await StopEdgeAsync();
        await _origin.DisposeAsync();
    }
}

internal static class CacheResponseExtensions
{
    public static string CacheStatus(this HttpResponseMessage r) => r.Headers.TryGetValues("Cache-Status", out var v) ? string.Join(", ", v) : "";

    public static bool IsHit(this HttpResponseMessage r) => r.CacheStatus().StartsWith("Portway; hit", StringComparison.Ordinal);

    public static string Header(this HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? string.Join(", ", v)
        : r.Content.Headers.TryGetValues(name, out var c) ? string.Join(", ", c) : "";

    public static long? AgeSeconds(this HttpResponseMessage r) => r.Headers.Age is { } a ? (long)a.TotalSeconds : null;

    public static Task<string> Body(this HttpResponseMessage r) => r.Content.ReadAsStringAsync();
}
