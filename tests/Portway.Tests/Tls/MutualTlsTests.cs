using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Tls;

public sealed class MutualTlsTests
{
    /// <summary>An https origin that requires a client certificate from <paramref name="clientCa"/> and echoes its subject.</summary>
    private static async Task<(WebApplication App, int Port)> StartMtlsOriginAsync(X509Certificate2 serverCert, X509Certificate2 clientCa)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCert,
            ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (cert, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(clientCa);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(cert);
            },
        })));
        var app = builder.Build();
        app.Run(ctx => ctx.Response.WriteAsync("client=" + ctx.Connection.ClientCertificate?.Subject + " host=" + ctx.Request.Host.Host));
        await app.StartAsync();
        return (app, new Uri(app.Urls.First()).Port);
    }

    [Fact]
    [CoversKey("clusters[].tls.ca", "clusters[].tls.server_name", "clusters[].tls.client_cert", "clusters[].tls.client_key")]
    public async Task Forward_HttpsDestinationWithClientCertificate_WorksAndFailsWithoutCertOrTrust()
    {
        var dir = TestCertificates.TempDir();
        using var serverCa = TestCertificates.CreateCa("Upstream server CA");
        using var clientCa = TestCertificates.CreateCa("Upstream client CA");
        using var serverCert = TestCertificates.CreateLeaf(serverCa, "origin", ["origin.internal"]);
        using var edgeClient = TestCertificates.CreateLeaf(clientCa, "portway-edge", [], client: true);
        var serverCaFile = TestCertificates.WriteCaPem(dir, "server-ca", serverCa);
        var (clientCert, clientKey) = TestCertificates.WritePem(dir, "edge-client", edgeClient);
        var (app, port) = await StartMtlsOriginAsync(serverCert, clientCa);
        await using var _ = app;

        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: good
                match:
                  path_prefix: /good
                cluster: good
              - id: nocert
                match:
                  path_prefix: /nocert
                cluster: nocert
              - id: untrusted
                match:
                  path_prefix: /untrusted
                cluster: untrusted
            clusters:
              - id: good
                destinations: [https://127.0.0.1:{port}]
                retries:
                  attempts: 1
                tls:
                  ca: {serverCaFile}
                  server_name: origin.internal
                  client_cert: {clientCert}
                  client_key: {clientKey}
              - id: nocert
                destinations: [https://127.0.0.1:{port}]
                retries:
                  attempts: 1
                tls:
                  ca: {serverCaFile}
                  server_name: origin.internal
              - id: untrusted
                destinations: [https://127.0.0.1:{port}]
                retries:
                  attempts: 1
                tls:
                  server_name: origin.internal
                  client_cert: {clientCert}
                  client_key: {clientKey}
            """);

        using var good = await edge.Client.GetAsync("/good");
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        Assert.Equal("client=CN=portway-edge host=origin.internal", await good.Content.ReadAsStringAsync());

        using var noCert = await edge.Client.GetAsync("/nocert");
        Assert.Equal(HttpStatusCode.BadGateway, noCert.StatusCode);

        using var untrusted = await edge.Client.GetAsync("/untrusted");
        Assert.Equal(HttpStatusCode.BadGateway, untrusted.StatusCode);
    }

    [Fact]
    [CoversKey("tls.client_auth[].route", "tls.client_auth[].ca")]
    public async Task Request_RouteRequiresClientCertificate_403WithoutOrUntrusted_SubjectPassedWhenValid()
    {
        await using var origin = await TestOrigin.StartAsync("o", ctx => ctx.Response.WriteAsync("subject=" + ctx.Request.Headers["X-Client-Cert-Subject"]));
        var dir = TestCertificates.TempDir();
        using var serverCa = TestCertificates.CreateCa();
        using var visitorCa = TestCertificates.CreateCa("Visitor CA");
        using var otherCa = TestCertificates.CreateCa("Other CA");
        using var site = TestCertificates.CreateLeaf(serverCa, "site", ["secure.example.test", "open.example.test"]);
        using var alice = TestCertificates.CreateLeaf(visitorCa, "alice", [], client: true);
        using var mallory = TestCertificates.CreateLeaf(otherCa, "mallory", [], client: true);
        var (cert, key) = TestCertificates.WritePem(dir, "site", site);
        var visitorCaFile = TestCertificates.WriteCaPem(dir, "visitor-ca", visitorCa);
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              sites:
                - hosts: [secure.example.test, open.example.test]
                  cert: {cert}
                  key: {key}
              client_auth:
                - route: secure
                  ca: {visitorCaFile}
            routes:
              - id: secure
                match:
                  hosts: [secure.example.test]
                cluster: app
              - id: open
                match:
                  hosts: [open.example.test]
                cluster: app
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);
        var port = edge.HttpsUrl().Port;

        using var anonymous = TlsClient.Create(port, serverCa);
        using var spoofed = new HttpRequestMessage(HttpMethod.Get, $"https://secure.example.test:{port}/") { Headers = { { "X-Client-Cert-Subject", "CN=admin" } } };
        using var r1 = await anonymous.SendAsync(spoofed);
        Assert.Equal(HttpStatusCode.Forbidden, r1.StatusCode);
        using var r2 = await anonymous.GetAsync($"https://open.example.test:{port}/");
        Assert.Equal(HttpStatusCode.OK, r2.StatusCode);

        using var withAlice = TlsClient.Create(port, serverCa, alice);
        using var spoofed2 = new HttpRequestMessage(HttpMethod.Get, $"https://secure.example.test:{port}/") { Headers = { { "X-Client-Cert-Subject", "CN=admin" } } };
        using var r3 = await withAlice.SendAsync(spoofed2);
        Assert.Equal(HttpStatusCode.OK, r3.StatusCode);
        Assert.Equal("subject=CN=alice", await r3.Content.ReadAsStringAsync());

        using var withMallory = TlsClient.Create(port, serverCa, mallory);
        using var r4 = await withMallory.GetAsync($"https://secure.example.test:{port}/");
        Assert.Equal(HttpStatusCode.Forbidden, r4.StatusCode);
    }
}
