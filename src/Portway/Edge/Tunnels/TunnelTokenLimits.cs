using System.Collections.Frozen;
using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Tunnels;

/// <summary>
/// The tokens' limits in force, by token name, rebuilt when the config changes. A token whose
/// limits stayed equal keeps its <see cref="TokenLimiter"/> (its counts and buckets), as a rule
/// equal across a reload keeps its state.
/// </summary>
internal sealed class TunnelTokenLimits(EdgeState state, TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    private TunnelsConfig? _builtFrom;
    private FrozenDictionary<string, TokenLimiter> _byToken = FrozenDictionary<string, TokenLimiter>.Empty;

    /// <summary>The token's limiter, or null for a token without limits (and for dev mode's agents).</summary>
    public TokenLimiter? For(string? token)
    {
        if (token is null) return null;
        var config = state.Current.Tunnels;
        var current = ReferenceEquals(Volatile.Read(ref _builtFrom), config) ? Volatile.Read(ref _byToken) : Rebuild(config);
        return current.GetValueOrDefault(token);
    }

    private FrozenDictionary<string, TokenLimiter> Rebuild(TunnelsConfig config)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_builtFrom, config)) return _byToken;
            var next = new Dictionary<string, TokenLimiter>(StringComparer.Ordinal);
            foreach (var token in config.Tokens)
            {
                if (token.Limits is not { } limits) continue;
                next[token.Name] = _byToken.TryGetValue(token.Name, out var old) && old.Config == limits ? old : new TokenLimiter(limits, time);
            }
            // Requests still holding a dropped limiter finish with it; a disposed limiter refuses nothing new.
            foreach (var (name, old) in _byToken)
            {
                if (!next.TryGetValue(name, out var kept) || !ReferenceEquals(kept, old)) old.Dispose();
            }
            _byToken = next.ToFrozenDictionary(StringComparer.Ordinal);
            Volatile.Write(ref _builtFrom, config);
            return _byToken;
        }
    }

    public void Dispose()
    {
        foreach (var limiter in _byToken.Values) limiter.Dispose();
    }
}
