using Portway.Tests.Infrastructure;

namespace Portway.Tests.Tls;

/// <summary>Starts a TestEdge with an http and an https listener on loopback port 0.</summary>
internal static class TlsEdge
{
    public const string Listeners = """
        listeners:
          - name: http
            url: http://127.0.0.1:0
          - name: https
            url: https://127.0.0.1:0

        """;

    public static Task<TestEdge> StartAsync(string yaml) => TestEdge.StartAsync(Listeners + yaml);

    /// <summary>The common case: one certificate (PEM files) served as the default for every name.</summary>
    public static Task<TestEdge> StartWithDefaultAsync(string cert, string key) => StartAsync($"""
        tls:
          sites:
            - default: true
              cert: {cert}
              key: {key}
        """);

    public static Uri HttpsUrl(this TestEdge edge) =>
        new(edge.Host.Addresses.First(a => a.Url.StartsWith("https://", StringComparison.Ordinal)).Url);
}
