using System.Security.Cryptography;
using System.Text.Json;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// Mailgun: the signature travels in the body — form fields <c>timestamp</c>, <c>token</c>,
/// <c>signature</c>, or in a JSON body's <c>signature</c> object — as hex HMAC-SHA256 of
/// timestamp + token keyed by the account's webhook signing key. Mailgun asks receivers to refuse a
/// token seen before: the signature (which the token determines) is what the replay window keeps.
/// </summary>
internal sealed class MailgunScheme : IWebhookScheme
{
    public string Name => "mailgun";

    public string SecretHint => "the HTTP webhook signing key (Sending → Webhooks in the Mailgun dashboard)";

    public byte[]? Key(string secret) => Mac.Utf8Key(secret);

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        if (!TryFields(request, out var timestamp, out var token, out var signature))
            return WebhookCheck.Missing("body fields timestamp, token and signature");
        if (!Mac.TryUnixSeconds(timestamp, out var seconds)) return WebhookCheck.Malformed("field timestamp (Unix seconds)");
        using var mac = Mac.Start(HashAlgorithmName.SHA256, key);
        mac.Append(timestamp + token);
        return Mac.MatchesHex(mac, signature) ? WebhookCheck.Valid(seconds, Mac.Fingerprint(mac)) : WebhookCheck.Mismatch;
    }

    private static bool TryFields(WebhookRequest request, out string timestamp, out string token, out string signature)
    {
        timestamp = token = signature = "";
        if (request.IsJson)
        {
            try
            {
                using var doc = JsonDocument.Parse(request.Body.ToArray());
                if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("signature", out var s) || s.ValueKind != JsonValueKind.Object)
                    return false;
                timestamp = Text(s, "timestamp");
                token = Text(s, "token");
                signature = Text(s, "signature");
            }
            catch (JsonException)
            {
                return false;
            }
        }
        else
        {
            var form = request.Form();
            timestamp = form.TryGetValue("timestamp", out var t) ? t.ToString() : "";
            token = form.TryGetValue("token", out var k) ? k.ToString() : "";
            signature = form.TryGetValue("signature", out var g) ? g.ToString() : "";
        }
        return timestamp.Length > 0 && token.Length > 0 && signature.Length > 0;
    }

    private static string Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString() ?? "",
            JsonValueKind.Number => v.GetRawText(),
            _ => "",
        } : "";
}
