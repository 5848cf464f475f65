using System.Collections.Immutable;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Portway.Configuration;
using Portway.Edge.Rules.Auth;
using Portway.Edge.Settings;
using YamlDotNet.RepresentationModel;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>jwt</c>: a bearer token (RFC 7519) checked at the edge: signature against a JWKS, an OIDC
/// discovery document's keys, a PEM public key or an HMAC secret; issuer, audience, lifetime with a
/// clock skew, allowed algorithms, required claim values. Valid: claims may go on as headers, and
/// the request's user is the token's claims. Not: 401 with RFC 6750's WWW-Authenticate.
/// </summary>
internal sealed class JwtRule : RuleKind<JwtRule.Config>
{
    internal static readonly string[] Asymmetric = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];
    internal static readonly string[] Symmetric = ["HS256", "HS384", "HS512"];

    internal sealed record ClaimHeader(string Claim, string Header);

    internal sealed record Requirement(string Claim, EquatableArray<string> Values);

    /// <summary>Exactly one key source is set: <see cref="JwksUrl"/>, <see cref="OidcDiscovery"/>, <see cref="PublicKeyPem"/> or <see cref="Secret"/>.</summary>
    internal sealed record Config(
        EquatableArray<string> Issuers, EquatableArray<string> Audiences,
        string? JwksUrl, string? OidcDiscovery, string? PublicKeyPem, SecretBytes Secret,
        EquatableArray<string> Algorithms, TimeSpan ClockSkew, TokenSource From,
        EquatableArray<ClaimHeader> ClaimsToHeaders, EquatableArray<Requirement> Require, bool ForwardToken) : RuleConfig
    {
        public override string Kind => "jwt";
    }

    public override string Name => "jwt";

    public override string[] Keys { get; } =
    [
        "issuer", "audience", "jwks_url", "oidc_discovery", "public_key_file", "secret_env",
        "algorithms", "clock_skew", "from", "claims_to_headers", "require", "forward_token",
    ];

    public override Config? Read(YamlSection jwt)
    {
        var issuers = Required(jwt, "issuer", "the issuer (iss) tokens must name, e.g. issuer: https://login.example.com/");
        var audiences = Required(jwt, "audience", "the audience (aud) tokens must be for, e.g. audience: api.example.com");
        var sources = 0;
        foreach (var k in (string[])["jwks_url", "oidc_discovery", "public_key_file", "secret_env"]) sources += jwt.Has(k) ? 1 : 0;
        if (sources != 1)
        {
            jwt.Context.Error(jwt.Node, jwt.Path, sources == 0
                ? "has no keys to check signatures with; give one of jwks_url, oidc_discovery, public_key_file, secret_env"
                : "gives more than one key source; give exactly one of jwks_url, oidc_discovery, public_key_file, secret_env");
        }
        var jwksUrl = Url(jwt, "jwks_url");
        var discovery = Url(jwt, "oidc_discovery");
        var pem = PublicKey(jwt);
        var secret = Secret(jwt);
        var algorithms = Algorithms(jwt, symmetric: jwt.Has("secret_env"));
        var from = jwt.String("from") is { } fromText ? TokenSource.Parse(fromText) : TokenSource.Default;
        if (from is null) jwt.Error("from", $"'{jwt.String("from")}' is not a place for a token; allowed: {TokenSource.Allowed}");
        return new Config(issuers, audiences, jwksUrl, discovery, pem, secret, algorithms,
            jwt.Duration("clock_skew") ?? TimeSpan.FromSeconds(60), from ?? TokenSource.Default,
            ClaimHeaders(jwt), Requirements(jwt), jwt.Bool("forward_token") ?? false);
    }

    private static ImmutableArray<string> Required(YamlSection jwt, string key, string what)
    {
        var values = ImmutableArray.CreateBuilder<string>();
        foreach (var (v, _) in jwt.StringList(key))
        {
            if (v.Length > 0) values.Add(v);
        }
        // Both are required: keys a provider signs with are shared by every app of a tenant, so a
        // token for another app (or from another issuer using the same keys) would otherwise pass.
        if (values.Count == 0) jwt.Error(key, $"is required: {what}");
        return values.ToImmutable();
    }

    /// <summary>https; http only to a loopback address (a key set fetched in clear text could be swapped on the way).</summary>
    private static string? Url(YamlSection jwt, string key)
    {
        var text = jwt.String(key);
        if (text is null) return null;
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri)))) return text;
        jwt.Error(key, $"'{text}' must be an https:// URL (http:// only to localhost or a loopback address)");
        return null;
    }

    internal static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static string? PublicKey(YamlSection jwt)
    {
        var path = jwt.String("public_key_file");
        if (path is null) return null;
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            jwt.Error("public_key_file", $"cannot be read ({e.Message}); give the path of a PEM public key (-----BEGIN PUBLIC KEY-----)");
            return null;
        }
        if (JwtKeys.FromPem(pem) is null)
        {
            jwt.Error("public_key_file", $"'{path}' holds no RSA or EC public key in PEM; export one with: openssl pkey -in private.pem -pubout");
            return null;
        }
        return pem;
    }

    /// <summary>The HMAC secret comes from the environment only, so it is never written in a file that gets shared or committed.</summary>
    private static SecretBytes Secret(YamlSection jwt)
    {
        var name = jwt.String("secret_env");
        if (name is null) return default;
        var value = Environment.GetEnvironmentVariable(name);
        // RFC 7518 §3.2: an HS256 key must be at least as long as the hash (32 bytes).
        if (string.IsNullOrEmpty(value)) jwt.Error("secret_env", $"the environment variable {name} is not set; it must hold the HMAC secret (at least 32 bytes)");
        else if (Encoding.UTF8.GetByteCount(value) < 32) jwt.Error("secret_env", $"the secret in {name} is shorter than 32 bytes, too short for HS256 (RFC 7518 §3.2); its value is not shown");
        else return new SecretBytes(Encoding.UTF8.GetBytes(value));
        return default;
    }

    private static ImmutableArray<string> Algorithms(YamlSection jwt, bool symmetric)
    {
        var allowed = symmetric ? Symmetric : Asymmetric;
        if (!jwt.Has("algorithms")) return [.. allowed];
        var result = ImmutableArray.CreateBuilder<string>();
        foreach (var (alg, node) in jwt.StringList("algorithms"))
        {
            var path = jwt.Join("algorithms");
            if (alg.Equals("none", StringComparison.OrdinalIgnoreCase))
                jwt.Context.Error(node, path, "'none' is never allowed: an unsigned token proves nothing");
            else if (Array.IndexOf(allowed, alg) >= 0) result.Add(alg);
            else if (Array.IndexOf(symmetric ? Asymmetric : Symmetric, alg) >= 0)
                jwt.Context.Error(node, path, symmetric
                    ? $"'{alg}' needs a public key (jwks_url, oidc_discovery or public_key_file), not secret_env; allowed with secret_env: {string.Join(", ", Symmetric)}"
                    : $"'{alg}' is an HMAC algorithm and needs secret_env; with public keys it would let a public key be used as the secret; allowed: {string.Join(", ", Asymmetric)}");
            else jwt.Context.Error(node, path, $"'{alg}' is not a known algorithm; allowed: {string.Join(", ", allowed)}");
        }
        if (result.Count == 0 && jwt.Has("algorithms") && jwt.StringList("algorithms").Count == 0) jwt.Error("algorithms", "is empty; leave it out for the defaults");
        return result.ToImmutable();
    }

    private static ImmutableArray<ClaimHeader> ClaimHeaders(YamlSection jwt)
    {
        var result = ImmutableArray.CreateBuilder<ClaimHeader>();
        foreach (var (claim, value, node) in Pairs(jwt, "claims_to_headers", "a mapping of claim name to header name, e.g. { sub: X-User, email: X-Email }"))
        {
            if (value is [var header] && IsToken(header)) result.Add(new ClaimHeader(claim, header));
            else jwt.Context.Error(node, $"{jwt.Join("claims_to_headers")}.{claim}", "must be one header name (letters, digits and !#$%&'*+-.^_`|~)");
        }
        return result.ToImmutable();
    }

    private static ImmutableArray<Requirement> Requirements(YamlSection jwt)
    {
        var result = ImmutableArray.CreateBuilder<Requirement>();
        foreach (var (claim, values, node) in Pairs(jwt, "require", "a mapping of claim name to the value (or list of values, any of which will do), e.g. { scope: read }"))
        {
            if (values.Length > 0) result.Add(new Requirement(claim, values));
            else jwt.Context.Error(node, $"{jwt.Join("require")}.{claim}", "needs a value or a list of values");
        }
        return result.ToImmutable();
    }

    /// <summary>A mapping whose keys are claim names (any name, so not checked against a key list) and whose values are one or more strings.</summary>
    private static List<(string Key, ImmutableArray<string> Values, YamlNode Node)> Pairs(YamlSection jwt, string key, string shape)
    {
        var list = new List<(string, ImmutableArray<string>, YamlNode)>();
        var node = jwt.Raw(key);
        if (node is null) return list;
        if (node is not YamlMappingNode map)
        {
            jwt.Error(key, $"must be {shape}");
            return list;
        }
        foreach (var (k, v) in map.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            ImmutableArray<string> values = v switch
            {
                YamlScalarNode { Value: { Length: > 0 } s } => [s],
                YamlSequenceNode seq => [.. seq.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "").Where(s => s.Length > 0)],
                _ => [],
            };
            list.Add((name, values, v));
        }
        return list;
    }

    /// <summary>RFC 9110 §5.6.2 token.</summary>
    private static bool IsToken(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c));

    public override Rule Compile(Config config, RuleServices services) => new JwtCheck(config);
}
