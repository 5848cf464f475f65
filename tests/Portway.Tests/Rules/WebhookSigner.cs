using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NSec.Cryptography;

namespace Portway.Tests.Rules;

/// <summary>
/// Signs a delivery the way each provider's documentation says the provider does, independently of
/// the edge's code, so a test fails when the edge's reading of a scheme drifts from the provider's.
/// </summary>
internal sealed class WebhookSigner
{
    private readonly ECDsa? _sendGridKey;
    private readonly Key? _discordKey;

    private WebhookSigner(string provider, string secret, string configSecret, ECDsa? sendGridKey = null, Key? discordKey = null)
    {
        Provider = provider;
        Secret = secret;
        ConfigSecret = configSecret;
        _sendGridKey = sendGridKey;
        _discordKey = discordKey;
    }

    public string Provider { get; }

    /// <summary>What the provider signs with.</summary>
    public string Secret { get; }

    /// <summary>What the edge's config holds: the same secret, except SendGrid's and Discord's public keys.</summary>
    public string ConfigSecret { get; }

    /// <summary>Providers that sign a timestamp (and so can be stale).</summary>
    public static readonly string[] Timestamped = ["stripe", "slack", "standard_webhooks", "svix", "paddle", "mailgun", "sendgrid", "zoom", "hubspot", "twitch", "discord"];

    public bool HasTimestamp => Array.IndexOf(Timestamped, Provider) >= 0;

