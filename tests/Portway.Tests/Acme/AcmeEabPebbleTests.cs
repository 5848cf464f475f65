using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portway.Edge.Tls;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Xunit;
using Xunit.Abstractions;

namespace Portway.Tests.Acme;

/// <summary>
/// External Account Binding (RFC 8555 §7.3.4) against a real Pebble started from the package's own
/// example config with <c>externalAccountBindingRequired</c> and its kids and MAC keys.
/// </summary>
public sealed class AcmeEabPebbleTests(ITestOutputHelper output)
{
    private const string ExampleConfig = "/usr/share/doc/pebble/examples/pebble-config-external-account-bindings.json";

    /// <summary>The example's first kid and its MAC key (base64url, as a CA shows them).</summary>
    private static (string Kid, string HmacKey) ExampleBinding()
    {
        Tools.Require("pebble", "pebble");
        if (!File.Exists(ExampleConfig))
        {
            var reason = $"{ExampleConfig} is missing (apt-get install pebble ships it)";
            if (Tools.InCi) throw new InvalidOperationException(reason + " and CI=true, so this is a failure, not a skip");
            Skip.If(true, reason);
        }
        var keys = JsonNode.Parse(File.ReadAllText(ExampleConfig))!["pebble"]!["externalAccountMACKeys"]!.AsObject();
        var (kid, key) = keys.First();
        return (kid, key!.GetValue<string>());
    }

    private static string EdgeYaml(int httpPort, int httpsPort, PebbleServer pebble, string storage, string host, string eab, string routes = "") => $"""
        listeners:
          - name: http
            url: http://127.0.0.1:{httpPort}
          - name: https
            url: https://127.0.0.1:{httpsPort}
        tls:
          sites:
            - hosts: [{host}]
              certificate: auto
          acme:
            directory: {pebble.Directory}
            ca_root: {pebble.CaRootFile}
            agree_tos: true
            email: ops@example.com
            challenges: [http-01]
            storage: {storage}
            poll_interval: 100ms
            retry_min: 500ms
            retry_max: 2s
        {eab}
        {routes}
        """;

    private static string Eab(string kid, string hmacKey) => $"""
            eab:
              kid: {kid}
              hmac_key: {hmacKey}
        """;

