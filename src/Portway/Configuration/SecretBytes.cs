using System.Security.Cryptography;

namespace Portway.Configuration;

/// <summary>
/// Bytes that are a secret (a MAC key): compared in constant time, so a reload comparison leaks
/// nothing about them through timing, and never printed. A config record holding one compares
/// by value without a hand-written Equals.
/// </summary>
internal readonly struct SecretBytes(byte[] bytes) : IEquatable<SecretBytes>
{
    private readonly byte[]? _bytes = bytes;

    public ReadOnlySpan<byte> Span => _bytes;

    public bool Equals(SecretBytes other) => CryptographicOperations.FixedTimeEquals(Span, other.Span);

    public override bool Equals(object? obj) => obj is SecretBytes other && Equals(other);

    /// <summary>The length only: a hash of the bytes would be a fast oracle on them.</summary>
    public override int GetHashCode() => Span.Length;

    public override string ToString() => "(hidden)";

    public static bool operator ==(SecretBytes a, SecretBytes b) => a.Equals(b);

    public static bool operator !=(SecretBytes a, SecretBytes b) => !a.Equals(b);
}
