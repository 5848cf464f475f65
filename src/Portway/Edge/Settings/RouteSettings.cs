namespace Portway.Edge.Settings;

/// <summary>A route's settings for Portway's own middleware.</summary>
internal sealed record RouteSettings(bool Cache, RuleChain Rules)
{
    /// <summary>A route Portway's config does not list (a tunnel route) when no global rules exist: nothing of Portway's own is on.</summary>
    public static readonly RouteSettings Default = new(Cache: false, RuleChain.Empty);
}
