using Portway.Configuration;
using Portway.Edge;

namespace Portway.Tests.Infrastructure;

/// <summary>
/// A real Portway edge for a test: config from YAML text (written to a temp file so hot reload
/// can be exercised), listeners on 127.0.0.1 port 0, access log off unless asked for.
/// </summary>
internal sealed class TestEdge : IAsyncDisposable
{
    private TestEdge(EdgeHost host, string configPath)
    {
        Host = host;
        ConfigPath = configPath;
        Client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = host.ProxyUrl };
    }

    public EdgeHost Host { get; }
    public string ConfigPath { get; }
    public Uri Url => Host.ProxyUrl;
    public Uri AdminUrl => Host.AdminUrl!;
    public HttpClient Client { get; }

    /// <summary>
    /// Starts an edge. The YAML may omit listeners/admin/access_log; they default to port 0 on
    /// loopback and access log off.
    /// </summary>
    public static async Task<TestEdge> StartAsync(string yaml, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? configureServices = null)
    {
        var dir = Directory.CreateTempSubdirectory("portway-test-");
        var path = Path.Combine(dir.FullName, "portway.yaml");
        await File.WriteAllTextAsync(path, WithTestDefaults(yaml));
        var config = ConfigLoader.LoadFile(path);
        var host = EdgeHost.Create(config, path, configureServices);
        await host.StartAsync();
        return new TestEdge(host, path);
    }

    /// <summary>YAML for the common case: route 'web' sends every request to cluster 'app' = <paramref name="origin"/>.</summary>
    public static string OneRoute(Uri origin) => $"""
        routes:
          - id: web
            cluster: app
        clusters:
          - id: app
            destinations: [{origin}]
        """;

    public static string WithTestDefaults(string yaml)
    {
        var text = yaml;
        if (!text.Contains("listeners:", StringComparison.Ordinal)) text = "listeners:\n  - url: http://127.0.0.1:0\n" + text;
        if (!text.Contains("admin:", StringComparison.Ordinal)) text = "admin:\n  url: http://127.0.0.1:0\n" + text;
        if (!text.Contains("access_log:", StringComparison.Ordinal)) text = "access_log:\n  enabled: false\n" + text;
        return text;
    }

    /// <summary>Rewrites the config file (the edge picks it up through its file watcher).</summary>
    public Task RewriteAsync(string yaml) => File.WriteAllTextAsync(ConfigPath, WithTestDefaults(yaml));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Host.StopAsync();
        await Host.DisposeAsync();
    }
}
