using System.Globalization;
using System.Security.Cryptography;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// Twitch EventSub: <c>Twitch-Eventsub-Message-Signature: sha256=HEX</c>, HMAC-SHA256 keyed by the
/// subscription's secret over message id + timestamp + body (headers <c>-Message-Id</c> and
/// <c>-Message-Timestamp</c>, RFC 3339 with up to nanoseconds).
/// </summary>
internal sealed class TwitchScheme : IWebhookScheme
{
    private const string SignatureHeader = "Twitch-Eventsub-Message-Signature";
    private const string IdHeader = "Twitch-Eventsub-Message-Id";
    private const string TimestampHeader = "Twitch-Eventsub-Message-Timestamp";

    public string Name => "twitch";

    public string SecretHint => "the secret given when the EventSub subscription was created";

    public byte[]? Key(string secret) => Mac.Utf8Key(secret);

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var signature = request.Header(SignatureHeader);
        if (signature.Length == 0) return WebhookCheck.Missing($"header {SignatureHeader}");
        var id = request.Header(IdHeader);
        if (id.Length == 0) return WebhookCheck.Missing($"header {IdHeader}");
        var timestamp = request.Header(TimestampHeader);
        if (timestamp.Length == 0) return WebhookCheck.Missing($"header {TimestampHeader}");
        if (!TryRfc3339(timestamp, out var at)) return WebhookCheck.Malformed($"header {TimestampHeader} (RFC 3339)");
        if (!signature.StartsWith("sha256=", StringComparison.Ordinal)) return WebhookCheck.Malformed($"header {SignatureHeader} (expected sha256=…)");
        using var mac = Mac.Start(HashAlgorithmName.SHA256, key);
        mac.Append(id + timestamp);
        mac.AppendData(request.Body);
        return Mac.MatchesHex(mac, signature.AsSpan(7)) ? WebhookCheck.Valid(at.ToUnixTimeSeconds(), Mac.Fingerprint(mac)) : WebhookCheck.Mismatch;
    }

    /// <summary>Twitch writes nanoseconds; .NET parses at most seven fraction digits, so the rest is cut.</summary>
    private static bool TryRfc3339(string text, out DateTimeOffset at)
    {
        var dot = text.IndexOf('.');
        if (dot > 0)
        {
            var end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end])) end++;
            if (end - dot - 1 > 7) text = text[..(dot + 8)] + text[end..];
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out at);
    }
}
