using System.Net;
using Microsoft.AspNetCore.Http;
using Portway.Configuration;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>The rule model (docs/policy.md): where lists attach, their order, the first answer winning, and errors.</summary>
public sealed class RulesModelTests
{
    [Fact]
    public async Task Rules_GlobalThenRouteThenCluster_FirstAnswerEndsTheList()
    {
        await using var origin = await Probe.StartEchoAsync();
        await using var edge = await TestEdge.StartAsync($$"""
            rules:
              - headers: { request: { add: { X-Order: global } }, response: { add: { X-Seen: global } } }
            routes:
              - id: passes
                match: { path_prefix: /passes }
                cluster: app
                rules:
                  - headers: { request: { add: { X-Order: route } }, response: { add: { X-Seen: route } } }
              - id: answers
                match: { path_prefix: /answers }
                cluster: app
                rules:
                  - respond: { status: 418, body: teapot }
            clusters:
              - id: app
                destinations: [{{origin.Url}}]
                rules:
                  - headers: { request: { add: { X-Order: cluster } }, response: { add: { X-Seen: cluster } } }
            """);

        using var passed = await edge.Client.GetAsync("/passes");
        var seen = await Probe.SeenAsync(passed);
        Assert.Equal(["global", "route", "cluster"], seen.Header("X-Order")!.Split(',', StringSplitOptions.TrimEntries));
        Assert.Equal(["global", "route", "cluster"], passed.Headers.GetValues("X-Seen"));

        // The route's respond rule answers: the cluster's rules never run, nothing is forwarded,
        // and the global rule reached before it still changes the answer's headers.
        using var answered = await edge.Client.GetAsync("/answers");
        Assert.Equal((HttpStatusCode)418, answered.StatusCode);
        Assert.Equal("teapot", await answered.Content.ReadAsStringAsync());
        Assert.Equal(["global"], answered.Headers.GetValues("X-Seen"));
        Assert.Equal(1, origin.Requests);
    }

    [Fact]
    public async Task AccessShorthand_RunsBeforeTheRoutesRules()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync($"""
            routes:
              - id: web
                cluster: app
                access:
                  deny: [127.0.0.0/8]
                rules:
                  - respond: {"{"} status: 200, body: never {"}"}
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """);
        using var response = await edge.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("ipp: { allow: [10.0.0.0/8] }", "t.yaml:8:9: routes[0].rules[0]: unknown rule 'ipp'; did you mean 'ip'? (rule kinds: ip, geo, rate_limit, basic_auth, jwt, forward_auth, oidc, headers, respond, redirect, rewrite, security_headers, webhook_verify, cors, compress, circuit_breaker)")]
    [InlineData("respond: { stauts: 200 }", "t.yaml:8:20: routes[0].rules[0].respond.stauts: unknown key; did you mean 'status'? (allowed here: status, body, content_type)")]
    [InlineData("redirect: { to: '/x/{2}', match: '^/(a)$' }", "t.yaml:8:25: routes[0].rules[0].redirect.to: unknown placeholder '{2}': neither a placeholder nor a group of the match regex; placeholders: {path}, {query}, {args}, {host}, {scheme}, and {1}…{9} or {name} for match groups")]
    [InlineData("redirect: { to: /x, status: 200 }", "t.yaml:8:37: routes[0].rules[0].redirect.status: 200 is not a redirect status; allowed: 301, 302, 303, 307, 308")]
    [InlineData("rewrite: { match: '(a', path: /b }", "t.yaml:8:27: routes[0].rules[0].rewrite.match:")]
    [InlineData("ip: { deny: [10.0.0.0/99] }", "t.yaml:8:22: routes[0].rules[0].ip.deny: '10.0.0.0/99' is not an address or CIDR; write it like 10.0.0.0/8 or 192.168.1.7")]
    [InlineData("headers: { response: { set: { 'Bad Name': x } } }", "t.yaml:8:39: routes[0].rules[0].headers.response.set: 'Bad Name' is not a header name")]
    [InlineData("security_headers:", "t.yaml:8:26: routes[0].rules[0].security_headers: must be a mapping with keys: hsts, content_type_options, referrer_policy, frame_options, frame_ancestors (write {} for the defaults)")]
    public void Load_BadRule_LocatedErrorSaysWhatIsAllowed(string rule, string expected) => RuleConfigErrors.Assert(rule, expected);

    [Fact]
    public async Task Reload_UnchangedRateLimitRule_KeepsItsBucket()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        string Config(string extra) => $"""
            routes:
              - id: web
                match: {"{"} path_prefix: /web {"}"}
                cluster: app
                rules:
                  - rate_limit: {"{"} requests: 1, per: 1h {"}"}
            {extra}
            clusters:
              - id: app
                destinations: [{origin.Url}]
            """;
        await using var edge = await TestEdge.StartAsync(Config(""));
        Assert.Equal(HttpStatusCode.OK, (await edge.Client.GetAsync("/web")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await edge.Client.GetAsync("/web")).StatusCode);

        // A change elsewhere (a new route) keeps the route's rule instance, so the spent bucket stays spent.
        await edge.RewriteAsync(Config("  - { id: other, match: { path_prefix: /other }, cluster: app }"));
        await Wait.UntilAsync(async () => (await edge.Client.GetAsync("/other")).StatusCode == HttpStatusCode.OK, because: "the reload to apply");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await edge.Client.GetAsync("/web")).StatusCode);
    }

    /// <summary>Every example in docs/policy.md is a valid config, so the page cannot drift from the readers.</summary>
    [Fact]
    public void PolicyDoc_EveryYamlExample_Loads()
    {
        var markdown = File.ReadAllText(Path.Combine(Configuration.ValidationGoldenTests.FindRepoRoot(), "docs", "policy.md"));
        var parts = markdown.Split("```");
        var examples = 0;
        for (var i = 1; i < parts.Length; i += 2)
        {
            if (!parts[i].StartsWith("yaml\n", StringComparison.Ordinal)) continue;
            ConfigLoader.Parse(parts[i]["yaml\n".Length..], $"policy.md example {++examples}");
        }
        Assert.True(examples >= 7, $"only {examples} examples found");
    }
}
