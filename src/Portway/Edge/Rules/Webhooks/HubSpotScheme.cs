using System.Security.Cryptography;
using System.Text;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// HubSpot's v3 request signature: <c>X-HubSpot-Signature-v3</c>, base64 HMAC-SHA256 keyed by the
/// app's client secret over method + URI + body + timestamp, the timestamp in
/// <c>X-HubSpot-Request-Timestamp</c> in milliseconds. The URI is the one HubSpot called, with the
/// percent-escapes HubSpot's documentation lists decoded.
/// </summary>
internal sealed class HubSpotScheme : IWebhookScheme
{
    private const string SignatureHeader = "X-HubSpot-Signature-v3";
    private const string TimestampHeader = "X-HubSpot-Request-Timestamp";

    /// <summary>The escapes HubSpot decodes before signing; any other stays as sent.</summary>
    private static readonly (string Escape, string Char)[] Decoded =
    [
        ("%3A", ":"), ("%2F", "/"), ("%3F", "?"), ("%40", "@"), ("%21", "!"), ("%24", "$"),
        ("%27", "'"), ("%28", "("), ("%29", ")"), ("%2A", "*"), ("%2C", ","), ("%3B", ";"),
    ];

    public string Name => "hubspot";

    public string SecretHint => "the app's client secret";

    public byte[]? Key(string secret) => Mac.Utf8Key(secret);

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var signature = request.Header(SignatureHeader);
        if (signature.Length == 0) return WebhookCheck.Missing($"header {SignatureHeader}");
        var timestamp = request.Header(TimestampHeader);
        if (timestamp.Length == 0) return WebhookCheck.Missing($"header {TimestampHeader}");
        if (!Mac.TryUnixSeconds(timestamp, out var millis)) return WebhookCheck.Malformed($"header {TimestampHeader} (Unix milliseconds)");
        var uri = new StringBuilder(request.PublicUrl());
        foreach (var (escape, c) in Decoded) uri.Replace(escape, c).Replace(escape.ToLowerInvariant(), c);
        using var mac = Mac.Start(HashAlgorithmName.SHA256, key);
        mac.Append(request.Method + uri);
        mac.AppendData(request.Body);
        mac.Append(timestamp);
        return Mac.MatchesBase64(mac, signature) ? WebhookCheck.Valid(millis / 1000, Mac.Fingerprint(mac)) : WebhookCheck.Mismatch;
    }
}