    public static WebhookSigner For(string provider)
    {
        switch (provider)
        {
            case "standard_webhooks" or "svix":
                var s = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
                return new WebhookSigner(provider, s, s);
            case "sendgrid":
                var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                return new WebhookSigner(provider, "", Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()), sendGridKey: key);
            case "discord":
                // A real key pair, as the developer portal makes one; the config gets the public half in hex.
                var pair = Key.Create(SignatureAlgorithm.Ed25519);
                return new WebhookSigner(provider, "", Convert.ToHexStringLower(pair.PublicKey.Export(KeyBlobFormat.RawPublicKey)), discordKey: pair);
            default:
                var secret = provider + "-secret-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
                return new WebhookSigner(provider, secret, secret);
        }
    }

    /// <summary>The same provider, another key: what a forger without the secret could do at best.</summary>
    public WebhookSigner Impostor()
    {
        var other = For(Provider);
        return new WebhookSigner(Provider, other.Secret, ConfigSecret, other._sendGridKey, other._discordKey);
    }

    /// <summary>A signed POST to <paramref name="url"/> as the provider would send it at <paramref name="at"/>; <paramref name="body"/> is the bytes sent.</summary>
    public HttpRequestMessage Sign(Uri url, DateTimeOffset at, out byte[] body)
    {
        var ts = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var json = $$"""{"event":"test","provider":"{{Provider}}","id":"{{Guid.NewGuid():N}}","text":"héllo \u00e9 \ud83d\ude00"}""";
        body = Encoding.UTF8.GetBytes(json);
        var contentType = "application/json";
        var headers = new List<(string, string)>();
        var key = Encoding.UTF8.GetBytes(Secret);
        switch (Provider)
        {
            case "github":
                headers.Add(("X-Hub-Signature-256", "sha256=" + Hex(HMACSHA256.HashData(key, body))));
                headers.Add(("X-GitHub-Delivery", Guid.NewGuid().ToString()));
                break;
            case "bitbucket":
                headers.Add(("X-Hub-Signature", "sha256=" + Hex(HMACSHA256.HashData(key, body))));
                break;
            case "intercom":
                headers.Add(("X-Hub-Signature", "sha1=" + Hex(HMACSHA1.HashData(key, body))));
                break;
            case "linear":
                headers.Add(("Linear-Signature", Hex(HMACSHA256.HashData(key, body))));
                break;
            case "shopify":
                headers.Add(("X-Shopify-Hmac-Sha256", Convert.ToBase64String(HMACSHA256.HashData(key, body))));
                break;
            case "stripe":
                headers.Add(("Stripe-Signature", $"t={ts},v1={Hex(HMACSHA256.HashData(key, Concat(ts + ".", body)))},v0=00"));
                break;
            case "slack":
                headers.Add(("X-Slack-Request-Timestamp", ts));
                headers.Add(("X-Slack-Signature", "v0=" + Hex(HMACSHA256.HashData(key, Concat($"v0:{ts}:", body)))));
                break;
            case "zoom":
                headers.Add(("x-zm-request-timestamp", ts));
                headers.Add(("x-zm-signature", "v0=" + Hex(HMACSHA256.HashData(key, Concat($"v0:{ts}:", body)))));
                break;
            case "paddle":
                headers.Add(("Paddle-Signature", $"ts={ts};h1={Hex(HMACSHA256.HashData(key, Concat(ts + ":", body)))}"));
                break;
            case "standard_webhooks" or "svix":
                var prefix = Provider == "svix" ? "svix-" : "webhook-";
                var id = "msg_" + Guid.NewGuid().ToString("N");
                var mac = HMACSHA256.HashData(Convert.FromBase64String(Secret["whsec_".Length..]), Concat($"{id}.{ts}.", body));
                headers.Add((prefix + "id", id));
                headers.Add((prefix + "timestamp", ts));
                headers.Add((prefix + "signature", "v1,b2xkIHNpZ25hdHVyZSBmcm9tIGEgcm9sbGVkIGtleQ== v1," + Convert.ToBase64String(mac)));
                break;
            case "gitlab":
                headers.Add(("X-Gitlab-Token", Secret));
                headers.Add(("X-Gitlab-Event-UUID", Guid.NewGuid().ToString()));
                break;
            case "twilio":
                var fields = new SortedDictionary<string, string>(StringComparer.Ordinal)
                {
                    ["CallSid"] = "CA" + Guid.NewGuid().ToString("N"), ["From"] = "+15551234567", ["Body"] = "hello world & more",
                };
                body = Encoding.UTF8.GetBytes(string.Join("&", fields.Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value)}")));
                contentType = "application/x-www-form-urlencoded";
                var signed = url.AbsoluteUri + string.Concat(fields.Select(f => f.Key + f.Value));
                headers.Add(("X-Twilio-Signature", Convert.ToBase64String(HMACSHA1.HashData(key, Encoding.UTF8.GetBytes(signed)))));
                break;
            case "mailgun":
                var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(25)).ToLowerInvariant();
                var signature = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(ts + token)));
                body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["signature"] = new Dictionary<string, string> { ["timestamp"] = ts, ["token"] = token, ["signature"] = signature },
                    ["event-data"] = new Dictionary<string, string> { ["event"] = "delivered" },
                }));
                break;
            case "sendgrid":
                headers.Add(("X-Twilio-Email-Event-Webhook-Timestamp", ts));
                headers.Add(("X-Twilio-Email-Event-Webhook-Signature",
                    Convert.ToBase64String(_sendGridKey!.SignData(Concat(ts, body), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))));
                break;
            case "hubspot":
                var ms = at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
                headers.Add(("X-HubSpot-Request-Timestamp", ms));
                var source = Concat("POST" + url.AbsoluteUri, body).Concat(Encoding.UTF8.GetBytes(ms)).ToArray();
                headers.Add(("X-HubSpot-Signature-v3", Convert.ToBase64String(HMACSHA256.HashData(key, source))));
                break;
            case "twitch":
                var messageId = Guid.NewGuid().ToString();
                // Twitch writes nanoseconds: nine fraction digits.
                var when = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "12Z";
                headers.Add(("Twitch-Eventsub-Message-Id", messageId));
                headers.Add(("Twitch-Eventsub-Message-Timestamp", when));
                headers.Add(("Twitch-Eventsub-Message-Signature", "sha256=" + Hex(HMACSHA256.HashData(key, Concat(messageId + when, body)))));
                break;
            case "square":
                headers.Add(("x-square-hmacsha256-signature", Convert.ToBase64String(HMACSHA256.HashData(key, Concat(url.AbsoluteUri, body)))));
                break;
            case "discord":
                headers.Add(("X-Signature-Timestamp", ts));
                headers.Add(("X-Signature-Ed25519", Hex(SignatureAlgorithm.Ed25519.Sign(_discordKey!, Concat(ts, body)))));
                break;
            default:
                throw new ArgumentException($"no signer for {Provider}");
        }
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    /// <summary>A second request with the same bytes and headers: what a replaying attacker sends.</summary>
    public static async Task<HttpRequestMessage> CopyAsync(HttpRequestMessage original)
    {
        var body = await original.Content!.ReadAsByteArrayAsync();
        var copy = new HttpRequestMessage(original.Method, original.RequestUri) { Content = new ByteArrayContent(body) };
        foreach (var h in original.Headers) copy.Headers.TryAddWithoutValidation(h.Key, h.Value);
        foreach (var h in original.Content.Headers) copy.Content.Headers.TryAddWithoutValidation(h.Key, h.Value);
        return copy;
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    private static byte[] Concat(string prefix, byte[] body) => [.. Encoding.UTF8.GetBytes(prefix), .. body];
}
