using System.Runtime.CompilerServices;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// A 64-bit hash that is the same in every process and on every machine (string.GetHashCode is
/// randomized per process, so two edges would disagree about where a key belongs). FNV-1a over
/// the input, then MurmurHash3's fmix64 finalizer: FNV alone spreads near-identical inputs such as
/// "host#1", "host#2" poorly around a ring; the finalizer gives every input bit full avalanche.
/// </summary>
internal static class StableHash
{
    private const ulong FnvOffset = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;

    public static ulong Of(ReadOnlySpan<char> text)
    {
        var hash = FnvOffset;
        foreach (var c in text)
        {
            hash = (hash ^ c) * FnvPrime;
        }
        return Mix(hash);
    }

    public static ulong Of(ReadOnlySpan<byte> bytes)
    {
        var hash = FnvOffset;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * FnvPrime;
        }
        return Mix(hash);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong k)
    {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccd;
        k ^= k >> 33;
        k *= 0xc4ceb9fe1a85ec53;
        k ^= k >> 33;
        return k;
    }
}
