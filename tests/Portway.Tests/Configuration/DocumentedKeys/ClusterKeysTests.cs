using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Portway.Tests.Infrastructure;
using Portway.Tests.LoadBalancing;
using Portway.Tests.Retries;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>
/// Cluster keys not already shown by the load-balancing, health, retry and TLS tests (those carry
/// [CoversKey] where they are): random, hash on client IP, destination ids, connect timeout,
/// HTTP/2 to the servers, insecure upstream TLS.
/// </summary>
public sealed class ClusterKeysTests
{
    [Fact]
    [CoversKey("clusters[].load_balancing=random")]
    public async Task Random_TwoDestinations_BothUsedAndNotInStrictTurn()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b], "    load_balancing: random"));

        var order = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            using var response = await edge.Client.GetAsync("/");
            order.Add(Cluster.OriginOf(response));
        }

        // Round robin (the default) alternates a b a b…; 60 fair coin flips do so with probability 2^-59.
        Assert.Contains(order.Zip(order.Skip(1)), pair => pair.First == pair.Second);
        Assert.True(order.Count(o => o == "a") >= 10 && order.Count(o => o == "b") >= 10, string.Join(" ", order));
    }

    [Fact]
    [CoversKey("clusters[].load_balancing=consistent_hash", "clusters[].hash_on=client_ip")]
    public async Task ConsistentHash_ClientIp_EachVisitorAddressSticksToOneDestination()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var c = await TestOrigin.StartAsync("c");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([a, b, c], "    load_balancing: consistent_hash\n    hash_on: client_ip"));

        var byVisitor = new Dictionary<string, HashSet<string>>();
        for (var n = 2; n < 14; n++)
        {
            var address = $"127.0.0.{n}";
            using var client = Probe.From(address, edge.Url);
            byVisitor[address] = [];
            for (var i = 0; i < 4; i++)
            {
                using var response = await client.GetAsync("/");
                byVisitor[address].Add(Cluster.OriginOf(response));
            }
        }

        Assert.All(byVisitor, v => Assert.True(v.Value.Count == 1, $"{v.Key} reached {string.Join(", ", v.Value)}"));
        // Twelve addresses over three destinations all on one: probability 3^-11.
        Assert.True(byVisitor.Values.Select(v => v.First()).Distinct().Count() >= 2, "the addresses spread over the destinations");
    }

    [Fact]
    [CoversKey("clusters[].destinations[].id")]
    public async Task DestinationId_Named_UsedInTheHealthMetric()
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([$"url: {a.Url}\n        id: blue", $"url: {b.Url}\n        id: green"], clusterId: "keys-ids"));
        (await edge.Client.GetAsync("/")).Dispose();

        using var admin = new HttpClient { BaseAddress = edge.AdminUrl };
        var metrics = await admin.GetStringAsync("/metrics");

        // Labels come sorted (address, cluster, destination); without ids they would be d0 and d1.
        Assert.Matches("portway_destination_healthy\\{[^}]*cluster=\"keys-ids\",destination=\"blue\"", metrics);
        Assert.Matches("portway_destination_healthy\\{[^}]*cluster=\"keys-ids\",destination=\"green\"", metrics);
    }

    [SkippableFact]
    [CoversKey("clusters[].timeouts.connect")]
    public async Task ConnectTimeout_ShorterThanDefault_504BeforeTheDefaultWouldEnd()
    {
        using var blackhole = await Blackhole.StartAsync();
        await using var edge = await TestEdge.StartAsync(Cluster.Yaml([$"http://127.0.0.1:{blackhole.Port}/"], """
                timeouts:
                  connect: 300ms
                retries:
                  attempts: 1
            """));
        // The default connect timeout is 5 s: a client that gives up at 4 s only gets the page if the key is read.
        using var client = new HttpClient { BaseAddress = edge.Url, Timeout = TimeSpan.FromSeconds(4) };

        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("Could not connect to", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    [CoversKey("clusters[].http2")]
    public async Task Http2_True_ReachesAnHttp2OnlyServer()
    {
        await using var h2 = await Probe.StartEchoAsync("h2", HttpProtocols.Http2);
        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: h2
                match: {"{"} path_prefix: /h2 {"}"}
                cluster: h2
              - id: h1
                cluster: h1
            clusters:
              - id: h2
                destinations: [{h2.Url}]
                http2: true
              - id: h1
                destinations: [{h2.Url}]
                retries: {"{"} attempts: 1 {"}"}
            """);

        using var viaH2 = await edge.Client.GetAsync("/h2/x");
        using var viaH1 = await edge.Client.GetAsync("/h1/x");

        Assert.Equal("HTTP/2", (await Probe.SeenAsync(viaH2)).Protocol);
        // Without the key the edge speaks HTTP/1.1, which a prior-knowledge h2c server cannot read.
        Assert.NotEqual(HttpStatusCode.OK, viaH1.StatusCode);
    }

    [Fact]
    public async Task TlsServerName_HttpDestinationInTheCluster_KeepsItsOwnHost()
    {
        // samples/full.yaml's cluster 'web' mixes an http:// server with a tls block; server_name is
        // for https:// servers only and once became the Host of every request to the http one too.
        await using var origin = await Probe.StartEchoAsync();
        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: web
                cluster: web
            clusters:
              - id: web
                destinations: [{origin.Url}]
                tls: {"{"} server_name: web.internal {"}"}
            """);

        var seen = await Probe.SeenAsync(await edge.Client.GetAsync("/"));

        Assert.Equal($"127.0.0.1:{origin.Port}", seen.Header("Host"));
    }

    [Fact]
    [CoversKey("clusters[].tls.insecure")]
    public async Task TlsInsecure_True_UntrustedServerCertificateAccepted()
    {
        using var ca = TestCertificates.CreateCa("Nobody trusts this CA");
        using var leaf = TestCertificates.CreateLeaf(ca, "origin", ["origin.internal"]);
        using var serverCert = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(serverCert)));
        await using var app = builder.Build();
        app.Run(ctx => ctx.Response.WriteAsync("over tls"));
        await app.StartAsync();
        var url = app.Urls.First();

        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: lab
                match: {"{"} path_prefix: /lab {"}"}
                cluster: lab
              - id: strict
                cluster: strict
            clusters:
              - id: lab
                destinations: [{url}]
                tls: {"{"} insecure: true {"}"}
              - id: strict
                destinations: [{url}]
                retries: {"{"} attempts: 1 {"}"}
            """);

        using var lab = await edge.Client.GetAsync("/lab");
        using var strict = await edge.Client.GetAsync("/strict");

        Assert.Equal("over tls", await lab.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadGateway, strict.StatusCode);
    }
}
