using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Portway.Edge.Acme;
using Portway.Edge.Tunnels;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Acme;

/// <summary>
/// A certificate per tunnel name, on demand, from a real Pebble: the real `portway http` prints
/// the https URL once it is served, a client trusting only Pebble's root reaches the local server,
/// later names get theirs, a released name stops being served, and new orders respect the cap.
/// </summary>
public sealed partial class TunnelCertificatePebbleTests
{
    private static string Yaml(int httpPort, int httpsPort, PebbleServer pebble, string acme = "", string grace = "60s", string sites = "") => $"""
        listeners:
          - name: http
            url: http://127.0.0.1:{httpPort}
          - name: https
            url: https://127.0.0.1:{httpsPort}
        tunnels:
          domains: [tunnels.test]
          reconnect_grace: {grace}
          tokens:
            - name: alice
              sha256: {TokenAuthenticator.Hash("alice-token")}
              allowed_patterns: ["*"]
              reserved_names: [blog]
              max_tunnels: 100
        tls:
          sites:
            - hosts: [edge.tunnels.test]
              certificate: auto
        {sites}
          acme:
            directory: {pebble.Directory}
            ca_root: {pebble.CaRootFile}
            agree_tos: true
            storage: {TestCertificates.TempDir()}
            poll_interval: 100ms
            retry_min: 500ms
            retry_max: 2s
            challenges: [tls-alpn-01]
            tunnels: true
        {acme}
        """;

    [GeneratedRegex(@"Forwarding (https://([a-z0-9-]+)\.tunnels\.test:\d+) -> ")]
    private static partial Regex HttpsLine();

