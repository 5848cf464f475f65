using System.Net;
using Portway.Edge.Tunnels;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>
/// The URLs an agent is given are the ones the edge really serves: https only while a certificate
/// covers the name (here a wildcard file certificate: every name covered from its first request),
/// http redirected once it does (unless the token turns that off), and a reason while https is missing.
/// </summary>
public sealed class TunnelHttpsTests
{
    private static string Config(string? wildcardCert, string? wildcardKey, bool redirect = true) => TlsEdge.Listeners + $"""
        tunnels:
          domains: [tunnels.test]
          tokens:
            - name: alice
              sha256: {TokenAuthenticator.Hash("alice-token")}
              allowed_patterns: ["*"]
              https_redirect: {(redirect ? "true" : "false")}
        """ + $"""

        tls:
          sites:
            - hosts: ["{(wildcardCert is null ? "other.test" : "*.tunnels.test")}"]
              cert: {wildcardCert ?? OtherCert.Value.Cert}
              key: {wildcardKey ?? OtherCert.Value.Key}
              redirect: {(redirect ? "true" : "false")}
        """;

    /// <summary>A certificate for a name that is not a tunnel's: the https listener needs a site, none covers the tunnels.</summary>
    private static readonly Lazy<(string Cert, string Key)> OtherCert = new(() =>
    {
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "other.test", ["other.test"]);
        return TestCertificates.WritePem(TestCertificates.TempDir(), "other", leaf);
    });

    [Fact]
    public async Task Grant_WildcardCertificateCoversTheName_HttpsUrlOnlyAndHttpRedirected()
    {
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "*.tunnels.test", ["*.tunnels.test"]);
        var (cert, key) = TestCertificates.WritePem(TestCertificates.TempDir(), "wild", leaf);
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Config(cert, key));
        var httpsPort = edge.HttpsUrl().Port;

        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url, name: "demo"), token: "alice-token");

        var grant = Assert.Single(agent.Status.Grants);
        Assert.Equal($"https://demo.tunnels.test:{httpsPort}", grant.Https);
        Assert.Null(grant.Http); // redirected, so not a URL to hand out
        Assert.Null(grant.HttpsPending);
        Assert.Equal(grant.Https, grant.Url);

        using var client = TlsClient.Create(httpsPort, ca);
        Assert.Equal("local", await client.GetStringAsync($"https://demo.tunnels.test:{httpsPort}/"));
        using var plain = TunnelClient.Create();
        using var redirect = await plain.GetAsync($"http://demo.tunnels.test:{edge.Url.Port}/a?b=1");
        Assert.Equal(HttpStatusCode.PermanentRedirect, redirect.StatusCode);
        Assert.Equal($"https://demo.tunnels.test:{httpsPort}/a?b=1", redirect.Headers.Location!.ToString());
    }

    [Fact]
    [Configuration.DocumentedKeys.CoversKey("tunnels.tokens[].https_redirect")]
    public async Task Grant_TokenTurnsRedirectOff_BothUrlsAndHttpServed()
    {
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "*.tunnels.test", ["*.tunnels.test"]);
        var (cert, key) = TestCertificates.WritePem(TestCertificates.TempDir(), "wild", leaf);
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Config(cert, key, redirect: false));

        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url, name: "demo"), token: "alice-token");

        var grant = Assert.Single(agent.Status.Grants);
        Assert.Equal($"https://demo.tunnels.test:{edge.HttpsUrl().Port}", grant.Https);
        Assert.Equal($"http://demo.tunnels.test:{edge.Url.Port}", grant.Http);
        using var plain = TunnelClient.Create();
        Assert.Equal("local", await plain.GetStringAsync($"http://demo.tunnels.test:{edge.Url.Port}/"));
    }

    [Fact]
    public async Task Grant_NoCertificateYet_HttpUrlAndTheReasonHttpsIsPending()
    {
        await using var origin = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Config(null, null)); // no wildcard, ACME for tunnels off: nothing covers the name

        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(origin.Url, name: "demo"), token: "alice-token");

        var grant = Assert.Single(agent.Status.Grants);
        Assert.Null(grant.Https);
        Assert.Equal($"http://demo.tunnels.test:{edge.Url.Port}", grant.Http);
        Assert.Equal("no certificate covers demo.tunnels.test: add a tls.sites entry for *.tunnels.test, or turn on tls.acme.tunnels", grant.HttpsPending);
        using var plain = TunnelClient.Create();
        Assert.Equal("local", await plain.GetStringAsync($"http://demo.tunnels.test:{edge.Url.Port}/")); // not redirected to a warning
    }
}
