using Portway.Configuration;
using Xunit;

namespace Portway.Tests.Acme;

/// <summary>tls.acme.dns and per-site challenge: what is accepted, what is refused and where.</summary>
public sealed class Dns01ConfigTests
{
    private const string Secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=";

    private static string Yaml(string sites, string dns) => $"""
        tls:
          sites:
        {sites}
          acme:
            agree_tos: true
        {dns}
        """;

    private const string Rfc2136 = """
            dns:
              provider: rfc2136
              server: 127.0.0.1:5353
              zone: tunnels.test
              tsig_key_name: portway
              tsig_secret: c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=
        """;

    private const string Wildcard = """
            - hosts: ["*.tunnels.test", tunnels.test]
              certificate: auto
        """;

    private static ConfigException Errors(string yaml) => Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "p.yaml"));

    [Fact]
    public void Parse_WildcardWithRfc2136_AcceptedAsDns01WithDefaults()
    {
        var config = ConfigLoader.Parse(Yaml(Wildcard, Rfc2136), "p.yaml");
        var site = Assert.Single(config.Tls.Sites);
        Assert.Equal("dns-01", site.Challenge);
        var dns = config.Tls.Acme.Dns!;
        Assert.Equal(("rfc2136", "127.0.0.1:5353", "tunnels.test.", "portway.", "hmac-sha256"), (dns.Provider, dns.Server, dns.Zone, dns.TsigKeyName, dns.TsigAlgorithm));
        Assert.Equal((TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(2), 60), (dns.PropagationTimeout, dns.PropagationInterval, dns.Ttl));
    }

    [Fact]
    public void Parse_WildcardWithoutDns_RefusedSayingConfigureTlsAcmeDns()
    {
        var e = Errors(Yaml(Wildcard, ""));
        var error = Assert.Single(e.Errors, x => x.Key == "tls.sites[0].hosts");
        Assert.Contains("'*.tunnels.test': wildcard certificates need the dns-01 challenge; configure tls.acme.dns", error.Message);
        Assert.Equal((3, 14), (error.Line, error.Column));
    }

    [Fact]
    public void Parse_ExecProvider_ReadsCommandTimeoutAndResolver()
    {
        var config = ConfigLoader.Parse(Yaml("""
                - hosts: [www.example.com]
                  certificate: auto
                  challenge: dns-01
            """, """
                dns:
                  provider: exec
                  command: /usr/local/bin/dns-hook
                  timeout: 30s
                  resolver: "[2001:db8::53]:53"
                  propagation_timeout: 5m
                  propagation_interval: 10s
                  ttl: 120
            """), "p.yaml");
        Assert.Equal("dns-01", config.Tls.Sites[0].Challenge);
        var dns = config.Tls.Acme.Dns!;
        Assert.Equal(("exec", "/usr/local/bin/dns-hook", TimeSpan.FromSeconds(30), "[2001:db8::53]:53"), (dns.Provider, dns.Command, dns.Timeout, dns.Resolver));
        Assert.Equal((TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10), 120), (dns.PropagationTimeout, dns.PropagationInterval, dns.Ttl));
    }

    [Fact]
    public void Parse_BrokenDnsSection_EveryMistakeLocated()
    {
        var e = Errors(Yaml("""
                - hosts: ["*.example.com"]
                  certificate: auto
                  challenge: http-01
                - hosts: [files.example.com]
                  cert: /a.pem
                  key: /a.key
                  challenge: dns-01
            """, """
                dns:
                  provider: rfc2136
                  server: "not a host:99999"
                  tsig_secret: "not base64!"
                  tsig_algorithm: hmac-md5
                  command: /bin/hook
            """));
        Assert.Contains(e.Errors, x => x.Key == "tls.sites[0].challenge" && x.Message.Contains("validate only with dns-01"));
        Assert.Contains(e.Errors, x => x.Key == "tls.sites[1].challenge" && x.Message.Contains("certificate: auto only"));
        Assert.Contains(e.Errors, x => x.Key == "tls.acme.dns.server" && x.Message.Contains("is not host or host:port"));
        Assert.Contains(e.Errors, x => x.Key == "tls.acme.dns.tsig_secret" && x.Message.Contains("go together"));
        Assert.Contains(e.Errors, x => x.Key == "tls.acme.dns.tsig_secret" && x.Message.Contains("is not base64"));
        Assert.Contains(e.Errors, x => x.Key == "tls.acme.dns.tsig_algorithm" && x.Message.Contains("hmac-sha256"));
        Assert.Contains(e.Errors, x => x.Key == "tls.acme.dns.command" && x.Message.Contains("applies to provider exec only"));
        Assert.DoesNotContain(e.Errors, x => x.Message.Contains("not base64!"));
    }

    [Fact]
    public void Parse_ExecWithoutAbsoluteCommand_Refused()
    {
        var e = Errors(Yaml(Wildcard, """
                dns:
                  provider: exec
                  command: dns-hook
                  zone: example.com
            """));
        Assert.Contains(e.Errors, x => x.Key == "tls.acme.dns.command" && x.Message.Contains("absolute path"));
        Assert.Contains(e.Errors, x => x.Key == "tls.acme.dns.zone" && x.Message.Contains("applies to provider rfc2136 only"));
    }

    [Fact]
    public void Parse_Dns01InChallengesWithoutDns_Refused()
    {
        var e = Errors("""
            tls:
              acme:
                challenges: [dns-01]
            """);
        Assert.Contains(e.Errors, x => x.Key == "tls.acme.challenges" && x.Message.Contains("needs tls.acme.dns"));
    }

    [Fact]
    public void ToString_ConfigWithTsigSecret_SecretLeftOut()
    {
        var config = ConfigLoader.Parse(Yaml(Wildcard, Rfc2136), "p.yaml");
        Assert.DoesNotContain(Secret, config.Tls.Acme.ToString());
        Assert.DoesNotContain(Secret, config.ToString());
        Assert.Contains("TsigSecret = (set)", config.Tls.Acme.Dns!.ToString());
    }

    [Fact]
    public void Equals_DnsSettingChanged_ConfigDiffers()
    {
        var a = ConfigLoader.Parse(Yaml(Wildcard, Rfc2136), "p.yaml");
        var b = ConfigLoader.Parse(Yaml(Wildcard, Rfc2136 + "\n      propagation_timeout: 3m"), "p.yaml");
        Assert.Equal(a.Tls, ConfigLoader.Parse(Yaml(Wildcard, Rfc2136), "p.yaml").Tls);
        Assert.NotEqual(a.Tls, b.Tls);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1", 53)]
    [InlineData("127.0.0.1:5353", "127.0.0.1", 5353)]
    [InlineData("ns1.example.com", "ns1.example.com", 53)]
    [InlineData("ns1.example.com:54", "ns1.example.com", 54)]
    [InlineData("2001:db8::1", "2001:db8::1", 53)]
    [InlineData("[2001:db8::1]:5300", "2001:db8::1", 5300)]
    public void TryParseHostPort_Forms_HostAndPort(string text, string host, int port)
    {
        Assert.True(DnsChallengeSection.TryParseHostPort(text, out var h, out var p));
        Assert.Equal((host, port), (h, p));
    }
}
