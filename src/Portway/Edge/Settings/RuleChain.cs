namespace Portway.Edge.Settings;

/// <summary>
/// The rules one route's requests go through, in order: global, then the route's, then its
/// cluster's (docs/policy.md). Flattened once per config so a request walks one array.
/// </summary>
internal sealed class RuleChain
{
    public static readonly RuleChain Empty = new([]);

    private readonly Rule[] _rules;
    private readonly RuleStep[] _steps;
    private readonly int[] _responseRules;

    public RuleChain(Rule[] rules)
    {
        _rules = rules;
        _steps = new RuleStep[rules.Length];
        var responses = new List<int>();
        for (var i = 0; i < rules.Length; i++)
        {
            var rule = rules[i];
            _steps[i] = rule.Wraps ? RuleStep.Wraps : rule.IsAsync ? RuleStep.Async : RuleStep.Sync;
            if (rule.ChangesResponse) responses.Add(i);
        }
        _responseRules = [.. responses];
    }

    public bool IsEmpty => _rules.Length == 0;

    public ReadOnlySpan<Rule> Rules => _rules;

    /// <summary>How each rule is called, by position: read once here rather than through three virtual properties per rule and request.</summary>
    public ReadOnlySpan<RuleStep> Steps => _steps;

    /// <summary>Any rule that changes the response: the only case a request registers a response callback.</summary>
    public bool ChangesResponse => _responseRules.Length > 0;

    /// <summary>The positions of the rules that change the response, in order.</summary>
    public ReadOnlySpan<int> ResponseRules => _responseRules;
}

internal enum RuleStep : byte
{
    /// <summary><see cref="Rule.OnRequest"/>.</summary>
    Sync,

    /// <summary><see cref="Rule.OnRequestAsync"/>, synchronous while it finishes at once.</summary>
    Async,

    /// <summary><see cref="Rule.WrapAsync"/>: the rest of the walk runs inside the rule.</summary>
    Wraps,
}
