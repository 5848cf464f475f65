using System.Security.Cryptography;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// Standard Webhooks (standardwebhooks.com; Svix sends the same with svix- header names):
/// <c>{prefix}id</c>, <c>{prefix}timestamp</c> and <c>{prefix}signature</c>, a space-separated list of
/// <c>v1,BASE64</c> — HMAC-SHA256 of "id.timestamp.body" keyed by the base64 after <c>whsec_</c>.
/// Several entries appear while a secret is rolled; any v1 may match (v1a, asymmetric, is skipped).
/// </summary>
internal sealed class StandardWebhooksScheme(string name, string prefix) : IWebhookScheme
{
    public string Name => name;

    public string SecretHint => "the endpoint's signing secret: whsec_ followed by base64";

    public byte[]? Key(string secret)
    {
        var text = secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret;
        try
        {
            var key = Convert.FromBase64String(text);
            return key.Length == 0 ? null : key;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var id = request.Header(prefix + "id");
        if (id.Length == 0) return WebhookCheck.Missing($"header {prefix}id");
        var timestamp = request.Header(prefix + "timestamp");
        if (timestamp.Length == 0) return WebhookCheck.Missing($"header {prefix}timestamp");
        if (!Mac.TryUnixSeconds(timestamp, out var seconds)) return WebhookCheck.Malformed($"header {prefix}timestamp (Unix seconds)");
        var signatures = request.Header(prefix + "signature");
        if (signatures.Length == 0) return WebhookCheck.Missing($"header {prefix}signature");
        using var mac = Mac.Start(HashAlgorithmName.SHA256, key);
        mac.Append($"{id}.{timestamp}.");
        mac.AppendData(request.Body);
        foreach (var entry in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (entry.StartsWith("v1,", StringComparison.Ordinal) && Mac.MatchesBase64(mac, entry.AsSpan(3)))
                return WebhookCheck.Valid(seconds, Mac.Fingerprint(mac));
        }
        return WebhookCheck.Mismatch;
    }
}
