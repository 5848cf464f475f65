using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// The MAC arithmetic the schemes share. A given signature is decoded to bytes and compared with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>, so timing reveals nothing about how much
/// of a forged signature was right; a value that does not decode is a plain mismatch.
/// </summary>
internal static class Mac
{
    public static IncrementalHash Start(HashAlgorithmName algorithm, ReadOnlySpan<byte> key) => IncrementalHash.CreateHMAC(algorithm, key);

    public static void Append(this IncrementalHash mac, string text) => mac.AppendData(Encoding.UTF8.GetBytes(text));

    /// <summary>True when <paramref name="given"/> (hex, any case) is the MAC's value.</summary>
    public static bool MatchesHex(IncrementalHash mac, ReadOnlySpan<char> given)
    {
        Span<byte> expected = stackalloc byte[64];
        var length = mac.GetCurrentHash(expected);
        Span<byte> decoded = stackalloc byte[64];
        if (given.Length != length * 2) return false;
        if (Convert.FromHexString(given, decoded, out _, out var written) != System.Buffers.OperationStatus.Done) return false;
        return CryptographicOperations.FixedTimeEquals(decoded[..written], expected[..length]);
    }

    /// <summary>True when <paramref name="given"/> (standard base64) is the MAC's value.</summary>
    public static bool MatchesBase64(IncrementalHash mac, ReadOnlySpan<char> given)
    {
        Span<byte> expected = stackalloc byte[64];
        var length = mac.GetCurrentHash(expected);
        Span<byte> decoded = stackalloc byte[96];
        if (!Convert.TryFromBase64Chars(given, decoded, out var written)) return false;
        return CryptographicOperations.FixedTimeEquals(decoded[..written], expected[..length]);
    }

    /// <summary>
    /// What the replay window remembers: the MAC as computed, not the text the request carried,
    /// which could be re-spelt (hex case, base64 padding bits) to look new while still matching.
    /// </summary>
    public static string Fingerprint(IncrementalHash mac)
    {
        Span<byte> value = stackalloc byte[64];
        return Convert.ToHexString(value[..mac.GetCurrentHash(value)]);
    }

    /// <summary>A Unix time in seconds as providers write it (digits only, no sign).</summary>
    public static bool TryUnixSeconds(string text, out long seconds) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out seconds);

    /// <summary>Raw UTF-8 bytes of the secret as the provider shows it: what most providers key their HMAC with.</summary>
    public static byte[]? Utf8Key(string secret) => secret.Length == 0 ? null : Encoding.UTF8.GetBytes(secret);
}
