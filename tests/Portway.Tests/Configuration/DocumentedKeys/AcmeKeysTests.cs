using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portway.Tests.Acme;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>
/// tls.acme keys the Pebble tests leave at their defaults (key type, tunnel names) or only set for
/// speed (back-off): each against a real Pebble, with the edge answering the challenges itself.
/// </summary>
public sealed class AcmeKeysTests
{
    private static string Yaml(int httpPort, int httpsPort, PebbleServer pebble, string sites, string acme, string more = "") => $"""
        listeners:
          - name: http
            url: http://127.0.0.1:{httpPort}
          - name: https
            url: https://127.0.0.1:{httpsPort}
        {more}
        tls:
          sites:
        {sites}
          acme:
            directory: {pebble.Directory}
            ca_root: {pebble.CaRootFile}
            agree_tos: true
            storage: {TestCertificates.TempDir()}
            poll_interval: 100ms
        {acme}
        """;

    private static async Task<X509Certificate2> PebbleCertificateAsync(TestEdge edge, string host)
    {
        X509Certificate2? served = null;
        await Wait.UntilAsync(async () =>
        {
            try
            {
                served = (await TlsClient.HandshakeAsync(edge.HttpsUrl(), host)).Certificate;
                return served.Issuer.Contains("Pebble", StringComparison.Ordinal);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), $"a Pebble certificate for {host}");
        return served!;
    }

    [SkippableFact]
    [CoversKey("tls.acme.key_type", "tls.sites[].certificate", "tls.acme.directory", "tls.acme.ca_root", "tls.acme.agree_tos")]
    public async Task KeyType_Rsa2048_IssuedCertificateHasAnRsaKey()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort);
        await using var edge = await TestEdge.StartAsync(Yaml(httpPort, httpsPort, pebble,
            "    - hosts: [rsa.pebble.test]\n      certificate: auto", "    key_type: rsa_2048\n    challenges: [tls-alpn-01]"));

        using var served = await PebbleCertificateAsync(edge, "rsa.pebble.test");

        // The default (ecdsa_p256) would give an ECDSA key.
        using var rsa = served.GetRSAPublicKey();
        Assert.NotNull(rsa);
        Assert.Equal(2048, rsa.KeySize);
    }

    [SkippableFact]
    [CoversKey("tls.acme.tunnels")]
    public async Task Tunnels_True_TunnelNameGetsItsOwnCertificate()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort);
        await using var local = await TestOrigin.StartAsync("laptop");
        await using var edge = await TestEdge.StartAsync(Yaml(httpPort, httpsPort, pebble,
            "    - hosts: [site.pebble.test]\n      certificate: auto",
            "    tunnels: true\n    challenges: [tls-alpn-01]",
            "tunnels:\n  domains: [tunnels.pebble.test]"));
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "demo"));

        using var served = await PebbleCertificateAsync(edge, "demo.tunnels.pebble.test");

        Assert.True(served.MatchesHostname("demo.tunnels.pebble.test"));
    }

    [SkippableFact]
    [CoversKey("tls.acme.retry_min", "tls.acme.retry_max")]
    public async Task Backoff_ValidationKeepsFailing_WaitsDoubleFromRetryMinUpToRetryMax()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        // Pebble validates http-01 on a port where nothing listens, so every order fails.
        await using var pebble = await PebbleServer.StartAsync(FreePorts.Tcp(), httpsPort);
        var log = new CapturedLog();
        await using var edge = await TestEdge.StartAsync(Yaml(httpPort, httpsPort, pebble,
            "    - hosts: [down.pebble.test]\n      certificate: auto", "    challenges: [http-01]\n    retry_min: 300ms\n    retry_max: 1200ms"),
            services => services.AddSingleton<ILoggerProvider>(log));

        await Wait.UntilAsync(() => log.Lines.Any(l => l.Contains("attempt 4,", StringComparison.Ordinal)), TimeSpan.FromSeconds(60), "four failed orders");

        // 300 ms, 600 ms, 1.2 s, then capped at 1.2 s (the defaults would say 1 min, 2 min, 4 min, 8 min).
        Assert.Contains(log.Lines, l => l.Contains("attempt 1, next try in 00:00:00.3000000", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Contains("attempt 2, next try in 00:00:00.6000000", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Contains("attempt 3, next try in 00:00:01.2000000", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Contains("attempt 4, next try in 00:00:01.2000000", StringComparison.Ordinal));
    }

    /// <summary>Keeps every log line the edge writes, for keys whose only visible effect is a logged decision.</summary>
    private sealed class CapturedLog : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IEnumerable<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue(formatter(state, exception));

        public void Dispose() { }
    }
}
