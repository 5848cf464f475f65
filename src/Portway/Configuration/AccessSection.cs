using System.Collections.Immutable;

namespace Portway.Configuration;

/// <summary>
/// Reads routes[].access, the shorthand for the route's first rules (docs/access.md): allow/deny
/// is an <c>ip</c> rule, <c>rate_limit</c> and <c>basic_auth</c> the rules of those names, in
/// nginx's phase order (403, then 429, then 401). Each part is read by its rule kind, so the
/// shorthand and a <c>rules:</c> list accept the same keys and report the same errors.
/// </summary>
internal static class AccessSection
{
    private static readonly string[] Keys = ["allow", "deny", "rate_limit", "basic_auth"];

    public static ImmutableArray<RuleConfig> Read(YamlSection route)
    {
        var result = ImmutableArray.CreateBuilder<RuleConfig>();
        var a = route.Child("access", Keys);
        if (a is null) return result.ToImmutable();
        // The ip kind reads only allow and deny; the access mapping's other keys are the other rules.
        if ((a.Has("allow") || a.Has("deny")) && RuleCatalog.Get("ip").Read(a) is { } ip) result.Add(ip);
        foreach (var kind in (ReadOnlySpan<string>)["rate_limit", "basic_auth"])
        {
            var reader = RuleCatalog.Get(kind);
            if (a.Child(kind, reader.Keys) is { } section && reader.Read(section) is { } rule) result.Add(rule);
        }
        return result.ToImmutable();
    }
}
