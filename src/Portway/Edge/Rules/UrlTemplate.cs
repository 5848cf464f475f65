using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Portway.Edge.Rules;

/// <summary>
/// A target written with placeholders, for <c>redirect</c> and <c>rewrite</c>: <c>{path}</c> (the
/// request path, escaped), <c>{query}</c> (<c>?a=b</c>, or nothing), <c>{args}</c> (<c>a=b</c>, as
/// nginx's $args), <c>{host}</c>, <c>{scheme}</c>, and <c>{1}</c>…<c>{9}</c> or <c>{name}</c> for
/// the groups of the rule's <c>match</c> regex. Parsed once; expanding builds one string.
/// </summary>
internal sealed class UrlTemplate
{
    private readonly Part[] _parts;

    private UrlTemplate(Part[] parts) => _parts = parts;

    private readonly record struct Part(string? Literal, string? Placeholder, int Group);

    /// <summary>The placeholders every template knows, in the order error messages list them.</summary>
    public const string Known = "{path}, {query}, {args}, {host}, {scheme}, and {1}…{9} or {name} for match groups";

    /// <summary>Parses <paramref name="text"/>; <paramref name="error"/> says what is wrong (an unknown placeholder, a group the regex lacks).</summary>
    public static UrlTemplate? Parse(string text, Regex? match, out string? error)
    {
        error = null;
        var parts = new List<Part>();
        var literal = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '{') { literal.Append(text[i]); continue; }
            var end = text.IndexOf('}', i + 1);
            if (end < 0)
            {
                error = $"the '{{' at position {i + 1} is never closed; placeholders: {Known}";
                return null;
            }
            var name = text[(i + 1)..end];
            if (literal.Length > 0) parts.Add(new Part(literal.ToString(), null, -1));
            literal.Clear();
            if (name is "path" or "query" or "args" or "host" or "scheme") parts.Add(new Part(null, name, -1));
            else if (match is not null && match.GroupNumberFromName(name) is var group and >= 0) parts.Add(new Part(null, null, group));
            else
            {
                error = match is null
                    ? $"unknown placeholder '{{{name}}}' (groups need a match regex); placeholders: {Known}"
                    : $"unknown placeholder '{{{name}}}': neither a placeholder nor a group of the match regex; placeholders: {Known}";
                return null;
            }
            i = end;
        }
        if (literal.Length > 0) parts.Add(new Part(literal.ToString(), null, -1));
        return new UrlTemplate([.. parts]);
    }

    public string Expand(HttpContext context, Match? match)
    {
        var request = context.Request;
        var sb = new StringBuilder();
        foreach (var p in _parts)
        {
            if (p.Literal is not null) sb.Append(p.Literal);
            else if (p.Group >= 0) sb.Append(match?.Groups[p.Group].Value);
            else switch (p.Placeholder)
            {
                case "path": sb.Append(request.PathBase.ToUriComponent()).Append(request.Path.ToUriComponent()); break;
                case "query": sb.Append(request.QueryString.Value); break;
                case "args": sb.Append(request.QueryString.HasValue ? request.QueryString.Value.AsSpan(1) : ""); break;
                case "host": sb.Append(request.Host.Value); break;
                case "scheme": sb.Append(request.Scheme); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>The regex of a rule's <c>match</c> key: linear-time (NonBacktracking), since the path is the visitor's.</summary>
    public static Regex? ParseMatch(Configuration.YamlSection rule, out bool failed)
    {
        failed = false;
        var text = rule.String("match");
        if (text is null) return null;
        try
        {
            return new Regex(text, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            rule.Error("match", $"'{text}' is not a usable regex: {e.Message} (backreferences and lookarounds are not supported: matching must stay linear in the path's length)");
            failed = true;
            return null;
        }
    }
}