    [SkippableFact]
    public async Task PortwayHttp_PerNameOnDemand_PrintsTheHttpsUrlWhichServesTheLocalServer()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort);
        await using var local = await TestOrigin.StartAsync("laptop");
        // The agent dials the edge over https too: the edge's own name (localhost here) has a
        // certificate from the operator's CA, which the agent is told to trust (--edge-ca).
        using var edgeCa = TestCertificates.CreateCa("Edge operator CA");
        using var edgeLeaf = TestCertificates.CreateLeaf(edgeCa, "localhost", ["localhost"]);
        var dir = TestCertificates.TempDir();
        var (edgeCert, edgeKey) = TestCertificates.WritePem(dir, "edge", edgeLeaf);
        var edgeCaFile = TestCertificates.WriteCaPem(dir, "edge-ca", edgeCa);
        await using var edge = await TestEdge.StartAsync(Yaml(httpPort, httpsPort, pebble,
            sites: $"    - hosts: [localhost]\n      cert: {edgeCert}\n      key: {edgeKey}"));

        await using var agent = PortwayProcess.Start("http", local.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--edge", $"https://localhost:{httpsPort}", "--edge-ca", edgeCaFile, "--token", "alice-token", "--inspect", "false");
        await Wait.UntilAsync(() => agent.Stdout.Contains("https pending: ordering a certificate"), TimeSpan.FromSeconds(30), "the agent says https is on its way");
        await Wait.UntilAsync(() => HttpsLine().IsMatch(agent.Stdout), TimeSpan.FromSeconds(30), "the agent prints the https URL once it is served");
        var match = HttpsLine().Match(agent.Stdout);
        var (url, name) = (match.Groups[1].Value, match.Groups[2].Value);
        Assert.Equal($"https://{name}.tunnels.test:{httpsPort}", url);

        using var root = await pebble.IssuingRootAsync();
        using var client = TlsClient.Create(httpsPort, root);
        Assert.Equal("laptop", await client.GetStringAsync(url + "/"));
        var served = (await TlsClient.HandshakeAsync(edge.HttpsUrl(), $"{name}.tunnels.test")).Certificate;
        Assert.Equal([$"{name}.tunnels.test"], DnsNames(served)); // its own certificate, not a wildcard

        // A second and a third tunnel get theirs, told over their links (protocol message 11).
        await using var second = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "second"), token: "alice-token");
        await using var third = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "third"), token: "alice-token");
        foreach (var other in new[] { second, third })
        {
            await Wait.UntilAsync(() => other.Status.Grants[0].Https is not null, TimeSpan.FromSeconds(30), $"https for {other.Status.Grants[0].Name}");
            var host = $"{other.Status.Grants[0].Name}.tunnels.test";
            Assert.Equal([host], DnsNames((await TlsClient.HandshakeAsync(edge.HttpsUrl(), host)).Certificate));
            Assert.Equal("laptop", await client.GetStringAsync(other.Status.Grants[0].Https + "/"));
        }
    }

    [SkippableFact]
    public async Task FailedOrder_AgentIsToldWhyAndWhenTheNextTryIs()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        // Pebble validates on a port where nothing listens: every order for a tunnel name fails.
        await using var pebble = await PebbleServer.StartAsync(httpPort, FreePorts.Tcp());
        await using var local = await TestOrigin.StartAsync("laptop");
        await using var edge = await TestEdge.StartAsync(Yaml(httpPort, httpsPort, pebble));

        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "broken"), token: "alice-token");

        await Wait.UntilAsync(() => agent.Status.Grants[0].HttpsPending?.StartsWith("the certificate order failed", StringComparison.Ordinal) == true,
            TimeSpan.FromSeconds(45), "the agent hears why https is missing");
        var grant = agent.Status.Grants[0];
        Assert.Contains("next try at", grant.HttpsPending);
        Assert.Null(grant.Https);
        Assert.Equal($"http://broken.tunnels.test:{httpPort}", grant.Http); // still reachable, not redirected to a failing https
    }

    [SkippableFact]
    public async Task ReleasedName_NoLongerServedReservedNameKeepsItsCertificate()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort);
        await using var local = await TestOrigin.StartAsync("laptop");
        await using var edge = await TestEdge.StartAsync(Yaml(httpPort, httpsPort, pebble, grace: "300ms"));
        var certificates = edge.Host.Services.GetRequiredService<IAutomaticCertificates>();

        var random = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "demo"), token: "alice-token");
        var reserved = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "blog", id: "blog"), token: "alice-token");
        await Wait.UntilAsync(() => certificates.HasCertificate("demo.tunnels.test") && certificates.HasCertificate("blog.tunnels.test"),
            TimeSpan.FromSeconds(45), "both names have certificates");

        await random.DisposeAsync();
        await reserved.DisposeAsync();

        // After the grace period the free name is released for good: not served, not renewed.
        await Wait.UntilAsync(() => !certificates.HasCertificate("demo.tunnels.test"), TimeSpan.FromSeconds(15), "the released name's certificate is dropped");
        Assert.Null(certificates.PendingReason("demo.tunnels.test"));
        // The reserved one stays for its owner's return.
        Assert.True(certificates.HasCertificate("blog.tunnels.test"));
    }

    [SkippableFact]
    [Configuration.DocumentedKeys.CoversKey("tls.acme.tunnel_orders_per_hour")]
    public async Task OrderCap_FiftyNewNamesInAMinute_AtMostTheCapOrderedTheRestWaitAndSaySo()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort);
        await using var edge = await TestEdge.StartAsync(Yaml(httpPort, httpsPort, pebble, "    tunnel_orders_per_hour: 3"));
        var certificates = edge.Host.Services.GetRequiredService<IAutomaticCertificates>();

        var links = new List<RawLink>();
        try
        {
            for (var i = 0; i < 50; i++) links.Add(await RawLink.OpenAsync(edge.Url, "alice-token", $"http; id=t{i}; name=n{i}"));
            var hosts = links.Select(l => $"{l.GrantedName}.tunnels.test").ToList();

            await Wait.UntilAsync(() => hosts.All(h => certificates.HasCertificate(h) || certificates.PendingReason(h)?.StartsWith("waiting for a slot", StringComparison.Ordinal) == true),
                TimeSpan.FromSeconds(60), "every name is either served or waiting for a slot");

            Assert.Equal(3, hosts.Count(certificates.HasCertificate));
            var waiting = certificates.PendingReason(hosts.First(h => !certificates.HasCertificate(h)))!;
            Assert.Contains("at most 3 new tunnel certificates per hour (tls.acme.tunnel_orders_per_hour); next try at", waiting);
        }
        finally
        {
            foreach (var link in links) await link.DisposeAsync();
        }
    }

    private static string[] DnsNames(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).ToArray();
}
