using System.Collections.Immutable;

namespace Portway.Configuration;

/// <summary>
/// Tunnel-name globs, as <c>tokens[].allowed_patterns</c> and <c>tunnels.by_name[].names</c> write
/// them: '*' stands for any run of letters, digits and '-' (e.g. "*-dev", "team-*"); at most one.
/// </summary>
internal static class TunnelNamePattern
{
    public static bool MatchesAny(string name, ImmutableArray<string> patterns)
    {
        foreach (var p in patterns)
        {
            var star = p.IndexOf('*');
            if (star < 0 ? name == p : name.Length >= p.Length - 1 && name.StartsWith(p[..star], StringComparison.Ordinal) && name.EndsWith(p[(star + 1)..], StringComparison.Ordinal))
                return true;
        }
        return false;
    }
}
