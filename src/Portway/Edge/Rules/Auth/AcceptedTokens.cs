using System.Collections.Concurrent;
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

    private readonly ConcurrentDictionary<string, Accepted> _entries;

    /// <summary>Looks a token up by a span of the request's header, so a hit copies nothing.</summary>
    private readonly ConcurrentDictionary<string, Accepted>.AlternateLookup<ReadOnlySpan<char>> _bySpan;

    public AcceptedTokens()
    {
        _entries = new(StringComparer.Ordinal);
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>What passing the rule needs: the identity (shared; requests get their own principal) and the claim headers.</summary>
    internal sealed record Accepted(ClaimsIdentity Identity, KeyValuePair<string, string>[] Headers, DateTime Until, object Keys);

    public Accepted? Find(ReadOnlySpan<char> token, object keys, DateTime now) =>
        _bySpan.TryGetValue(token, out var entry) && entry.Until > now && ReferenceEquals(entry.Keys, keys) ? entry : null;

    public void Add(string token, Accepted entry)
    {
        if (_entries.Count >= Capacity) _entries.Clear();
        _entries[token] = entry;
    }
}
