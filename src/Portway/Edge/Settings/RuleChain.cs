namespace Portway.Edge.Settings;

/// <summary>
/// The rules one route's requests go through, in order: global, then the route's, then its
/// cluster's (docs/policy.md). Flattened once per config so a request walks one array.
/// </summary>
internal sealed class RuleChain
{
    public static readonly RuleChain Empty = new([]);

    private readonly Rule[] _rules;

    public RuleChain(Rule[] rules)
    {
        _rules = rules;
        foreach (var rule in rules) ChangesResponse |= rule.ChangesResponse;
    }

    public bool IsEmpty => _rules.Length == 0;

    public ReadOnlySpan<Rule> Rules => _rules;

    /// <summary>Any rule that changes the response: the only case a request registers a response callback.</summary>
    public bool ChangesResponse { get; }
}
