using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Agent;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>Issue 4: the tunnel link uses TLS when the edge has a certificate, and the agent checks it.</summary>
public sealed class TunnelTlsTests
{
    [Fact]
    public async Task Link_OverHttpsEdge_WithCustomCa_TunnelWorks()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "edge", ["localhost"]);
        var (cert, key) = TestCertificates.WritePem(dir, "edge", leaf, ca);
        var caFile = TestCertificates.WriteCaPem(dir, "ca", ca);
        await using var origin = await TestOrigin.StartAsync("local", ctx => ctx.Response.WriteAsync("over tls link"));
        await using var edge = await TlsEdge.StartWithDefaultAsync(cert, key);
        var https = edge.HttpsUrl();
        var edgeUrl = new Uri($"https://localhost:{https.Port}");

        await using var agent = await TestAgent.StartAsync(new AgentOptions
        {
            Edge = edgeUrl,
            EdgeCaFile = caFile,
            Tunnels = [TestAgent.Http(origin.Url)],
        });
        using var client = TunnelClient.Create();
        // Visitors use the plain listener here; the link itself is the TLS connection.
        var visitor = new UriBuilder(agent.Url) { Scheme = "http", Port = edge.Url.Port }.Uri;
        var response = await client.GetAsync(visitor);

        await TunnelAssert.StatusAsync(HttpStatusCode.OK, response);
        Assert.Equal("over tls link", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Link_UntrustedEdgeCertificate_AgentNeverComesOnline()
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "edge", ["localhost"]);
        var (cert, key) = TestCertificates.WritePem(dir, "edge", leaf, ca);
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TlsEdge.StartWithDefaultAsync(cert, key);
        var edgeUrl = new Uri($"https://localhost:{edge.HttpsUrl().Port}");
        // No --edge-ca and no --insecure: the test CA is not a system root, so the link must fail
        // and say why, and the agent must never come online.
        await using var host = AgentHost.Create(new AgentOptions
        {
            Edge = edgeUrl,
            Tunnels = [TestAgent.Http(origin.Url)],
            BackoffMin = TimeSpan.FromMilliseconds(100),
            BackoffMax = TimeSpan.FromSeconds(1),
        });
        await host.StartAsync();
        await Wait.UntilAsync(() => host.Status.LastError is not null, because: "the agent reports the failed link");
        Assert.Contains("certificate", host.Status.LastError, StringComparison.OrdinalIgnoreCase);
        Assert.NotEqual(SessionState.Online, host.Status.State);
    }
}
