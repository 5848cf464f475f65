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
        return Flattened(protectedPart, payloadPart, signature);
    }

    /// <summary>
    /// The externalAccountBinding member of a newAccount payload (RFC 8555 §7.3.4): a JWS MACed
    /// with HS256 (RFC 7518 §3.2) under the CA's key, protected header alg + kid (the CA's key id)
    /// + url (the newAccount URL, no nonce), payload the account's public JWK — so the CA learns
    /// that whoever holds the MAC key vouches for this account key.
    /// </summary>
    public static byte[] ExternalAccountBinding(ECDsa accountKey, string keyId, ReadOnlySpan<byte> hmacKey, Uri newAccountUrl)
    {
        var header = new MemoryStream();
        using (var w = new Utf8JsonWriter(header))
        {
            w.WriteStartObject();
            w.WriteString("alg", "HS256");
            w.WriteString("kid", keyId);
            w.WriteString("url", newAccountUrl.AbsoluteUri);
            w.WriteEndObject();
        }
        var protectedPart = Encode(header.ToArray());
        var payloadPart = Encode(Encoding.UTF8.GetBytes(Jwk(accountKey)));
        var mac = HMACSHA256.HashData(hmacKey, Encoding.ASCII.GetBytes(protectedPart + "." + payloadPart));
        return Flattened(protectedPart, payloadPart, mac);
    }

    private static byte[] Flattened(string protectedPart, string payloadPart, ReadOnlySpan<byte> signature)
    {
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
