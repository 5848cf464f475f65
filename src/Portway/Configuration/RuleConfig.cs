namespace Portway.Configuration;

/// <summary>
/// One item of a <c>rules:</c> list as read from the file. Each rule kind (Edge/Rules) derives
/// its own sealed record from this one, so a list of rules compares by value like every other
/// config record: the compiler's Equals includes the record's type, so an <c>ip</c> rule never
/// equals a <c>headers</c> rule with the same fields.
/// </summary>
internal abstract record RuleConfig
{
    /// <summary>The name the config uses for the kind (<c>ip</c>, <c>headers</c>…); computed, so not part of equality.</summary>
    public abstract string Kind { get; }

    /// <summary>
    /// Paths the rule answers itself, with the key that sets each (oidc's callback_path): on a
    /// route, the route's path must match them or those requests never reach the rule
    /// (RoutesSection checks). Computed, so not part of equality.
    /// </summary>
    public virtual IEnumerable<(string Key, string Path)> OwnPaths => [];
}
