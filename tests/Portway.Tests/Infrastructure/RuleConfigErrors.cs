using System.Text.RegularExpressions;
using Portway.Configuration;

namespace Portway.Tests.Infrastructure;

/// <summary>"A config with this one rule gives this located error": the route and cluster around the rule, written once.</summary>
internal static partial class RuleConfigErrors
{
    /// <summary>
    /// Loads t.yaml with <paramref name="rule"/> as its one route's only rule (the list item without
    /// its dash: <c>jwt: { … }</c>, or a block whose later lines are indented under the first) and
    /// asserts its single error starts with <paramref name="expected"/>, which must name the exact
    /// <c>t.yaml:line:column:</c>. The rule's first line is line 8, its first character column 9.
    /// Returns the whole message, for checks of what it must not show.
    /// </summary>
    public static string Assert(string rule, string expected)
    {
        Xunit.Assert.Matches(Located(), expected);
        var yaml = $"""
            clusters:
              - id: app
                destinations: [http://127.0.0.1:1]
            routes:
              - id: web
                cluster: app
                rules:
                  - {rule.ReplaceLineEndings("\n        ")}
            """;
        var error = Xunit.Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "t.yaml"));
        var message = Xunit.Assert.Single(error.Errors).ToString();
        Xunit.Assert.StartsWith(expected, message);
        return message;
    }

    [GeneratedRegex(@"^t\.yaml:\d+:\d+: ")]
    private static partial Regex Located();
}
