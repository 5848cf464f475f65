using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.Acme.Dns01;
using Portway.Edge.Tls;

namespace Portway.Edge.Acme;

/// <summary>
/// One issuance (RFC 8555 §7.4): order → authorizations, each answered by the edge itself with the
/// first configured challenge type the CA offers → finalize with a fresh key's CSR → download.
/// Answers are published only while their authorization is pending and always withdrawn.
/// </summary>
internal sealed partial class AcmeIssuer(AcmeClient client, AcmeChallengeStore challenges, AcmeConfig config, TimeProvider time, ILogger logger)
{
    /// <summary>How long an order may stay pending/processing before it counts as failed (Let's Encrypt validates in seconds).</summary>
    private static readonly TimeSpan OrderDeadline = TimeSpan.FromMinutes(3);
    private IDnsChallengeProvider? _dns;

    public async Task<(string ChainPem, string KeyPem)> IssueAsync(ImmutableArray<string> hosts, string? replaces, CancellationToken ct)
    {
        await client.EnsureAccountAsync(config.Email, config.Eab, ct);
        var (orderUrl, order) = await client.NewOrderAsync(hosts, replaces, ct);
        var deadline = time.GetUtcNow() + OrderDeadline;
        foreach (var authorizationUrl in order.Authorizations)
            await AuthorizeAsync(authorizationUrl, deadline, ct);

        order = await PollOrderAsync(orderUrl, order, "pending", deadline, ct);
        if (order.Status != "ready") throw OrderFailed(order, hosts, "the order did not become ready");

        using var key = CreateKey();
        var csr = CreateCsr(key, hosts);
        var (finalized, retryAfter) = await client.FinalizeAsync(order.Finalize, csr, ct);
        if (finalized.Status is "processing" or "ready")
        {
            await Task.Delay(retryAfter ?? config.PollInterval, time, ct);
            finalized = await PollOrderAsync(orderUrl, finalized, "processing", deadline, ct);
        }
        if (finalized.Status != "valid" || finalized.Certificate is null) throw OrderFailed(finalized, hosts, "finalization did not produce a certificate");
        var chain = await client.DownloadCertificateAsync(finalized.Certificate, ct);
        var keyPem = key is ECDsa ec ? ec.ExportPkcs8PrivateKeyPem() : ((RSA)key).ExportPkcs8PrivateKeyPem();
        return (chain, keyPem);
    }

    private async Task AuthorizeAsync(Uri url, DateTimeOffset deadline, CancellationToken ct)
    {
        var (authz, _) = await client.GetAuthorizationAsync(url, ct);
        if (authz.Status == "valid") return;
        if (authz.Status != "pending") throw new AcmeOrderException($"authorization for {authz.Identifier.Value} is {authz.Status}", FirstError(authz));
        var challenge = Choose(authz) ?? throw new AcmeOrderException(
            $"the CA offers no challenge Portway answers for {authz.Identifier.Value} (offered: {string.Join(", ", authz.Challenges.Select(c => c.Type))}; configured: {string.Join(", ", config.Challenges)})", null);
        var host = authz.Identifier.Value;
        var keyAuthorization = client.KeyAuthorization(challenge.Token!);
        var dns = challenge.Type == "dns-01";
        try
        {
            // Inside the try: a provider that fails half-way (a hook that created the record, then
            // exited 1) still gets its cleanup.
            if (dns) await PresentDnsAsync(host, keyAuthorization, ct);
            else Publish(challenge.Type, host, challenge.Token!, keyAuthorization);
            LogAnswering(host, challenge.Type);
            await client.AnswerChallengeAsync(challenge.Url, ct);
            while (true)
            {
                TimeSpan? retryAfter;
                (authz, retryAfter) = await client.GetAuthorizationAsync(url, ct);
                if (authz.Status == "valid") return;
                if (authz.Status != "pending") throw new AcmeOrderException($"{challenge.Type} validation of {host} failed", FirstError(authz));
                if (time.GetUtcNow() > deadline) throw new AcmeOrderException($"{challenge.Type} validation of {host} still pending after {OrderDeadline.TotalMinutes} minutes", null);
                await Task.Delay(Clamp(retryAfter), time, ct);
            }
        }
        finally
        {
            if (dns) await CleanupDnsAsync(host, keyAuthorization);
            else Withdraw(challenge.Type, host, challenge.Token!);
        }
    }

    /// <summary>RFC 8555 §8.4: publish the TXT record, then wait until it is answered where the CA looks.</summary>
    private async Task PresentDnsAsync(string host, string keyAuthorization, CancellationToken ct)
    {
        var dnsConfig = config.Dns ?? throw new AcmeOrderException($"dns-01 for {host} needs tls.acme.dns", null);
        _dns ??= DnsChallenge.CreateProvider(dnsConfig, logger);
        var name = DnsChallenge.RecordName(host);
        var value = DnsChallenge.RecordValue(keyAuthorization);
        try
        {
            await _dns.PresentAsync(name, value, ct);
            LogDnsPresented(name, dnsConfig.Provider);
            var started = time.GetTimestamp();
            var where = await new DnsPropagation(dnsConfig, time).WaitAsync(name, value, _dns, ct);
            LogDnsVisible(name, where, time.GetElapsedTime(started));
        }
        catch (DnsChallengeException e)
        {
            throw new AcmeOrderException($"dns-01 for {host} ({dnsConfig.Provider}): {e.Message}", null);
        }
    }

