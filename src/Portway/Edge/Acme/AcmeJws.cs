using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Portway.Edge.Acme;

/// <summary>
/// Flattened JWS (RFC 7515 §7.2.2) signed with ES256 (RFC 7518 §3.4) as ACME requires (RFC 8555
/// §6.2): the protected header carries alg, nonce, url and either the account's jwk (newAccount)
/// or its kid (everything else). POST-as-GET sends an empty payload (§6.3).
/// </summary>
internal static class AcmeJws
{
    public static string Encode(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    /// <summary>The public JWK with members in lexicographic order, as the RFC 7638 thumbprint needs.</summary>
    public static string Jwk(ECDsa key)
    {
        var p = key.ExportParameters(false);
        return $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Encode(p.Q.X)}\",\"y\":\"{Encode(p.Q.Y)}\"}}";
    }

    /// <summary>RFC 7638 JWK thumbprint (SHA-256, base64url): the second half of every key authorization (RFC 8555 §8.1).</summary>
    public static string Thumbprint(ECDsa key) => Encode(SHA256.HashData(Encoding.UTF8.GetBytes(Jwk(key))));

    /// <summary>The request body: {"protected","payload","signature"}. <paramref name="payload"/> null = POST-as-GET.</summary>
    public static byte[] Sign(ECDsa key, string? kid, string nonce, Uri url, byte[]? payload)
    {
        var header = new MemoryStream();
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            w.WriteString("alg", "ES256");
            if (kid is null)
            {
                w.WritePropertyName("jwk");
                w.WriteRawValue(Jwk(key));
            }
            else w.WriteString("kid", kid);
            w.WriteString("nonce", nonce);
            w.WriteString("url", url.AbsoluteUri);
            w.WriteEndObject();
        }
        var protectedPart = Encode(header.ToArray());
        var payloadPart = payload is null ? "" : Encode(payload);
        // ECDsa.SignData's default signature format is IEEE P1363 (r || s), which is what JWS ES256 wants.
        var signature = key.SignData(Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart), HashAlgorithmName.SHA256);
        var body = new MemoryStream();
        using (var w = new Utf8JsonWriter(body))
        {
            w.WriteStartObject();
            w.WriteString("protected", protectedPart);
            w.WriteString("payload", payloadPart);
            w.WriteString("signature", Encode(signature));
            w.WriteEndObject();
        }
        return body.ToArray();
    }
}
