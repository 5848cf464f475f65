using System.Security.Cryptography;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// Slack's request signing (version v0): <c>v0=HEX</c>, HMAC-SHA256 of "v0:TIMESTAMP:body" keyed by
/// the app's signing secret, the timestamp in its own header. Zoom signs its event notifications
/// the same way under its own header names (x-zm-signature, x-zm-request-timestamp).
/// </summary>
internal sealed class SlackScheme(string name, string signatureHeader, string timestampHeader, string secretHint) : IWebhookScheme
{
    public string Name => name;

    public string SecretHint => secretHint;

    public byte[]? Key(string secret) => Mac.Utf8Key(secret);

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var signature = request.Header(signatureHeader);
        if (signature.Length == 0) return WebhookCheck.Missing($"header {signatureHeader}");
        var timestamp = request.Header(timestampHeader);
        if (timestamp.Length == 0) return WebhookCheck.Missing($"header {timestampHeader}");
        if (!Mac.TryUnixSeconds(timestamp, out var seconds)) return WebhookCheck.Malformed($"header {timestampHeader} (Unix seconds)");
        if (!signature.StartsWith("v0=", StringComparison.Ordinal)) return WebhookCheck.Malformed($"header {signatureHeader} (expected v0=…)");
        using var mac = Mac.Start(HashAlgorithmName.SHA256, key);
        mac.Append($"v0:{timestamp}:");
        mac.AppendData(request.Body);
        return Mac.MatchesHex(mac, signature.AsSpan(3)) ? WebhookCheck.Valid(seconds, Mac.Fingerprint(mac)) : WebhookCheck.Mismatch;
    }
}
