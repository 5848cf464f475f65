using System.Security.Cryptography;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// Stripe: <c>Stripe-Signature: t=TIMESTAMP,v1=HEX[,v1=HEX…]</c>, HMAC-SHA256 of "t.body" keyed by
/// the endpoint's whole <c>whsec_…</c> string. Several v1 values appear while a secret is rolled;
/// any of them may match. v0 (test-mode legacy) is ignored, as Stripe's libraries do.
/// </summary>
internal sealed class StripeScheme : IWebhookScheme
{
    private const string Header = "Stripe-Signature";

    public string Name => "stripe";

    public string SecretHint => "the endpoint's signing secret as the dashboard shows it (whsec_…)";

    public byte[]? Key(string secret) => Mac.Utf8Key(secret);

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var value = request.Header(Header);
        if (value.Length == 0) return WebhookCheck.Missing($"header {Header}");
        string? t = null;
        var signatures = new List<string>();
        foreach (var part in value.Split(','))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) continue;
            var name = part[..eq].Trim();
            if (name == "t") t = part[(eq + 1)..].Trim();
            else if (name == "v1") signatures.Add(part[(eq + 1)..].Trim());
        }
        if (t is null || !Mac.TryUnixSeconds(t, out var seconds)) return WebhookCheck.Malformed($"header {Header} (no t=)");
        if (signatures.Count == 0) return WebhookCheck.Malformed($"header {Header} (no v1=)");
        using var mac = Mac.Start(HashAlgorithmName.SHA256, key);
        mac.Append(t + ".");
        mac.AppendData(request.Body);
        foreach (var s in signatures)
        {
            if (Mac.MatchesHex(mac, s)) return WebhookCheck.Valid(seconds, Mac.Fingerprint(mac));
        }
        return WebhookCheck.Mismatch;
    }
}
