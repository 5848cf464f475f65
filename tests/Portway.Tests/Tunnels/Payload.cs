using System.Security.Cryptography;

namespace Portway.Tests.Tunnels;

/// <summary>Deterministic bulk bodies and their SHA-256, without holding 100 MB in memory.</summary>
internal static class Payload
{
    public const long HundredMegabytes = 100L * 1024 * 1024;

    /// <summary>Writes <paramref name="length"/> pseudo-random bytes (seeded) and returns their SHA-256 (hex).</summary>
    public static async Task<string> WriteAsync(Stream target, long length, int seed = 42, CancellationToken cancellationToken = default)
    {
        var random = new Random(seed);
        var buffer = new byte[64 * 1024];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long sent = 0; sent < length;)
        {
            var n = (int)Math.Min(buffer.Length, length - sent);
            random.NextBytes(buffer.AsSpan(0, n));
            sha.AppendData(buffer, 0, n);
            await target.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            sent += n;
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public static async Task<(long Length, string Sha256)> HashAsync(Stream source, CancellationToken cancellationToken = default)
    {
        var buffer = new byte[64 * 1024];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        int n;
        while ((n = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }
        return (total, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    public static string Expected(long length, int seed = 42) => WriteAsync(Stream.Null, length, seed).GetAwaiter().GetResult();
}
