using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>tls keys the TLS tests leave at their defaults: min_version, and client_auth's header name.</summary>
public sealed class TlsKeysTests
{
    [Theory]
    [InlineData("\"1.2\"", true)]
    [InlineData("\"1.3\"", false)]
    [CoversKey("tls.min_version")]
    public async Task MinVersion_Tls12Client_AcceptedOnlyWhenTheFloorIs12(string minVersion, bool tls12Accepted)
    {
        var dir = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "a", ["a.example.test"]);
        var (cert, key) = TestCertificates.WritePem(dir, "a", leaf);
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              min_version: {minVersion}
              sites:
                - default: true
                  cert: {cert}
                  key: {key}
            """);

        var tls13 = await TlsClient.HandshakeAsync(edge.HttpsUrl(), "a.example.test", SslProtocols.Tls13);
        Assert.Equal(SslProtocols.Tls13, tls13.Protocol);
        if (tls12Accepted) Assert.Equal(SslProtocols.Tls12, (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "a.example.test", SslProtocols.Tls12)).Protocol);
        else await Assert.ThrowsAnyAsync<Exception>(() => TlsClient.HandshakeAsync(edge.HttpsUrl(), "a.example.test", SslProtocols.Tls12));
    }

    [Fact]
    [CoversKey("tls.client_auth[].header")]
    public async Task ClientAuthHeader_Named_SubjectArrivesUnderThatNameAndForgedOneIsDropped()
    {
        await using var origin = await Probe.StartEchoAsync();
        var dir = TestCertificates.TempDir();
        using var serverCa = TestCertificates.CreateCa();
        using var visitorCa = TestCertificates.CreateCa("Visitor CA");
        using var site = TestCertificates.CreateLeaf(serverCa, "site", ["secure.example.test"]);
        using var alice = TestCertificates.CreateLeaf(visitorCa, "alice", [], client: true);
        var (cert, key) = TestCertificates.WritePem(dir, "site", site);
        var visitorCaFile = TestCertificates.WriteCaPem(dir, "visitor-ca", visitorCa);
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              sites:
                - hosts: [secure.example.test]
                  cert: {cert}
                  key: {key}
              client_auth:
                - route: secure
                  ca: {visitorCaFile}
                  header: X-Visitor-Subject
            routes:
              - id: secure
                cluster: app
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);
        var port = edge.HttpsUrl().Port;
        using var client = TlsClient.Create(port, serverCa, alice);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://secure.example.test:{port}/") { Headers = { { "X-Visitor-Subject", "CN=admin" } } };
        using var response = await client.SendAsync(request);
        var seen = await Probe.SeenAsync(response);

        Assert.Equal("CN=alice", seen.Header("X-Visitor-Subject"));
        Assert.Null(seen.Header("X-Client-Cert-Subject"));
    }
}
