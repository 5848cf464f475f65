using System.Security.Cryptography;

namespace Portway.Edge.Observability;

/// <summary>
/// Generated request ids: 32 lowercase hex digits (the shape of a GUID in "N" format), a random
/// 64-bit prefix drawn once per process followed by a 64-bit counter. Unique within a run, and
/// across runs unless two prefixes collide (odds 2^-64). Not a secret: a client may send its own.
/// Guid.NewGuid was used before; on Linux each one is a getrandom(2) system call (glibc's
/// arc4random_buf), which showed up in profiles of the proxy path under load (docs/benchmarks.md).
/// </summary>
internal static class RequestIds
{
    private static readonly ulong Prefix = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
    private static long _counter;

    public static string Next() =>
        string.Create(32, (ulong)Interlocked.Increment(ref _counter), static (span, count) =>
        {
            Prefix.TryFormat(span, out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
            count.TryFormat(span[16..], out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
        });
}