    /// <summary>Always attempted, also after a failure or at shutdown, with its own time limit; a failure is logged, never thrown over the real error.</summary>
    private async Task CleanupDnsAsync(string host, string keyAuthorization)
    {
        if (_dns is null || config.Dns is not { } dnsConfig) return;
        var name = DnsChallenge.RecordName(host);
        using var limit = new CancellationTokenSource(dnsConfig.Timeout + TimeSpan.FromSeconds(DnsServers.QueryTimeoutMs / 1000), time);
        try
        {
            await _dns.CleanupAsync(name, DnsChallenge.RecordValue(keyAuthorization), limit.Token);
            LogDnsRemoved(name);
        }
        catch (Exception e) when (e is DnsChallengeException or OperationCanceledException or IOException or System.Net.Sockets.SocketException)
        {
            LogDnsCleanupFailed(name, e.Message);
        }
    }

    private async Task<AcmeOrder> PollOrderAsync(Uri url, AcmeOrder order, string waitingStatus, DateTimeOffset deadline, CancellationToken ct)
    {
        while (order.Status == waitingStatus || (waitingStatus == "processing" && order.Status == "ready"))
        {
            if (time.GetUtcNow() > deadline) return order;
            TimeSpan? retryAfter;
            (order, retryAfter) = await client.GetOrderAsync(url, ct);
            if (order.Status == waitingStatus) await Task.Delay(Clamp(retryAfter), time, ct);
        }
        return order;
    }

    /// <summary>A CA's Retry-After is honoured, within reason: never sooner than the poll interval, never longer than a minute.</summary>
    private TimeSpan Clamp(TimeSpan? retryAfter) =>
        retryAfter is { } r ? TimeSpan.FromTicks(Math.Clamp(r.Ticks, config.PollInterval.Ticks, TimeSpan.FromMinutes(1).Ticks)) : config.PollInterval;

    private AcmeChallenge? Choose(AcmeAuthorization authz)
    {
        foreach (var wanted in config.Challenges)
        {
            foreach (var c in authz.Challenges)
            {
                if (c.Type == wanted && c.Token is not null) return c;
            }
        }
        return null;
    }

    private void Publish(string type, string host, string token, string keyAuthorization)
    {
        if (type == "http-01") challenges.AddHttp01(token, keyAuthorization);
        else challenges.AddTlsAlpn01(host, TlsAlpnChallengeCertificate.Create(host, keyAuthorization));
    }

    private void Withdraw(string type, string host, string token)
    {
        if (type == "http-01") challenges.RemoveHttp01(token);
        else challenges.RemoveTlsAlpn01(host);
    }

    private AsymmetricAlgorithm CreateKey() =>
        config.KeyType == "rsa_2048" ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static byte[] CreateCsr(AsymmetricAlgorithm key, ImmutableArray<string> hosts)
    {
        var request = key is ECDsa ec
            ? new CertificateRequest($"CN={hosts[0]}", ec, HashAlgorithmName.SHA256)
            : new CertificateRequest($"CN={hosts[0]}", (RSA)key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var h in hosts) san.AddDnsName(h);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequest();
    }

    private static AcmeProblem? FirstError(AcmeAuthorization authz)
    {
        foreach (var c in authz.Challenges)
        {
            if (c.Error is not null) return c.Error;
        }
        return null;
    }

    private static AcmeOrderException OrderFailed(AcmeOrder order, ImmutableArray<string> hosts, string what) =>
        new($"{what} for {string.Join(", ", hosts)} (status {order.Status})", order.Error);

    [LoggerMessage(EventId = EventIds.AcmeDnsRecordPresented, Level = LogLevel.Information, Message = "ACME: dns-01: published TXT {Name} via {Provider}")]
    private partial void LogDnsPresented(string name, string provider);

    [LoggerMessage(EventId = EventIds.AcmeDnsRecordVisible, Level = LogLevel.Information, Message = "ACME: dns-01: TXT {Name} answered by {Where} after {Elapsed}; asking the CA to validate")]
    private partial void LogDnsVisible(string name, string where, TimeSpan elapsed);

    [LoggerMessage(EventId = EventIds.AcmeDnsRecordRemoved, Level = LogLevel.Information, Message = "ACME: dns-01: removed TXT {Name}")]
    private partial void LogDnsRemoved(string name);

    [LoggerMessage(EventId = EventIds.AcmeDnsCleanupFailed, Level = LogLevel.Warning, Message = "ACME: dns-01: could not remove TXT {Name} ({Reason}); it is harmless but stale: remove it by hand")]
    private partial void LogDnsCleanupFailed(string name, string reason);

    [LoggerMessage(EventId = EventIds.AcmeAnsweringChallenge, Level = LogLevel.Information, Message = "ACME: answering {Type} for {Host}")]
    private partial void LogAnswering(string host, string type);
}
