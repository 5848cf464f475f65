using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Portway.Edge.Tunnels;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Acme;

/// <summary>
/// tls.acme.tunnels: wildcard — one dns-01 certificate for *.tunnels.test, published in a real BIND
/// that Pebble resolves through: every tunnel name is covered by it, and the agents are told.
/// </summary>
public sealed class TunnelWildcardPebbleTests
{
    [SkippableFact]
    [Configuration.DocumentedKeys.CoversKey("tls.acme.tunnels")]
    public async Task TunnelsWildcard_ThreeTunnels_AllCoveredByOneWildcardAndTold()
    {
        await using var bind = await BindServer.StartAsync();
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, dnsServer: bind.EndPoint);
        await using var local = await TestOrigin.StartAsync("laptop");
        await using var edge = await TestEdge.StartAsync($"""
            listeners:
              - name: http
                url: http://127.0.0.1:{httpPort}
              - name: https
                url: https://127.0.0.1:{httpsPort}
            tunnels:
              domains: [tunnels.test]
              tokens:
                - name: alice
                  sha256: {TokenAuthenticator.Hash("alice-token")}
                  allowed_patterns: ["*"]
            tls:
              acme:
                directory: {pebble.Directory}
                ca_root: {pebble.CaRootFile}
                agree_tos: true
                storage: {TestCertificates.TempDir()}
                poll_interval: 100ms
                retry_min: 500ms
                tunnels: wildcard
                dns:
                  provider: rfc2136
                  server: 127.0.0.1:{bind.Port}
                  zone: tunnels.test.
                  tsig_key_name: {BindServer.KeyName}
                  tsig_secret: {bind.Secret}
                  propagation_timeout: 20s
                  propagation_interval: 100ms
            """);

        var agents = new List<TestAgent>();
        try
        {
            foreach (var name in new[] { "one", "two", "three" })
                agents.Add(await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: name, id: name), token: "alice-token"));

            using var root = await pebble.IssuingRootAsync();
            using var client = TlsClient.Create(httpsPort, root);
            string? thumbprint = null;
            foreach (var agent in agents)
            {
                await Wait.UntilAsync(() => agent.Status.Grants[0].Https is not null, TimeSpan.FromSeconds(45), $"https for {agent.Status.Grants[0].Name}");
                var grant = agent.Status.Grants[0];
                Assert.Equal($"https://{grant.Name}.tunnels.test:{httpsPort}", grant.Https);
                Assert.Equal("laptop", await client.GetStringAsync(grant.Https + "/"));
                var served = (await TlsClient.HandshakeAsync(edge.HttpsUrl(), $"{grant.Name}.tunnels.test")).Certificate;
                Assert.Equal(["*.tunnels.test"], served.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()));
                Assert.True(thumbprint is null || thumbprint == served.Thumbprint, "one certificate for every name");
                thumbprint = served.Thumbprint;
            }
            // No order per name: only the wildcard's challenge went through DNS, and the record is gone.
            Assert.Empty(await bind.TxtAsync("_acme-challenge.tunnels.test"));
            Assert.DoesNotContain("one.tunnels.test", pebble.Log);
        }
        finally
        {
            foreach (var agent in agents) await agent.DisposeAsync();
        }
    }
}
