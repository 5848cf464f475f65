using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Portway.Edge.Tls;
using Portway.Tests.Infrastructure;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Tls;
using Xunit;
using Xunit.Abstractions;

namespace Portway.Tests.Acme;

/// <summary>End to end against Pebble: real orders, real validation of the edge's own answers.</summary>
public sealed class AcmePebbleTests(ITestOutputHelper output)
{
    private static string EdgeYaml(int httpPort, int httpsPort, PebbleServer pebble, string storage, string challenge, string hosts, string extra = "") => $"""
        listeners:
          - name: http
            url: http://127.0.0.1:{httpPort}
          - name: https
            url: https://127.0.0.1:{httpsPort}
        tls:
          sites:
            - hosts: [{hosts}]
              certificate: auto
        {extra}
          acme:
            directory: {pebble.Directory}
            ca_root: {pebble.CaRootFile}
            agree_tos: true
            email: ops@example.com
            challenges: [{challenge}]
            storage: {storage}
            poll_interval: 100ms
            retry_min: 500ms
            retry_max: 2s
        """;

    private async Task<System.Security.Cryptography.X509Certificates.X509Certificate2> WaitForPebbleCertificateAsync(
        TestEdge edge, PebbleServer pebble, string host, Func<System.Security.Cryptography.X509Certificates.X509Certificate2, bool>? also = null, int seconds = 60)
    {
        System.Security.Cryptography.X509Certificates.X509Certificate2? served = null;
        try
        {
            await Wait.UntilAsync(async () =>
            {
                try
                {
                    served = (await TlsClient.HandshakeAsync(edge.HttpsUrl(), host)).Certificate;
                    return served.Issuer.Contains("Pebble", StringComparison.Ordinal) && (also is null || also(served));
                }
                catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(seconds), $"a Pebble certificate for {host}");
        }
        catch (TimeoutException)
        {
            output.WriteLine(pebble.Log);
            foreach (var p in edge.Host.Services.GetRequiredService<TlsManager>().Problems) output.WriteLine($"problem {p.Key}: {p.Value}");
            throw;
        }
        return served!;
    }

    [SkippableFact]
    [CoversKey("tls.acme.storage")]
    public async Task Issue_Http01_CertificateServedAndKeyStored0600()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort);
        await using var origin = await TestOrigin.StartAsync("site");
        var storage = TestCertificates.TempDir();
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, storage, "http-01", "web.pebble.test") + $"""

            routes:
              - cluster: app
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);

        var served = await WaitForPebbleCertificateAsync(edge, pebble, "web.pebble.test");
        Assert.True(served.MatchesHostname("web.pebble.test"));

        using var root = await pebble.IssuingRootAsync();
        using var client = TlsClient.Create(httpsPort, root);
        using var response = await client.GetAsync($"https://web.pebble.test:{httpsPort}/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("site", await response.Content.ReadAsStringAsync());

        if (!OperatingSystem.IsWindows())
        {
            var keyFile = Directory.GetFiles(storage, "key.pem", SearchOption.AllDirectories).Single();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            var accountKey = Directory.GetFiles(storage, "account.key", SearchOption.AllDirectories).Single();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(accountKey));
        }

        // Now that the site has a certificate, plain http is redirected.
        using var plain = new HttpRequestMessage(HttpMethod.Get, "/x") { Headers = { Host = "web.pebble.test" } };
        using var redirect = await edge.Client.SendAsync(plain);
        Assert.Equal(HttpStatusCode.PermanentRedirect, redirect.StatusCode);
    }

    /// <summary>docs/deploy.md: start on the staging CA, then switch tls.acme.directory to production and reload.</summary>
    [SkippableFact]
    public async Task Reload_DirectoryChanged_OrdersFromTheNewCaAtOnce()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var staging = await PebbleServer.StartAsync(httpPort, httpsPort);
        await using var production = await PebbleServer.StartAsync(httpPort, httpsPort);
        var storage = TestCertificates.TempDir();
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, staging, storage, "http-01", "switch.pebble.test"));
        using var stagingRoot = await staging.IssuingRootAsync();
        var first = await WaitForPebbleCertificateAsync(edge, staging, "switch.pebble.test");

        // A 90-day certificate from the first CA is nowhere near renewal: only the switch can replace it.
        await edge.RewriteAsync(EdgeYaml(httpPort, httpsPort, production, storage, "http-01", "switch.pebble.test"));
        var second = await WaitForPebbleCertificateAsync(edge, production, "switch.pebble.test", c => c.Issuer != first.Issuer);

        using var productionRoot = await production.IssuingRootAsync();
        using var client = TlsClient.Create(httpsPort, productionRoot);
        using var response = await client.GetAsync($"https://switch.pebble.test:{httpsPort}/");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); // no route; the handshake trusted only the new CA's root
        Assert.NotEqual(first.Thumbprint, second.Thumbprint);
        // Each CA keeps its own account and certificates under the storage folder.
        Assert.Equal(2, Directory.GetFiles(storage, "account.key", SearchOption.AllDirectories).Length);
    }

    [SkippableFact]
    public async Task Issue_TlsAlpn01_CertificateServed()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort);
        var storage = TestCertificates.TempDir();
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, storage, "tls-alpn-01", "alpn.pebble.test, www.alpn.pebble.test"));

        var served = await WaitForPebbleCertificateAsync(edge, pebble, "alpn.pebble.test");
        Assert.True(served.MatchesHostname("www.alpn.pebble.test"));
        Assert.Equal(served.Thumbprint, (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "www.alpn.pebble.test")).Certificate.Thumbprint);
    }

    [SkippableFact]
    public async Task Renew_ShortLivedCertificate_ReplacedBeforeItExpires()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        // 30-second certificates: renewal is due 20 s after issuance (2/3 of the lifetime).
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, validitySeconds: 30);
        var storage = TestCertificates.TempDir();
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, storage, "tls-alpn-01", "renew.pebble.test"));

        var first = await WaitForPebbleCertificateAsync(edge, pebble, "renew.pebble.test");
        var second = await WaitForPebbleCertificateAsync(edge, pebble, "renew.pebble.test", c => c.SerialNumber != first.SerialNumber, seconds: 60);
        Assert.True(DateTime.Now < first.NotAfter, "the renewed certificate must be served before the first one expires");
        Assert.True(second.NotAfter > first.NotAfter);
    }

    [SkippableFact]
    public async Task Issue_PebbleRejectsHalfTheNoncesAndValidatesSlowly_StillIssues()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, env: new Dictionary<string, string>
        {
            ["PEBBLE_WFE_NONCEREJECT"] = "50",
            ["PEBBLE_VA_SLEEPTIME"] = "3",
        });
        var storage = TestCertificates.TempDir();
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, storage, "http-01", "slow.pebble.test"));

        var served = await WaitForPebbleCertificateAsync(edge, pebble, "slow.pebble.test", seconds: 90);
        Assert.True(served.MatchesHostname("slow.pebble.test"));
        Assert.True(edge.Host.Services.GetRequiredService<Portway.Edge.Acme.AcmeManager>().BadNonceRetries > 0, "Pebble rejected nonces, so some requests must have been retried");
    }

    // challenges: [http-01] only: were the default list (tls-alpn-01 first) used, validation would succeed.
    [SkippableFact]
    [CoversKey("tls.acme.challenges")]
    public async Task Issue_ValidationFails_ProblemDocumentReportedAndOtherSitesServed()
    {
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        // Pebble's validator is sent to a port where nothing listens, so http-01 must fail.
        await using var pebble = await PebbleServer.StartAsync(FreePorts.Tcp(), httpsPort);
        var storage = TestCertificates.TempDir();
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "files", ["files.example.test"]);
        var (cert, key) = TestCertificates.WritePem(storage, "files", leaf);
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, storage, "http-01", "broken.pebble.test", $"""
                - hosts: [files.example.test]
                  cert: {cert}
                  key: {key}
            """));
        var tls = edge.Host.Services.GetRequiredService<TlsManager>();
        await Wait.UntilAsync(() => tls.Problems.Values.Any(p => p.Contains("broken.pebble.test") && p.Contains("urn:ietf:params:acme:error:")),
            TimeSpan.FromSeconds(60), "the CA's problem document reported for the host");
        output.WriteLine(string.Join("\n", tls.Problems.Values));
        Assert.Equal(leaf.Thumbprint, (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "files.example.test")).Certificate.Thumbprint);
    }
}
