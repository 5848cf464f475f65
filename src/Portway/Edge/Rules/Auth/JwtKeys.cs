using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Portway.Edge.Rules.Auth;

/// <summary>Signing keys given in the config rather than fetched: a PEM public key, or an HMAC secret.</summary>
internal static class JwtKeys
{
    /// <summary>An RSA or EC public key from PEM text (SubjectPublicKeyInfo or PKCS#1); null when the text holds neither.</summary>
    public static SecurityKey? FromPem(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
        }
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ec.Dispose();
            return null;
        }
    }

    public static SecurityKey FromSecret(ReadOnlySpan<byte> secret) => new SymmetricSecurityKey(secret.ToArray());
}
