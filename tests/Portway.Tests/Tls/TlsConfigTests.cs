using Portway.Configuration;
using Xunit;

namespace Portway.Tests.Tls;

public sealed class TlsConfigTests
{
    private static ConfigException Errors(string yaml) => Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "p.yaml"));

    [Fact]
    public void Parse_HttpsListenerWithoutCertificates_ErrorSaysAddSites()
    {
        var e = Errors("listeners:\n  - url: https://0.0.0.0:8443\n");
        Assert.Contains(e.Errors, x => x.Message.Contains("needs certificates") && x.Key == "listeners");
    }

    [Fact]
    public void Parse_AutoWildcardAndMissingTos_LocatedErrors()
    {
        var e = Errors("""
            tls:
              sites:
                - hosts: ["*.example.com"]
                  certificate: auto
            """);
        Assert.Contains(e.Errors, x => x.Key == "tls.sites[0].hosts" && x.Message.Contains("dns-01"));
        Assert.Contains(e.Errors, x => x.Key == "tls.acme" && x.Message.Contains("agree_tos"));
    }

    [Fact]
    public void Parse_TwoSourcesOrKeyWithoutCert_Errors()
    {
        var e = Errors("""
            tls:
              sites:
                - hosts: [a.example.com]
                  certificate: auto
                  cert: /x.pem
                  key: /x.key
                - hosts: [b.example.com]
                  key: /y.key
            """);
        Assert.Contains(e.Errors, x => x.Key == "tls.sites[0].certificate" && x.Message.Contains("exactly one"));
        Assert.Contains(e.Errors, x => x.Key == "tls.sites[1].key" && x.Message.Contains("needs its certificate"));
    }

    [Fact]
    public void Parse_FullTlsSection_ReadsEverySetting()
    {
        var config = ConfigLoader.Parse("""
            listeners:
              - url: https://0.0.0.0:8443
            tls:
              min_version: "1.3"
              sites:
                - hosts: [a.example.com]
                  certificate: auto
                  hsts: 365d
                - default: true
                  pkcs12: /etc/p.p12
              acme:
                directory: letsencrypt_staging
                email: ops@example.com
                agree_tos: true
                challenges: [http-01]
                key_type: rsa_2048
                storage: /var/lib/portway/acme
            routes:
              - id: r
                cluster: c
            clusters:
              - id: c
                destinations: [https://10.0.0.1]
                tls:
                  ca: /etc/ca.pem
                  server_name: api.internal
            """, "p.yaml");
        Assert.Equal(Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2, config.Listeners[0].Protocols);
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls13, config.Tls.MinVersion);
        Assert.Equal(CertificateSource.Acme, config.Tls.Sites[0].Source);
        Assert.Equal("max-age=31536000", config.Tls.Sites[0].HstsHeader);
        Assert.True(config.Tls.Sites[1].Default);
        Assert.Equal(new Uri(AcmeConfig.LetsEncryptStaging), config.Tls.Acme.Directory);
        Assert.Equal(["http-01"], config.Tls.Acme.Challenges.ToArray());
        Assert.Equal("api.internal", config.Clusters[0].Tls!.ServerName);
    }
}
