using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>security_headers: the preset, overrides, off, a server's own header kept, HSTS only over https.</summary>
public sealed class SecurityHeadersRuleTests
{
    [Fact]
    [CoversKey("rules[].security_headers.hsts", "rules[].security_headers.content_type_options", "rules[].security_headers.referrer_policy",
        "rules[].security_headers.frame_options", "rules[].security_headers.frame_ancestors")]
    public async Task SecurityHeaders_PresetOverridesAndOff_HstsOnlyOverHttps()
    {
        var dir = Directory.CreateTempSubdirectory("portway-sec-").FullName;
        using var ca = TestCertificates.CreateCa();
        using var leaf = TestCertificates.CreateLeaf(ca, "CN=localhost", ["localhost"]);
        var (cert, key) = TestCertificates.WritePem(dir, "site", leaf);
        await using var origin = await TestOrigin.StartAsync("a", ctx =>
        {
            // A server's own policy is kept: the preset only fills in what is missing.
            if (ctx.Request.Path == "/own") ctx.Response.Headers["Content-Security-Policy"] = "default-src 'self'";
            return ctx.Response.WriteAsync("ok");
        });
        await using var edge = await TlsEdge.StartAsync($"""
            tls:
              sites:
                - default: true
                  cert: {cert}
                  key: {key}
                  redirect: false
            rules:
              - security_headers: {"{"} hsts: 'max-age=600', referrer_policy: no-referrer, frame_options: 'off', content_type_options: nosniff, frame_ancestors: "'self'" {"}"}
            routes:
              - id: web
                cluster: app
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);

        using var http = await edge.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, http.StatusCode);
        Assert.False(http.Headers.Contains("Strict-Transport-Security"));
        Assert.Equal("nosniff", http.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", http.Headers.GetValues("Referrer-Policy").Single());
        Assert.False(http.Headers.Contains("X-Frame-Options"));
        Assert.Equal("frame-ancestors 'self'", http.Headers.GetValues("Content-Security-Policy").Single());

        using var client = TlsClient.Create(edge.HttpsUrl().Port, ca);
        using var https = await client.GetAsync("https://localhost/");
        Assert.Equal("max-age=600", https.Headers.GetValues("Strict-Transport-Security").Single());
        using var own = await client.GetAsync("https://localhost/own");
        Assert.Equal("default-src 'self'", own.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task SecurityHeaders_Defaults_AlsoOnTheEdgesOwnPages()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($"""
            rules:
              - security_headers: {"{"}{"}"}
            routes:
              - id: web
                cluster: app
                access: {"{"} deny: [127.0.0.0/8] {"}"}
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);
        using var refused = await edge.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("nosniff", refused.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("strict-origin-when-cross-origin", refused.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("DENY", refused.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("frame-ancestors 'none'", refused.Headers.GetValues("Content-Security-Policy").Single());
    }
}
