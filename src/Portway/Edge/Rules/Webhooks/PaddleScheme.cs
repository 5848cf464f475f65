using System.Security.Cryptography;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// Paddle Billing: <c>Paddle-Signature: ts=TIMESTAMP;h1=HEX[;h1=HEX]</c>, HMAC-SHA256 of "ts:body"
/// keyed by the notification destination's secret key (pdl_ntfset_…, used as written).
/// </summary>
internal sealed class PaddleScheme : IWebhookScheme
{
    private const string Header = "Paddle-Signature";

    public string Name => "paddle";

    public string SecretHint => "the notification destination's secret key as Paddle shows it (pdl_ntfset_…)";

    public byte[]? Key(string secret) => Mac.Utf8Key(secret);

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var value = request.Header(Header);
        if (value.Length == 0) return WebhookCheck.Missing($"header {Header}");
        string? ts = null;
        var signatures = new List<string>();
        foreach (var part in value.Split(';'))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) continue;
            var name = part[..eq].Trim();
            if (name == "ts") ts = part[(eq + 1)..].Trim();
            else if (name == "h1") signatures.Add(part[(eq + 1)..].Trim());
        }
        if (ts is null || !Mac.TryUnixSeconds(ts, out var seconds)) return WebhookCheck.Malformed($"header {Header} (no ts=)");
        if (signatures.Count == 0) return WebhookCheck.Malformed($"header {Header} (no h1=)");
        using var mac = Mac.Start(HashAlgorithmName.SHA256, key);
        mac.Append(ts + ":");
        mac.AppendData(request.Body);
        foreach (var s in signatures)
        {
            if (Mac.MatchesHex(mac, s)) return WebhookCheck.Valid(seconds, Mac.Fingerprint(mac));
        }
        return WebhookCheck.Mismatch;
    }
}
