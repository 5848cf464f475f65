using System.Collections.Immutable;
using Portway.Configuration;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>forward_auth</c>: before forwarding, ask an auth service (nginx's auth_request, Traefik's
/// ForwardAuth, Caddy's forward_auth). A 2xx answer lets the request on, with chosen headers of
/// that answer added; any other answer is relayed to the client as it is, so a 302 to a login page
/// or a 401 with its challenge reaches the browser.
/// </summary>
internal sealed class ForwardAuthRule : RuleKind<ForwardAuthRule.Config>
{
    /// <summary><see cref="RequestHeaders"/> empty means every header of the client's request (Traefik's and Caddy's default).</summary>
    internal sealed record Config(string Url, TimeSpan Timeout, EquatableArray<string> RequestHeaders, EquatableArray<string> CopyHeaders) : RuleConfig
    {
        public override string Kind => "forward_auth";
    }

    public override string Name => "forward_auth";

    public override string[] Keys { get; } = ["url", "timeout", "request_headers", "copy_headers"];

    public override Config? Read(YamlSection fa)
    {
        var url = fa.String("url", required: true);
        if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
            fa.Error("url", $"'{url}' is not an http:// or https:// URL; give the auth service's address, e.g. http://127.0.0.1:9091/verify");
        // 10 s: an auth service answers from memory or one database look-up; a visitor waiting
        // longer than that for a login page has gone (nginx's 60 s proxy_read_timeout is for servers).
        var timeout = fa.Duration("timeout", TimeSpan.FromMilliseconds(100)) ?? TimeSpan.FromSeconds(10);
        return new Config(url ?? "", timeout, Names(fa, "request_headers"), Names(fa, "copy_headers"));
    }

    private static ImmutableArray<string> Names(YamlSection fa, string key)
    {
        var result = ImmutableArray.CreateBuilder<string>();
        foreach (var (name, node) in fa.StringList(key))
        {
            if (name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c))) result.Add(name);
            else fa.Context.Error(node, fa.Join(key), $"'{name}' is not a header name (letters, digits and !#$%&'*+-.^_`|~)");
        }
        if (fa.Has(key) && result.Count == 0 && fa.StringList(key).Count == 0) fa.Error(key, "is empty; list header names, or leave it out");
        return result.ToImmutable();
    }

    public override Rule Compile(Config config, RuleServices services) => new ForwardAuthCheck(config);
}
