using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules.Auth;

/// <summary>Where a request carries its token: the names a <c>from:</c> value can take.</summary>
internal enum TokenPlace
{
    /// <summary><c>Authorization: Bearer …</c> (RFC 6750 §2.1).</summary>
    Authorization,
    Header,
    Query,
    Cookie,
}

/// <summary>
/// One place a bearer token is read from (and, when it is not forwarded, removed from), as
/// <c>header</c>, <c>header:NAME</c>, <c>query:NAME</c> or <c>cookie:NAME</c> — the forms Envoy's
/// jwt_authn (from_headers, from_params, from_cookies) and Traefik's JWT plugins use.
/// </summary>
internal sealed record TokenSource(TokenPlace Place, string Name)
{
    public static readonly TokenSource Default = new(TokenPlace.Authorization, "Authorization");

    public const string Allowed = "header (Authorization: Bearer), header:NAME, query:NAME, cookie:NAME";

    public static TokenSource? Parse(string text)
    {
        if (text == "header") return Default;
        var colon = text.IndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return null;
        var name = text[(colon + 1)..];
        return text[..colon] switch
        {
            "header" => new TokenSource(TokenPlace.Header, name),
            "query" => new TokenSource(TokenPlace.Query, name),
            "cookie" => new TokenSource(TokenPlace.Cookie, name),
            _ => null,
        };
    }

    /// <summary>
    /// The token, or empty when the request has none there. A span of the header's own string:
    /// a remembered token is then found without copying it out (a JWT is ~1 KB of UTF-16).
    /// <paramref name="source"/> is that string, the header's (or query's, cookie's) whole value.
    /// </summary>
    public ReadOnlySpan<char> Find(HttpRequest request, out string source)
    {
        var value = Place switch
        {
            TokenPlace.Authorization => request.Headers.Authorization.ToString(),
            TokenPlace.Header => request.Headers[Name].ToString(),
            TokenPlace.Query => request.Query[Name].ToString(),
            _ => request.Cookies[Name],
        };
        source = value ?? "";
        var token = source.AsSpan().Trim();
        // A named header may carry the token bare or with the scheme, as Authorization does.
        if (Place is TokenPlace.Authorization or TokenPlace.Header)
        {
            if (token.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return token[7..].Trim();
            if (Place == TokenPlace.Authorization) return default;
        }
        return token;
    }

    /// <summary>The header the token came in, for <see cref="UnforwardedHeader"/>; null when it came in the query or a cookie.</summary>
    public UnforwardedHeader? Header() => Place switch
    {
        TokenPlace.Authorization or TokenPlace.Header => new UnforwardedHeader(Name),
        _ => null,
    };

    /// <summary>Takes a token sent in the query or a cookie out of the request before it is forwarded (<c>forward_token: false</c>).</summary>
    public void Remove(HttpRequest request)
    {
        if (Place == TokenPlace.Query)
        {
            var query = QueryHelpers.ParseQuery(request.QueryString.Value);
            query.Remove(Name);
            request.QueryString = QueryString.Create(query);
        }
        else if (Place == TokenPlace.Cookie)
        {
            request.Headers.Cookie = WithoutCookie(request.Headers.Cookie, Name);
        }
    }

    /// <summary>For the 401 page: where the edge looked.</summary>
    public string Describe() => Place switch
    {
        TokenPlace.Authorization => "an Authorization: Bearer header",
        TokenPlace.Header => $"the {Name} header",
        TokenPlace.Query => $"the query parameter {Name}",
        _ => $"the cookie {Name}",
    };

    /// <summary>The Cookie header(s) less one cookie (RFC 6265 §5.4: pairs joined by "; ").</summary>
    private static StringValues WithoutCookie(StringValues headers, string name)
    {
        var kept = new List<string>();
        foreach (var header in headers)
        {
            foreach (var pair in (header ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                if (!(eq > 0 ? pair.AsSpan(0, eq).Trim() : pair.AsSpan()).SequenceEqual(name)) kept.Add(pair);
            }
        }
        return kept.Count == 0 ? StringValues.Empty : new StringValues(string.Join("; ", kept));
    }
}
