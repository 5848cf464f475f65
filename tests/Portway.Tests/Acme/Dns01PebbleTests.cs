using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Portway.Edge.Tls;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Xunit;
using Xunit.Abstractions;

namespace Portway.Tests.Acme;

/// <summary>
/// dns-01 end to end: the edge publishes the TXT record in a real BIND (DNS UPDATE + TSIG, or the
/// operator's hook calling nsupdate), Pebble's validator resolves it through that same BIND, and the
/// record is gone once the order is through.
/// </summary>
public sealed class Dns01PebbleTests(ITestOutputHelper output) : IDisposable
{
    private const string Challenge = "_acme-challenge.tunnels.test";
    private readonly string _storage = TestCertificates.TempDir();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_storage, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string EdgeYaml(int httpPort, int httpsPort, PebbleServer pebble, string hosts, string dns, string siteExtra = "") => $"""
        listeners:
          - name: http
            url: http://127.0.0.1:{httpPort}
          - name: https
            url: https://127.0.0.1:{httpsPort}
        tls:
          sites:
            - hosts: [{hosts}]
              certificate: auto
        {siteExtra}
          acme:
            directory: {pebble.Directory}
            ca_root: {pebble.CaRootFile}
            agree_tos: true
            storage: {_storage}
            poll_interval: 100ms
            retry_min: 500ms
            retry_max: 2s
            dns:
        {dns}
        """;

    private static string Rfc2136(BindServer bind, string? secret = null, bool zone = true) => $"""
              provider: rfc2136
              server: 127.0.0.1:{bind.Port}
        {(zone ? "      zone: tunnels.test." : "")}
              tsig_key_name: {BindServer.KeyName}
              tsig_algorithm: hmac-sha256
              tsig_secret: {secret ?? bind.Secret}
              propagation_timeout: 20s
              propagation_interval: 100ms
        """;

    private async Task<X509Certificate2> WaitForCertificateAsync(TestEdge edge, PebbleServer pebble, BindServer bind, string sni)
    {
        X509Certificate2? served = null;
        try
        {
            await Wait.UntilAsync(async () =>
            {
                try
                {
                    served = (await TlsClient.HandshakeAsync(edge.HttpsUrl(), sni)).Certificate;
                    return served.Issuer.Contains("Pebble", StringComparison.Ordinal);
                }
                catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60), $"a Pebble certificate for {sni}");
        }
        catch (TimeoutException)
        {
            output.WriteLine(pebble.Log);
            output.WriteLine(bind.Log);
            foreach (var p in edge.Host.Services.GetRequiredService<TlsManager>().Problems) output.WriteLine($"problem {p.Key}: {p.Value}");
            throw;
        }
        return served!;
    }

    private static List<string> DnsNames(X509Certificate2 cert)
    {
        var names = new List<string>();
        foreach (var ext in cert.Extensions)
        {
            if (ext is X509SubjectAlternativeNameExtension san) names.AddRange(san.EnumerateDnsNames());
        }
        return names;
    }