    [SkippableFact]
    [Configuration.DocumentedKeys.CoversKey("tls.acme.eab")]
    public async Task Eab_RightKidAndHmacKey_CertificateIssuedServedAndStoredAccountReusedWithoutEab()
    {
        var (kid, hmacKey) = ExampleBinding();
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, baseConfig: ExampleConfig);
        await using var origin = await TestOrigin.StartAsync("bound");
        var storage = TestCertificates.TempDir();
        var routes = $"""
            routes:
              - cluster: app
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """;
        var logs = new LogCapture();
        await using (var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, storage, "eab.pebble.test", Eab(kid, hmacKey), routes),
            services => services.AddSingleton<ILoggerProvider>(logs)))
        {
            await WaitForPebbleCertificateAsync(edge, pebble, "eab.pebble.test");
            using var root = await pebble.IssuingRootAsync();
            using var client = TlsClient.Create(httpsPort, root);
            using var response = await client.GetAsync($"https://eab.pebble.test:{httpsPort}/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("bound", await response.Content.ReadAsStringAsync());
        }
        Assert.Contains(logs.AtLeast(LogLevel.Information), l => l.Contains($"with External Account Binding (kid {kid})", StringComparison.Ordinal));
        Assert.Single(Directory.GetFiles(storage, "account.url", SearchOption.AllDirectories));
        AssertSecretNeverShown(logs, null, hmacKey);

        // The same storage without eab: the stored account is used as it is, no newAccount at all,
        // although this CA refuses every new account without a binding.
        var again = new LogCapture();
        await using (var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, storage, "again.pebble.test", "", routes),
            services => services.AddSingleton<ILoggerProvider>(again)))
        {
            await WaitForPebbleCertificateAsync(edge, pebble, "again.pebble.test");
        }
        Assert.DoesNotContain(again.AtLeast(LogLevel.Information), l => l.Contains("ACME: registered account", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Eab_CaRequiresItAndNoneConfigured_ErrorSaysSetEabAndAddingItIssuesWithoutRestart()
    {
        var (kid, hmacKey) = ExampleBinding();
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, baseConfig: ExampleConfig);
        var logs = new LogCapture();
        var storage = TestCertificates.TempDir();
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, storage, "noeab.pebble.test", ""),
            services => services.AddSingleton<ILoggerProvider>(logs));

        var problem = await WaitForProblemAsync(edge, pebble, "noeab.pebble.test", "externalAccountRequired");
        Assert.Contains("the CA requires External Account Binding: set tls.acme.eab.kid and tls.acme.eab.hmac_key", problem, StringComparison.Ordinal);
        // The problem is published just before the line is logged: wait for the line too.
        await Wait.UntilAsync(() => logs.AtLeast(LogLevel.Error).Any(l => l.Contains("set tls.acme.eab.kid", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the error logged");

        // Doing what the error says, in the running edge: the next attempt registers with the binding.
        await edge.RewriteAsync(EdgeYaml(httpPort, httpsPort, pebble, storage, "noeab.pebble.test", Eab(kid, hmacKey)));
        await WaitForPebbleCertificateAsync(edge, pebble, "noeab.pebble.test");
        AssertSecretNeverShown(logs, null, hmacKey);
    }

    [SkippableFact]
    public async Task Eab_WrongHmacKey_ErrorSaysBindingRefusedAndNoKeyInLogOrError()
    {
        var (kid, rightKey) = ExampleBinding();
        var wrongKey = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(48));
        int httpPort = FreePorts.Tcp(), httpsPort = FreePorts.Tcp();
        await using var pebble = await PebbleServer.StartAsync(httpPort, httpsPort, baseConfig: ExampleConfig);
        var logs = new LogCapture();
        var storage = TestCertificates.TempDir();
        await using var edge = await TestEdge.StartAsync(EdgeYaml(httpPort, httpsPort, pebble, storage, "wrong.pebble.test", Eab(kid, wrongKey)),
            services => services.AddSingleton<ILoggerProvider>(logs));

        var problem = await WaitForProblemAsync(edge, pebble, "wrong.pebble.test", "refused the External Account Binding");
        Assert.Contains($"(kid {kid})", problem, StringComparison.Ordinal);
        // The problem is published just before the line is logged: wait for the line too.
        await Wait.UntilAsync(() => logs.AtLeast(LogLevel.Error).Any(l => l.Contains("refused the External Account Binding", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the error logged");
        AssertSecretNeverShown(logs, problem, wrongKey);
        AssertSecretNeverShown(logs, problem, rightKey);
        Assert.Empty(Directory.GetFiles(storage, "account.url", SearchOption.AllDirectories));
    }

    /// <summary>Neither the key as written, nor its standard-base64 spelling, nor its hex, anywhere a person reads.</summary>
    private static void AssertSecretNeverShown(LogCapture logs, string? problem, string hmacKey)
    {
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(hmacKey);
        string[] spellings = [hmacKey, Convert.ToBase64String(bytes).TrimEnd('='), Convert.ToHexString(bytes), Convert.ToHexStringLower(bytes)];
        var texts = logs.Lines.Select(l => l.Message + " " + l.Exception).Append(problem ?? "").ToList();
        foreach (var s in spellings)
        {
            foreach (var t in texts) Assert.DoesNotContain(s, t, StringComparison.Ordinal);
        }
    }

    private async Task WaitForPebbleCertificateAsync(TestEdge edge, PebbleServer pebble, string host)
    {
        try
        {
            await Wait.UntilAsync(async () =>
            {
                try
                {
                    var served = (await TlsClient.HandshakeAsync(edge.HttpsUrl(), host)).Certificate;
                    return served.Issuer.Contains("Pebble", StringComparison.Ordinal) && served.MatchesHostname(host);
                }
                catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60), $"a Pebble certificate for {host}");
        }
        catch (TimeoutException)
        {
            Dump(edge, pebble);
            throw;
        }
    }

    private async Task<string> WaitForProblemAsync(TestEdge edge, PebbleServer pebble, string host, string text)
    {
        var tls = edge.Host.Services.GetRequiredService<TlsManager>();
        string? found = null;
        try
        {
            await Wait.UntilAsync(() =>
            {
                found = tls.Problems.Values.FirstOrDefault(p => p.Contains(host, StringComparison.Ordinal) && p.Contains(text, StringComparison.Ordinal));
                return found is not null;
            }, TimeSpan.FromSeconds(60), $"a problem for {host} saying '{text}'");
        }
        catch (TimeoutException)
        {
            Dump(edge, pebble);
            throw;
        }
        output.WriteLine(found);
        return found!;
    }

    private void Dump(TestEdge edge, PebbleServer pebble)
    {
        output.WriteLine(pebble.Log);
        foreach (var p in edge.Host.Services.GetRequiredService<TlsManager>().Problems) output.WriteLine($"problem {p.Key}: {p.Value}");
    }
}
