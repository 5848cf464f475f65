using Microsoft.Extensions.Logging.Abstractions;
using Portway.Configuration;
using Portway.Edge.Acme.Dns01;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Acme;

/// <summary>The providers and the propagation wait on their own: real processes, a real BIND.</summary>
public sealed class Dns01ProviderTests : IDisposable
{
    private const string Name = "_acme-challenge.x.tunnels.test.";
    private readonly string _dir = TestCertificates.TempDir();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string Script(string body)
    {
        var path = Path.Combine(_dir, "hook.sh");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [SkippableFact]
    public async Task Exec_NonZeroExit_FailsWithCodeAndTrimmedStderr()
    {
        Tools.Require("sh", "dash");
        var hook = Script("echo 'first line' >&2\necho '  second line  ' >&2\nexit 7");
        var provider = new ExecDnsProvider(new DnsChallengeConfig { Provider = "exec", Command = hook }, NullLogger.Instance);
        var e = await Assert.ThrowsAsync<DnsChallengeException>(() => provider.PresentAsync(Name, "v", CancellationToken.None));
        Assert.Equal($"{hook} present {Name} exited with code 7: first line |   second line", e.Message);
    }

    [SkippableFact]
    public async Task Exec_ArgumentsWithSpacesAndQuotes_PassedUnchangedAndExitZeroSucceeds()
    {
        Tools.Require("sh", "dash");
        var record = Path.Combine(_dir, "args");
        var hook = Script($"printf '%s\\n' \"$@\" > {record}");
        var provider = new ExecDnsProvider(new DnsChallengeConfig { Provider = "exec", Command = hook }, NullLogger.Instance);
        await provider.CleanupAsync(Name, "a b\"c", CancellationToken.None);
        Assert.Equal(["cleanup", Name, "a b\"c"], await File.ReadAllLinesAsync(record));
    }

    [SkippableFact]
    public async Task Exec_HangingHook_KilledAfterTimeout()
    {
        Tools.Require("sh", "dash");
        var hook = Script("sleep 60");
        var provider = new ExecDnsProvider(new DnsChallengeConfig { Provider = "exec", Command = hook, Timeout = TimeSpan.FromSeconds(1) }, NullLogger.Instance);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<DnsChallengeException>(() => provider.PresentAsync(Name, "v", CancellationToken.None));
        Assert.Contains("did not finish within 1s (tls.acme.dns.timeout) and was killed", e.Message);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task Exec_MissingProgram_SaysSo()
    {
        var provider = new ExecDnsProvider(new DnsChallengeConfig { Provider = "exec", Command = "/nonexistent/hook" }, NullLogger.Instance);
        var e = await Assert.ThrowsAsync<DnsChallengeException>(() => provider.PresentAsync(Name, "v", CancellationToken.None));
        Assert.Contains("cannot run tls.acme.dns.command /nonexistent/hook", e.Message);
    }

    [Fact]
    public void RecordValue_IsBase64UrlSha256OfKeyAuthorization()
    {
        // RFC 8555 §8.4 / RFC 4648 §5: digest of "token.thumbprint", unpadded base64url.
        Assert.Equal("_acme-challenge.example.com.", DnsChallenge.RecordName("Example.com."));
        var expected = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData("tok.thumb"u8)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal(expected, DnsChallenge.RecordValue("tok.thumb"));
    }

    private static DnsChallengeConfig Rfc2136(BindServer bind, TimeSpan? timeout = null) => new()
    {
        Provider = "rfc2136",
        Server = $"127.0.0.1:{bind.Port}",
        TsigKeyName = BindServer.KeyName + ".",
        TsigSecret = bind.Secret,
        PropagationTimeout = timeout ?? TimeSpan.FromSeconds(10),
        PropagationInterval = TimeSpan.FromMilliseconds(100),
    };

    [SkippableFact]
    public async Task Propagation_AuthoritativeServersFromNs_WaitsUntilRecordAppears()
    {
        await using var bind = await BindServer.StartAsync();
        var config = Rfc2136(bind);
        var provider = new Rfc2136DnsProvider(config);
        // No resolver and a provider without a server of its own (as exec): the zone's NS (ns1.tunnels.test → 127.0.0.1) are asked.
        var noServer = new ExecDnsProvider(config with { Provider = "exec", Command = "/bin/true" }, NullLogger.Instance);
        var propagation = new DnsPropagation(config, TimeProvider.System) { LookupVia = bind.EndPoint, AuthoritativePort = bind.Port };
        var waiting = propagation.WaitAsync(Name, "late-value", noServer, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        await provider.PresentAsync(Name, "late-value", CancellationToken.None);
        var where = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal($"the zone's authoritative servers 127.0.0.1:{bind.Port}", where);
        await provider.CleanupAsync(Name, "late-value", CancellationToken.None);
        Assert.Empty(await bind.TxtAsync(Name));
    }

    [SkippableFact]
    public async Task Propagation_RecordNeverAppears_FailsAfterTimeoutNamingTheServer()
    {
        await using var bind = await BindServer.StartAsync();
        var config = Rfc2136(bind, TimeSpan.FromSeconds(1));
        var provider = new Rfc2136DnsProvider(config);
        var e = await Assert.ThrowsAsync<DnsChallengeException>(() =>
            new DnsPropagation(config, TimeProvider.System).WaitAsync(Name, "never", provider, CancellationToken.None));
        Assert.Contains($"was still not answered by 127.0.0.1:{bind.Port} after 1s (tls.acme.dns.propagation_timeout)", e.Message);
    }

    [SkippableFact]
    public async Task Rfc2136_OtherValueAtSameName_KeptWhenOneIsRemoved()
    {
        await using var bind = await BindServer.StartAsync();
        var provider = new Rfc2136DnsProvider(Rfc2136(bind));
        await provider.PresentAsync(Name, "apex", CancellationToken.None);
        await provider.PresentAsync(Name, "wildcard", CancellationToken.None);
        await provider.CleanupAsync(Name, "apex", CancellationToken.None);
        Assert.Equal(["wildcard"], await bind.TxtAsync(Name));
        await provider.CleanupAsync(Name, "wildcard", CancellationToken.None);
        Assert.Empty(await bind.TxtAsync(Name));
    }

    [SkippableFact]
    public async Task Rfc2136_UnknownKeyName_FailsSayingBadkey()
    {
        await using var bind = await BindServer.StartAsync();
        var provider = new Rfc2136DnsProvider(Rfc2136(bind) with { TsigKeyName = "nobody." });
        var e = await Assert.ThrowsAsync<DnsChallengeException>(() => provider.PresentAsync(Name, "v", CancellationToken.None));
        Assert.Contains("BADKEY", e.Message);
    }

    [SkippableFact]
    public async Task Rfc2136_RecordOutsideConfiguredZone_FailsBeforeSending()
    {
        await using var bind = await BindServer.StartAsync();
        var provider = new Rfc2136DnsProvider(Rfc2136(bind) with { Zone = "other.test." });
        var e = await Assert.ThrowsAsync<DnsChallengeException>(() => provider.PresentAsync(Name, "v", CancellationToken.None));
        Assert.Contains("is not inside tls.acme.dns.zone other.test.", e.Message);
    }
}
