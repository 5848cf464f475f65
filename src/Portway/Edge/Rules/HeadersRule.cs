using System.Collections.Immutable;
using Microsoft.AspNetCore.Http;
using Portway.Configuration;
using Portway.Edge.Settings;
using YamlDotNet.RepresentationModel;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>headers</c>: changes to the request (before it is forwarded) and to the response (just
/// before its headers go out, so it also applies to a cached response or another rule's page).
/// Per side: <c>remove</c> (names), then <c>set</c> (replaces), then <c>add</c> (appends).
/// </summary>
internal sealed class HeadersRule : RuleKind<HeadersRule.Config>
{
    internal sealed record Header(string Name, string Value);

    internal sealed record Changes(EquatableArray<string> Remove, EquatableArray<Header> Set, EquatableArray<Header> Add)
    {
        public static readonly Changes None = new([], [], []);
        public bool IsEmpty => Remove.IsEmpty && Set.IsEmpty && Add.IsEmpty;
    }

    internal sealed record Config(Changes Request, Changes Response) : RuleConfig
    {
        public override string Kind => "headers";
    }

    public override string Name => "headers";

    public override string[] Keys { get; } = ["request", "response"];

    public override Config? Read(YamlSection rule)
    {
        var config = new Config(ReadSide(rule, "request"), ReadSide(rule, "response"));
        if (!rule.Has("request") && !rule.Has("response"))
            rule.Context.Error(rule.Node, rule.Path, "changes nothing; give request and/or response with set, add or remove");
        return config;
    }

    private static Changes ReadSide(YamlSection rule, string key)
    {
        var side = rule.Child(key, "set", "add", "remove");
        if (side is null) return Changes.None;
        var remove = ImmutableArray.CreateBuilder<string>();
        foreach (var (name, node) in side.StringList("remove"))
        {
            if (IsToken(name)) remove.Add(name);
            else side.Context.Error(node, side.Join("remove"), $"'{name}' is not a header name (letters, digits and !#$%&'*+-.^_`|~)");
        }
        return new Changes(remove.ToImmutable(), Pairs(side, "set"), Pairs(side, "add"));
    }

    /// <summary>A mapping of header name → value; any name is a key here, so it is not checked against a key list.</summary>
    private static ImmutableArray<Header> Pairs(YamlSection side, string key)
    {
        var result = ImmutableArray.CreateBuilder<Header>();
        var node = side.Raw(key);
        if (node is null) return result.ToImmutable();
        if (node is not YamlMappingNode map)
        {
            side.Error(key, "must be a mapping of header name to value, e.g. { X-Frame-Options: DENY }");
            return result.ToImmutable();
        }
        foreach (var (k, v) in map.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            if (!IsToken(name)) side.Context.Error(k, side.Join(key), $"'{name}' is not a header name (letters, digits and !#$%&'*+-.^_`|~)");
            else if (v is not YamlScalarNode { Value: { } value }) side.Context.Error(v, $"{side.Join(key)}.{name}", "must be a single value");
            else if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0) side.Context.Error(v, $"{side.Join(key)}.{name}", "a header value cannot contain line breaks or NUL");
            else result.Add(new Header(name, value));
        }
        return result.ToImmutable();
    }

    /// <summary>RFC 9110 §5.6.2 token.</summary>
    private static bool IsToken(string name)
    {
        if (name.Length == 0) return false;
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))) return false;
        }
        return true;
    }

    public override Rule Compile(Config config, RuleServices services) => new Apply(config);

    private sealed class Apply(Config config) : Rule(config)
    {
        private readonly Side _request = new(config.Request);
        private readonly Side _response = new(config.Response);

        public override Task? OnRequest(RuleRequest request)
        {
            if (!_request.IsEmpty) _request.Change(request.HttpContext.Request.Headers);
            return null;
        }

        public override bool ChangesResponse => !_response.IsEmpty;

        public override void OnResponse(HttpContext context) => _response.Change(context.Response.Headers);
    }

    /// <summary>One side's changes as plain arrays: walked on every request, so without the immutable arrays' enumerators.</summary>
    private sealed class Side(Changes changes)
    {
        private readonly string[] _remove = [.. changes.Remove];
        private readonly Header[] _set = [.. changes.Set];
        private readonly Header[] _add = [.. changes.Add];

        public bool IsEmpty { get; } = changes.IsEmpty;

        public void Change(IHeaderDictionary headers)
        {
            foreach (var name in _remove) headers.Remove(name);
            foreach (var h in _set) headers[h.Name] = h.Value;
            foreach (var h in _add) headers.Append(h.Name, h.Value);
        }
    }
}
