using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;

namespace Portway.Edge.Acme;

/// <summary>
/// One ACME account at one CA (RFC 8555): directory, nonces, signed requests, and the resources
/// an issuance walks through. Every response's Replay-Nonce is kept for the next request; a
/// badNonce refusal is retried with a fresh nonce (§6.5); Retry-After is surfaced to the caller.
/// </summary>
internal sealed partial class AcmeClient(HttpClient http, Uri directoryUrl, ECDsa accountKey, ILogger logger)
{
    /// <summary>RFC 8555 §6.5 says clients should retry badNonce; Pebble rejects a configurable share, so allow several.</summary>
    private const int MaxBadNonceRetries = 10;
    private readonly ConcurrentQueue<string> _nonces = new();
    private AcmeDirectory? _directory;
    private int _badNonceRetries;
    private string? _kid;

    public string Thumbprint { get; } = AcmeJws.Thumbprint(accountKey);

    public Uri DirectoryUrl => directoryUrl;

    /// <summary>How many requests were re-sent after a badNonce refusal (for tests and diagnostics).</summary>
    public int BadNonceRetries => Volatile.Read(ref _badNonceRetries);

    public string KeyAuthorization(string token) => token + "." + Thumbprint;

    public async Task<AcmeDirectory> DirectoryAsync(CancellationToken ct)
    {
        if (_directory is not null) return _directory;
        using var response = await http.GetAsync(directoryUrl, ct);
        await EnsureSuccessAsync(response, "reading the directory", ct);
        _directory = await response.Content.ReadFromJsonAsync(AcmeJsonContext.Default.AcmeDirectory, ct)
            ?? throw new InvalidOperationException($"{directoryUrl}: empty ACME directory");
        return _directory;
    }

    /// <summary>The account's URL (its kid in every later request): known from storage, or set by <see cref="EnsureAccountAsync"/>.</summary>
    public Uri? AccountUrl
    {
        get => _kid is null ? null : new Uri(_kid);
        init => _kid = value?.AbsoluteUri;
    }

    /// <summary>
    /// newAccount with termsOfServiceAgreed (§7.3), and the External Account Binding when one is
    /// configured (§7.3.4). An account already known is used as is, without a request (and so
    /// without sending the binding again: some CAs' EAB credentials are single-use); the CA
    /// answers an existing account for the key the same way. Created is true when newAccount was
    /// asked (the caller stores the URL then), false when the known URL was used.
    /// </summary>
    public async Task<(Uri Url, bool Created)> EnsureAccountAsync(string? email, AcmeEabConfig? eab, CancellationToken ct)
    {
        if (_kid is not null) return (new Uri(_kid), false);
        var directory = await DirectoryAsync(ct);
        var payload = new MemoryStream();
        using (var w = new Utf8JsonWriter(payload))
        {
            w.WriteStartObject();
            w.WriteBoolean("termsOfServiceAgreed", true);
            if (email is not null)
            {
                w.WriteStartArray("contact");
                w.WriteStringValue("mailto:" + email);
                w.WriteEndArray();
            }
            if (eab is not null)
            {
                w.WritePropertyName("externalAccountBinding");
                w.WriteRawValue(AcmeJws.ExternalAccountBinding(accountKey, eab.KeyId, eab.HmacKey.Span, directory.NewAccount));
            }
            w.WriteEndObject();
        }
        HttpResponseMessage response;
        try
        {
            response = await PostAsync(directory.NewAccount, payload.ToArray(), useJwk: true, "creating the account", ct);
        }
        catch (AcmeProblemException e) when (ExternalAccountHint(e.Problem.Type, eab) is { } hint)
        {
            throw new AcmeProblemException(e.Problem, e.HttpStatus, e.RetryAfter, "creating the account", hint);
        }
        using (response)
        {
            _kid = response.Headers.Location?.AbsoluteUri ?? throw new InvalidOperationException("newAccount answered without a Location");
            LogAccount(_kid, directoryUrl, eab is null ? "" : $" with External Account Binding (kid {eab.KeyId})");
        }
        return (new Uri(_kid), true);
    }

