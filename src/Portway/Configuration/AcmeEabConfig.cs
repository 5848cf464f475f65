using System.Security.Cryptography;

namespace Portway.Configuration;

/// <summary>
/// External Account Binding (RFC 8555 §7.3.4): the key id and MAC key a CA such as ZeroSSL or
/// Google Trust Services hands out with an account on its site. The MAC key is a secret: it is
/// compared in constant time and never printed — not by <see cref="ToString"/>, not in any
/// config error.
/// </summary>
internal sealed class AcmeEabConfig(string keyId, byte[] hmacKey) : IEquatable<AcmeEabConfig>
{
    private readonly byte[] _hmacKey = hmacKey;

    public string KeyId { get; } = keyId;

    /// <summary>The decoded MAC key, for signing only.</summary>
    public ReadOnlySpan<byte> HmacKey => _hmacKey;

    /// <summary>Constant time on the key, so a reload comparison leaks nothing about it through timing.</summary>
    public bool Equals(AcmeEabConfig? o) =>
        o is not null && KeyId == o.KeyId && CryptographicOperations.FixedTimeEquals(_hmacKey, o._hmacKey);

    public override bool Equals(object? obj) => Equals(obj as AcmeEabConfig);

    public override int GetHashCode() => KeyId.GetHashCode(StringComparison.Ordinal);

    public static bool operator ==(AcmeEabConfig? a, AcmeEabConfig? b) => a is null ? b is null : a.Equals(b);

    public static bool operator !=(AcmeEabConfig? a, AcmeEabConfig? b) => !(a == b);

    public override string ToString() => $"EAB kid {KeyId} (hmac_key hidden)";
}
