using System.Security.Cryptography;
using System.Text;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// SendGrid's signed Event Webhook: an ECDSA P-256 signature (base64, DER) over timestamp + body
/// with SHA-256, in <c>X-Twilio-Email-Event-Webhook-Signature</c> and <c>-Timestamp</c>. The
/// "secret" is the public verification key the settings page shows (base64 SubjectPublicKeyInfo):
/// nothing secret is stored, and a leaked config cannot forge deliveries.
/// </summary>
internal sealed class SendGridScheme : IWebhookScheme
{
    private const string SignatureHeader = "X-Twilio-Email-Event-Webhook-Signature";
    private const string TimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp";

    public string Name => "sendgrid";

    public string SecretHint => "the Signed Event Webhook's verification key (base64 public key, as Settings → Mail Settings shows it)";

    public byte[]? Key(string secret)
    {
        try
        {
            var der = Convert.FromBase64String(secret.Trim());
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportSubjectPublicKeyInfo(der, out _);
            return ecdsa.KeySize == 256 ? der : null;
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return null;
        }
    }

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var signature = request.Header(SignatureHeader);
        if (signature.Length == 0) return WebhookCheck.Missing($"header {SignatureHeader}");
        var timestamp = request.Header(TimestampHeader);
        if (timestamp.Length == 0) return WebhookCheck.Missing($"header {TimestampHeader}");
        if (!Mac.TryUnixSeconds(timestamp, out var seconds)) return WebhookCheck.Malformed($"header {TimestampHeader} (Unix seconds)");
        byte[] der;
        try
        {
            der = Convert.FromBase64String(signature);
        }
        catch (FormatException)
        {
            return WebhookCheck.Mismatch;
        }
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(key, out _);
        var prefix = Encoding.UTF8.GetBytes(timestamp);
        var data = new byte[prefix.Length + request.Body.Length];
        prefix.CopyTo(data, 0);
        request.Body.CopyTo(data.AsSpan(prefix.Length));
        var ok = ecdsa.VerifyData(data, der, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        // ECDSA signatures are malleable (s and n − s both verify), so a replay is recognised by what
        // was signed, not by the signature's bytes.
        return ok ? WebhookCheck.Valid(seconds, Convert.ToHexString(SHA256.HashData(data))) : WebhookCheck.Mismatch;
    }
}