    /// <summary>What the operator should do when a newAccount refusal is about the binding; null when it is not.</summary>
    internal static string? ExternalAccountHint(string? problemType, AcmeEabConfig? eab) => (problemType, eab) switch
    {
        (ExternalAccountRequired, null) =>
            "the CA requires External Account Binding: set tls.acme.eab.kid and tls.acme.eab.hmac_key from your CA account (ZeroSSL: Developer → EAB Credentials; Google: gcloud publicca external-account-keys create)",
        (ExternalAccountRequired or Unauthorized or Malformed, { } e) =>
            $"the CA refused the External Account Binding (kid {e.KeyId}): check that tls.acme.eab.kid and hmac_key are the pair your CA account shows for this directory; some CAs' credentials are single-use or expire, so generate a new pair if they were used before",
        _ => null,
    };

    private const string ExternalAccountRequired = "urn:ietf:params:acme:error:externalAccountRequired";
    private const string Unauthorized = "urn:ietf:params:acme:error:unauthorized";
    private const string Malformed = "urn:ietf:params:acme:error:malformed";

    /// <summary>newOrder (§7.4); <paramref name="replaces"/> is the ARI certificate id being renewed (RFC 9773 §5).</summary>
    public async Task<(Uri Url, AcmeOrder Order)> NewOrderAsync(IReadOnlyList<string> hosts, string? replaces, CancellationToken ct)
    {
        var directory = await DirectoryAsync(ct);
        var identifiers = new AcmeIdentifier[hosts.Count];
        for (var i = 0; i < identifiers.Length; i++) identifiers[i] = new AcmeIdentifier("dns", hosts[i]);
        var body = JsonSerializer.SerializeToUtf8Bytes(new AcmeNewOrderRequest(identifiers, replaces), AcmeJsonContext.Default.AcmeNewOrderRequest);
        using var response = await PostAsync(directory.NewOrder, body, useJwk: false, $"ordering {string.Join(", ", hosts)}", ct);
        var order = await ReadAsync(response, AcmeJsonContext.Default.AcmeOrder, ct);
        return (response.Headers.Location ?? throw new InvalidOperationException("newOrder answered without a Location"), order);
    }

    public async Task<(AcmeOrder Order, TimeSpan? RetryAfter)> GetOrderAsync(Uri url, CancellationToken ct)
    {
        using var response = await PostAsync(url, null, useJwk: false, "polling the order", ct);
        return (await ReadAsync(response, AcmeJsonContext.Default.AcmeOrder, ct), RetryAfter(response));
    }

    public async Task<(AcmeAuthorization Authorization, TimeSpan? RetryAfter)> GetAuthorizationAsync(Uri url, CancellationToken ct)
    {
        using var response = await PostAsync(url, null, useJwk: false, "reading the authorization", ct);
        return (await ReadAsync(response, AcmeJsonContext.Default.AcmeAuthorization, ct), RetryAfter(response));
    }

    /// <summary>Tells the CA the answer is in place (§7.5.1: POST an empty object).</summary>
    public async Task AnswerChallengeAsync(Uri url, CancellationToken ct)
    {
        using var response = await PostAsync(url, "{}"u8.ToArray(), useJwk: false, "answering the challenge", ct);
    }

