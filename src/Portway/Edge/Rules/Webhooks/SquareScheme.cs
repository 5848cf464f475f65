using System.Security.Cryptography;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// Square: <c>x-square-hmacsha256-signature</c>, base64 HMAC-SHA256 keyed by the subscription's
/// signature key over the notification URL + body. The URL is the one Square called, so it must be
/// the edge's public URL exactly as the subscription names it.
/// </summary>
internal sealed class SquareScheme : IWebhookScheme
{
    private const string Header = "x-square-hmacsha256-signature";

    public string Name => "square";

    public string SecretHint => "the webhook subscription's signature key";

    public byte[]? Key(string secret) => Mac.Utf8Key(secret);

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var signature = request.Header(Header);
        if (signature.Length == 0) return WebhookCheck.Missing($"header {Header}");
        using var mac = Mac.Start(HashAlgorithmName.SHA256, key);
        mac.Append(request.PublicUrl());
        mac.AppendData(request.Body);
        return Mac.MatchesBase64(mac, signature) ? WebhookCheck.Valid(null, Mac.Fingerprint(mac)) : WebhookCheck.Mismatch;
    }
}
