using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Claims;

namespace Portway.Edge.Rules.Auth;

/// <summary>
/// Tokens a <c>jwt</c> rule accepted, so a client sending the same token on every request (the
/// usual case: a session's access token) pays one signature check per token, not per request —
/// an RS256 check costs about as much as proxying the request (docs/benchmarks.md#rule-cost).
/// Envoy's jwt_authn keeps such a cache too. An entry is used only while the token is unexpired
/// (with the rule's clock skew, as the check allows) and only with the very key set it was checked
/// against: a refetched set (a rotation, a withdrawn key) makes every entry stale at once.
/// </summary>
internal sealed class AcceptedTokens
{
    /// <summary>Bounded: past this many the cache starts over; a busy API has far fewer live tokens.</summary>
    private const int Capacity = 4096;

    /// <summary>
    /// Slots for recent hits, by the header string's identity hash. Every keep-alive connection
    /// has its own string, so there must be room for many more than the connections sending at
    /// once: at 64, 64 connections shared slots more often than not and pushed each other out,
    /// and a miss costs hashing and comparing the whole token (~1 KB). In pairs (512 of two
    /// slots, <see cref="Find"/>), so two strings sharing a hash still both stay. 8 KB per rule.
    /// </summary>
    private const int RecentSlots = 1024;

    private readonly ConcurrentDictionary<string, Accepted> _entries;

    /// <summary>Recent hits by header string (identity), one per slot, two slots per hash; a stale one is only a miss here.</summary>
    private readonly Recent?[] _recent = new Recent?[RecentSlots];

    /// <summary>Looks a token up by a span of the request's header, so a hit copies nothing.</summary>
    private readonly ConcurrentDictionary<string, Accepted>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    public AcceptedTokens()
    {
        _entries = new(StringComparer.Ordinal);
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private sealed record Recent(string Header, Accepted Entry);

    /// <summary>
    /// What passing the rule needs: the token's user, shared by its requests (nothing on the edge
    /// changes a principal once set, and the server only sees the claim headers), and the claim
    /// headers' values, by position in <c>claims_to_headers</c> (null: the token lacks that claim).
    /// <c>Until</c> is on <see cref="Environment.TickCount64"/>'s clock: read per request, it is a
    /// coarse counter where the wall clock costs a timestamp read (a visible share of the rule on a VM).
    /// </summary>
    internal sealed record Accepted(ClaimsPrincipal User, string?[] Values, long Until, object Keys)
    {
        /// <param name="validUntil">The token's expiry with the rule's clock skew (UTC).</param>
        public static Accepted Create(ClaimsPrincipal user, string?[] values, DateTime validUntil, object keys)
        {
            var left = (validUntil - DateTime.UtcNow).TotalMilliseconds;
            return new(user, values, Environment.TickCount64 + (long)Math.Clamp(left, 0, int.MaxValue), keys);
        }
    }

    /// <summary>
    /// The accepted entry for <paramref name="token"/> (a span of <paramref name="header"/>), if unexpired and checked with
    /// <paramref name="keys"/>. Kestrel hands a keep-alive connection's repeated header value back as the
    /// same string, so recent hits are found by that string's identity first, without hashing ~1 KB of token.
    /// </summary>
    public Accepted? Find(string header, ReadOnlySpan<char> token, object keys)
    {
        var now = Environment.TickCount64;
        // Two slots per identity hash (one cache line): two connections whose strings share a
        // slot no longer push each other out on every request, each a miss hashing the whole token.
        var i = RuntimeHelpers.GetHashCode(header) & (RecentSlots - 2);
        ref var first = ref _recent[i];
        ref var second = ref _recent[i + 1];
        var a = Volatile.Read(ref first);
        if (a is not null && ReferenceEquals(a.Header, header) && Usable(a.Entry, keys, now)) return a.Entry;
        var b = Volatile.Read(ref second);
        if (b is not null && ReferenceEquals(b.Header, header) && Usable(b.Entry, keys, now)) return b.Entry;
        // Not there, or there from before a refetch of the keys: the table has the latest check.
        if (!_bySpan.TryGetValue(token, out var entry) || !Usable(entry, keys, now)) return null;
        // The newest hit goes first; the one it displaces stays as second choice.
        var recent = new Recent(header, entry);
        if (a is not null && !ReferenceEquals(a.Header, header)) Volatile.Write(ref second, a);
        Volatile.Write(ref first, recent);
        return entry;
    }

    private static bool Usable(Accepted entry, object keys, long now) => entry.Until > now && ReferenceEquals(entry.Keys, keys);

    public void Add(string token, Accepted entry)
    {
        if (_entries.Count >= Capacity) _entries.Clear();
        _entries[token] = entry;
    }
}
