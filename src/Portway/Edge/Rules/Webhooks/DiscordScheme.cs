using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// Discord interactions (and its webhook events): <c>X-Signature-Ed25519</c>, the hex Ed25519
/// signature of <c>X-Signature-Timestamp</c> + body, made with the application's private key. The
/// config holds the application's public key (hex, 32 bytes, as the developer portal shows it), so,
/// as with SendGrid, a leaked config cannot forge deliveries. Ed25519 is not in .NET's base library:
/// NSec (libsodium) verifies, which rejects non-canonical signatures and small-order keys.
/// </summary>
internal sealed class DiscordScheme : IWebhookScheme
{
    private const string SignatureHeader = "X-Signature-Ed25519";
    private const string TimestampHeader = "X-Signature-Timestamp";

    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;

    public string Name => "discord";

    public string SecretHint => "the application's public key (64 hex digits, General Information → Public Key)";

    public byte[]? Key(string secret)
    {
        if (secret.Length != 64) return null;
        byte[] raw;
        try
        {
            raw = Convert.FromHexString(secret);
        }
        catch (FormatException)
        {
            return null;
        }
        return PublicKey.TryImport(Ed25519, raw, KeyBlobFormat.RawPublicKey, out _) ? raw : null;
    }

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var signature = request.Header(SignatureHeader);
        if (signature.Length == 0) return WebhookCheck.Missing($"header {SignatureHeader}");
        var timestamp = request.Header(TimestampHeader);
        if (timestamp.Length == 0) return WebhookCheck.Missing($"header {TimestampHeader}");
        if (!Mac.TryUnixSeconds(timestamp, out var seconds)) return WebhookCheck.Malformed($"header {TimestampHeader} (Unix seconds)");
        Span<byte> decoded = stackalloc byte[64];
        if (signature.Length != 128 || Convert.FromHexString(signature, decoded, out _, out _) != System.Buffers.OperationStatus.Done)
            return WebhookCheck.Malformed($"header {SignatureHeader} (128 hex digits)");
        var prefix = Encoding.UTF8.GetBytes(timestamp);
        var data = new byte[prefix.Length + request.Body.Length];
        prefix.CopyTo(data, 0);
        request.Body.CopyTo(data.AsSpan(prefix.Length));
        // Key() accepted these bytes at load, so the import cannot fail here.
        var publicKey = PublicKey.Import(Ed25519, key, KeyBlobFormat.RawPublicKey);
        if (!Ed25519.Verify(publicKey, data, decoded)) return WebhookCheck.Mismatch;
        // Keyed on what was signed, like SendGrid: the replay window does not depend on the signature's encoding.
        return WebhookCheck.Valid(seconds, Convert.ToHexString(SHA256.HashData(data)));
    }
}