    [SkippableFact]
    [Configuration.DocumentedKeys.CoversKey("tls.acme.dns")]
    public async Task Issue_Rfc2136WildcardAndApex_ServedForAnyNameAndTxtRemoved()
    {
        await using var bind = await BindServer.StartAsync();
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, dnsServer: bind.EndPoint);
        var started = Stopwatch.StartNew();
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, "\"*.tunnels.test\", tunnels.test", Rfc2136(bind)));

        var served = await WaitForCertificateAsync(edge, pebble, bind, "anything.tunnels.test");
        output.WriteLine($"issued in {started.Elapsed}");
        Assert.Equal(["*.tunnels.test", "tunnels.test"], DnsNames(served).Order());
        Assert.Equal(served.Thumbprint, (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "tunnels.test")).Certificate.Thumbprint);
        Assert.Equal(served.Thumbprint, (await TlsClient.HandshakeAsync(edge.HttpsUrl(), "other.tunnels.test")).Certificate.Thumbprint);

        // Two authorizations for the same name (the apex and the wildcard): two records added, both removed,
        // each with a TSIG-signed update that BIND logged under the key's name.
        Assert.Equal(2, Count(bind.Log, $"key {BindServer.KeyName}: updating zone 'tunnels.test/IN': adding an RR at '{Challenge}' TXT"));
        Assert.Equal(2, Count(bind.Log, $"key {BindServer.KeyName}: updating zone 'tunnels.test/IN': deleting an RR at {Challenge} TXT"));
        Assert.Empty(await bind.TxtAsync(Challenge));
    }

    [SkippableFact]
    public async Task Issue_Rfc2136SiteChallengeWithoutZone_ZoneFoundAndTxtRemoved()
    {
        await using var bind = await BindServer.StartAsync();
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, dnsServer: bind.EndPoint);
        // challenge: dns-01 on a plain name; no zone key, so the SOA query to the server finds it.
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, "www.tunnels.test", Rfc2136(bind, zone: false),
            "      challenge: dns-01"));

        var served = await WaitForCertificateAsync(edge, pebble, bind, "www.tunnels.test");
        Assert.Equal(["www.tunnels.test"], DnsNames(served));
        Assert.Equal(1, Count(bind.Log, "adding an RR at '_acme-challenge.www.tunnels.test' TXT"));
        Assert.Empty(await bind.TxtAsync("_acme-challenge.www.tunnels.test"));
    }

    [SkippableFact]
    public async Task Issue_ExecHookCallingNsupdate_WildcardServedAndHookCalledToPresentAndClean()
    {
        var nsupdate = Tools.Require("nsupdate", "bind9-dnsutils");
        await using var bind = await BindServer.StartAsync();
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, dnsServer: bind.EndPoint);
        var calls = Path.Combine(bind.Dir, "calls.log");
        var hook = Path.Combine(bind.Dir, "hook.sh");
        await File.WriteAllTextAsync(hook, $$"""
            #!/bin/sh
            echo "$@" >> {{calls}}
            case "$1" in
              present) op="update add $2 60 TXT \"$3\"" ;;
              cleanup) op="update delete $2 TXT \"$3\"" ;;
              *) echo "unknown action $1" >&2; exit 2 ;;
            esac
            printf 'server 127.0.0.1 {{bind.Port}}\nzone tunnels.test\n%s\nsend\n' "$op" | {{nsupdate}} -k {{bind.KeyFile}}

            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, "\"*.tunnels.test\"", $"""
                  provider: exec
                  command: {hook}
                  timeout: 20s
                  resolver: 127.0.0.1:{bind.Port}
                  propagation_timeout: 20s
                  propagation_interval: 100ms
            """));

        var served = await WaitForCertificateAsync(edge, pebble, bind, "tunnel-1.tunnels.test");
        Assert.Equal(["*.tunnels.test"], DnsNames(served));
        var lines = await File.ReadAllLinesAsync(calls);
        Assert.Equal(2, lines.Length);
        var present = lines[0].Split(' ');
        Assert.Equal(["present", Challenge + "."], present[..2]);
        Assert.Equal(43, present[2].Length); // base64url of a SHA-256 digest, no padding (RFC 8555 §8.4)
        Assert.Equal($"cleanup {Challenge}. {present[2]}", lines[1]);
        Assert.Empty(await bind.TxtAsync(Challenge));
    }

    [SkippableFact]
    public async Task Issue_WrongTsigSecret_OrderFailsSayingBadsigAndNoRecordLeft()
    {
        await using var bind = await BindServer.StartAsync();
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, dnsServer: bind.EndPoint);
        var wrong = Convert.ToBase64String(new byte[32]);
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, "\"*.tunnels.test\"", Rfc2136(bind, secret: wrong)));

        var tls = edge.Host.Services.GetRequiredService<TlsManager>();
        await Wait.UntilAsync(() => tls.Problems.Values.Any(p => p.Contains("BADSIG", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "a BADSIG problem for the wildcard site");
        var problem = tls.Problems.Values.First(p => p.Contains("BADSIG", StringComparison.Ordinal));
        output.WriteLine(problem);
        Assert.Contains("dns-01 for tunnels.test (rfc2136)", problem);
        Assert.DoesNotContain(wrong, problem);
        Assert.Empty(await bind.TxtAsync(Challenge));
    }

    [SkippableFact]
    public async Task Issue_CaCannotSeeRecord_ValidationFailsAndRecordStillRemoved()
    {
        await using var bind = await BindServer.StartAsync();
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        // Pebble resolves through its own challtestsrv, which never has the record: the CA's check fails.
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort);
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, "\"*.tunnels.test\"", Rfc2136(bind)));

        var tls = edge.Host.Services.GetRequiredService<TlsManager>();
        await Wait.UntilAsync(() => tls.Problems.Values.Any(p => p.Contains("dns-01 validation of tunnels.test failed", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the CA's dns-01 failure reported");
        output.WriteLine(string.Join("\n", tls.Problems.Values));
        Assert.Contains(tls.Problems.Values, p => p.Contains("urn:ietf:params:acme:error:", StringComparison.Ordinal));
        await Wait.UntilAsync(() => Count(bind.Log, $"deleting an RR at {Challenge} TXT") >= 1, TimeSpan.FromSeconds(10), "the record removed after the failure");
        Assert.Empty(await bind.TxtAsync(Challenge));
    }

    [SkippableFact]
    public async Task Issue_ExecHookFailsAfterCreatingRecord_StderrReportedAndCleanupRun()
    {
        var nsupdate = Tools.Require("nsupdate", "bind9-dnsutils");
        await using var bind = await BindServer.StartAsync();
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, dnsServer: bind.EndPoint);
        var calls = Path.Combine(bind.Dir, "calls.log");
        var hook = Path.Combine(bind.Dir, "hook.sh");
        // present creates the record and then fails, as a provider API that times out half-way would.
        await File.WriteAllTextAsync(hook, $$"""
            #!/bin/sh
            echo "$1" >> {{calls}}
            if [ "$1" = present ]; then op="update add $2 60 TXT \"$3\""; else op="update delete $2 TXT \"$3\""; fi
            printf 'server 127.0.0.1 {{bind.Port}}\nzone tunnels.test\n%s\nsend\n' "$op" | {{nsupdate}} -k {{bind.KeyFile}} || exit 1
            if [ "$1" = present ]; then echo "provider API: quota exceeded" >&2; exit 3; fi

            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, "\"*.tunnels.test\"", $"""
                  provider: exec
                  command: {hook}
                  resolver: 127.0.0.1:{bind.Port}
            """));

        var tls = edge.Host.Services.GetRequiredService<TlsManager>();
        await Wait.UntilAsync(() => tls.Problems.Values.Any(p => p.Contains("exited with code 3", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the hook's failure reported");
        var problem = tls.Problems.Values.First(p => p.Contains("exited with code 3", StringComparison.Ordinal));
        output.WriteLine(problem);
        Assert.Contains($"{hook} present {Challenge}. exited with code 3: provider API: quota exceeded", problem);
        await Wait.UntilAsync(async () => (await File.ReadAllLinesAsync(calls)).Contains("cleanup"), TimeSpan.FromSeconds(10), "cleanup called");
        await Wait.UntilAsync(async () => (await bind.TxtAsync(Challenge)).Count == 0, TimeSpan.FromSeconds(10), "the record removed by cleanup");
    }

    private static int Count(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
