using System.Security.Cryptography;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// An HMAC of the raw body in one header, hex or base64, maybe behind a prefix such as
/// <c>sha256=</c>: GitHub, Bitbucket, Shopify, Linear, Intercom. No timestamp is signed, so a
/// captured delivery stays valid: the replay window is the only defence against repeating it.
/// </summary>
internal sealed class BodyHmacScheme(string name, string header, string prefix, HashAlgorithmName algorithm, bool base64, string secretHint) : IWebhookScheme
{
    public string Name => name;

    public string SecretHint => secretHint;

    public byte[]? Key(string secret) => Mac.Utf8Key(secret);

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var value = request.Header(header);
        if (value.Length == 0) return WebhookCheck.Missing($"header {header}");
        if (!value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return WebhookCheck.Malformed($"header {header} (expected {prefix}…)");
        using var mac = Mac.Start(algorithm, key);
        mac.AppendData(request.Body);
        var given = value.AsSpan(prefix.Length).Trim();
        var ok = base64 ? Mac.MatchesBase64(mac, given) : Mac.MatchesHex(mac, given);
        return ok ? WebhookCheck.Valid(null, Mac.Fingerprint(mac)) : WebhookCheck.Mismatch;
    }
}