    public async Task<(AcmeOrder Order, TimeSpan? RetryAfter)> FinalizeAsync(Uri finalize, byte[] csrDer, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new AcmeFinalizeRequest(AcmeJws.Encode(csrDer)), AcmeJsonContext.Default.AcmeFinalizeRequest);
        using var response = await PostAsync(finalize, body, useJwk: false, "finalizing the order", ct);
        return (await ReadAsync(response, AcmeJsonContext.Default.AcmeOrder, ct), RetryAfter(response));
    }

    /// <summary>The certificate with its chain, PEM (§7.4.2).</summary>
    public async Task<string> DownloadCertificateAsync(Uri url, CancellationToken ct)
    {
        using var response = await PostAsync(url, null, useJwk: false, "downloading the certificate", ct, "application/pem-certificate-chain");
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>RFC 9773 §4: the CA's suggested renewal window, or null when it does not offer ARI.</summary>
    public async Task<(AcmeRenewalInfo? Info, TimeSpan? RetryAfter)> GetRenewalInfoAsync(X509Certificate2 certificate, CancellationToken ct)
    {
        var directory = await DirectoryAsync(ct);
        var id = CertificateId(certificate);
        if (directory.RenewalInfo is null || id is null) return (null, null);
        using var response = await http.GetAsync(new Uri(directory.RenewalInfo.AbsoluteUri.TrimEnd('/') + "/" + id), ct);
        if (!response.IsSuccessStatusCode) return (null, RetryAfter(response));
        return (await response.Content.ReadFromJsonAsync(AcmeJsonContext.Default.AcmeRenewalInfo, ct), RetryAfter(response));
    }

    /// <summary>RFC 9773 §4.1: base64url(AKI keyIdentifier) "." base64url(serial DER bytes).</summary>
    public static string? CertificateId(X509Certificate2 certificate)
    {
        foreach (var ext in certificate.Extensions)
        {
            if (ext is X509AuthorityKeyIdentifierExtension aki && aki.KeyIdentifier is { } keyId)
                return AcmeJws.Encode(keyId.Span) + "." + AcmeJws.Encode(certificate.SerialNumberBytes.Span);
        }
        return null;
    }

    private async Task<HttpResponseMessage> PostAsync(Uri url, byte[]? payload, bool useJwk, string what, CancellationToken ct, string accept = "application/json")
    {
        for (var attempt = 0; ; attempt++)
        {
            var nonce = await TakeNonceAsync(ct);
            var body = AcmeJws.Sign(accountKey, useJwk ? null : _kid, nonce, url, payload);
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/jose+json");
            request.Headers.Accept.ParseAdd(accept);
            var response = await http.SendAsync(request, ct);
            KeepNonce(response);
            if (response.IsSuccessStatusCode) return response;
            using (response)
            {
                var problem = await ReadProblemAsync(response, ct);
                if (problem.Type == AcmeProblemException.BadNonce && attempt < MaxBadNonceRetries)
                {
                    Interlocked.Increment(ref _badNonceRetries);
                    LogBadNonce(url.AbsolutePath, attempt + 1);
                    continue;
                }
                // The CA forgot the account (a reset test CA, a deactivated account): register again next time.
                if (problem.Type == AccountDoesNotExist) _kid = null;
                throw new AcmeProblemException(problem, (int)response.StatusCode, RetryAfter(response), what);
            }
        }
    }

    private const string AccountDoesNotExist = "urn:ietf:params:acme:error:accountDoesNotExist";

    private async Task<string> TakeNonceAsync(CancellationToken ct)
    {
        if (_nonces.TryDequeue(out var nonce)) return nonce;
        var directory = await DirectoryAsync(ct);
        using var request = new HttpRequestMessage(HttpMethod.Head, directory.NewNonce);
        using var response = await http.SendAsync(request, ct);
        await EnsureSuccessAsync(response, "getting a nonce", ct);
        return response.Headers.TryGetValues("Replay-Nonce", out var values) ? values.First()
            : throw new InvalidOperationException($"{directory.NewNonce} answered without a Replay-Nonce");
    }

    private void KeepNonce(HttpResponseMessage response)
    {
        // A few spare nonces are plenty; an unbounded queue would only hold stale ones.
        if (response.Headers.TryGetValues("Replay-Nonce", out var values) && _nonces.Count < 8) _nonces.Enqueue(values.First());
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken ct) =>
        await response.Content.ReadFromJsonAsync(type, ct) ?? throw new InvalidOperationException($"empty {typeof(T).Name} from the CA");

    private static async Task<AcmeProblem> ReadProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            return JsonSerializer.Deserialize(text, AcmeJsonContext.Default.AcmeProblem) ?? new AcmeProblem(null, text, (int)response.StatusCode, null);
        }
        catch (JsonException)
        {
            return new AcmeProblem(null, text.Length > 200 ? text[..200] : text, (int)response.StatusCode, null);
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        throw new AcmeProblemException(await ReadProblemAsync(response, ct), (int)response.StatusCode, RetryAfter(response), what);
    }

    /// <summary>RFC 9110 §10.2.3: seconds or an HTTP date.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var value = response.Headers.RetryAfter;
        if (value?.Delta is { } delta) return delta;
        if (value?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null;
    }

    [LoggerMessage(EventId = EventIds.AcmeAccountRegistered, Level = LogLevel.Information, Message = "ACME: registered account {Account} at {Directory}{Binding}")]
    private partial void LogAccount(string account, Uri directory, string binding);

    [LoggerMessage(EventId = EventIds.AcmeBadNonce, Level = LogLevel.Debug, Message = "ACME: badNonce on {Path}, retry {Attempt} with a fresh nonce")]
    private partial void LogBadNonce(string path, int attempt);
}
