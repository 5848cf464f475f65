namespace Portway.Configuration;

/// <summary>
/// External Account Binding (RFC 8555 §7.3.4): the key id and MAC key a CA such as ZeroSSL or
/// Google Trust Services hands out with an account on its site. The MAC key is a secret: it is
/// compared in constant time (<see cref="SecretBytes"/>, so a reload comparison leaks nothing
/// about it through timing) and never printed — not by <see cref="ToString"/>, not in any
/// config error.
/// </summary>
internal sealed record AcmeEabConfig(string KeyId, SecretBytes HmacKey)
{
    public AcmeEabConfig(string keyId, byte[] hmacKey) : this(keyId, new SecretBytes(hmacKey)) { }

    public override string ToString() => $"EAB kid {KeyId} (hmac_key hidden)";
}
