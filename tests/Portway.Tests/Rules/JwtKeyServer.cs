using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Portway.Tests.Infrastructure;

namespace Portway.Tests.Rules;

/// <summary>
/// An identity provider for the jwt tests: a real Kestrel server on loopback serving a JWKS at
/// /jwks (and a discovery document naming it), whose key set the test can swap, plus keys to sign
/// tokens with. Counts how often the key set was fetched.
/// </summary>
internal sealed class JwtKeyServer : IAsyncDisposable
{
    public const string Issuer = "https://login.test/";
    public const string Audience = "api.test";

    private readonly TestOrigin _origin;
    private volatile string _jwks = """{"keys":[]}""";
    private int _fetches;

    private JwtKeyServer(TestOrigin origin) => _origin = origin;

    public Uri JwksUrl => new(_origin.Url, "/jwks");
    public Uri DiscoveryUrl => new(_origin.Url, "/.well-known/openid-configuration");
    public int Fetches => Volatile.Read(ref _fetches);

    public static Task<JwtKeyServer> StartAsync(params SecurityKey[] keys) => StartAsync(0, keys);

    public static async Task<JwtKeyServer> StartAsync(int port, params SecurityKey[] keys)
    {
        JwtKeyServer? self = null;
        var origin = await TestOrigin.StartAsync("idp", port: port, handler: ctx =>
        {
            ctx.Response.ContentType = "application/json";
            if (ctx.Request.Path == "/jwks")
            {
                Interlocked.Increment(ref self!._fetches);
                return ctx.Response.WriteAsync(self._jwks);
            }
            return ctx.Response.WriteAsync(new JsonObject { ["issuer"] = Issuer, ["jwks_uri"] = self!.JwksUrl.ToString() }.ToJsonString());
        });
        self = new JwtKeyServer(origin);
        self.Publish(keys);
        return self;
    }

    /// <summary>Replaces the key set the server hands out (a rotation).</summary>
    public void Publish(params SecurityKey[] keys)
    {
        var array = new JsonArray();
        foreach (var key in keys)
        {
            var jwk = JsonWebKeyConverter.ConvertFromSecurityKey(key);
            var item = new JsonObject { ["kty"] = jwk.Kty, ["kid"] = jwk.Kid, ["use"] = "sig" };
            if (jwk.Kty == "RSA") { item["n"] = jwk.N; item["e"] = jwk.E; }
            else { item["crv"] = jwk.Crv; item["x"] = jwk.X; item["y"] = jwk.Y; }
            array.Add(item);
        }
        _jwks = new JsonObject { ["keys"] = array }.ToJsonString();
    }

    public static RsaSecurityKey Rsa(string kid) => new(RSA.Create(2048)) { KeyId = kid };

    public static ECDsaSecurityKey Ec(string kid) => new(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = kid };

    /// <summary>A token from <see cref="Issuer"/> for <see cref="Audience"/>, valid from a minute ago for an hour unless told otherwise.</summary>
    public static string Token(SecurityKey key, string? algorithm = null, string issuer = Issuer, string audience = Audience,
        TimeSpan? expiresIn = null, TimeSpan? notBeforeIn = null, Dictionary<string, object>? claims = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (expiresIn ?? TimeSpan.FromHours(1));
        var notBefore = now + (notBeforeIn ?? TimeSpan.FromMinutes(-1));
        algorithm ??= key is ECDsaSecurityKey ? SecurityAlgorithms.EcdsaSha256 : key is SymmetricSecurityKey ? SecurityAlgorithms.HmacSha256 : SecurityAlgorithms.RsaSha256;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Expires = expires,
            NotBefore = notBefore < expires ? notBefore : expires.AddMinutes(-5),
            IssuedAt = notBefore < expires ? notBefore : expires.AddMinutes(-5),
            Claims = claims ?? new Dictionary<string, object> { ["sub"] = "alice" },
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
    }

    /// <summary>An unsigned token (alg none) with otherwise valid claims.</summary>
    public static string Unsigned()
    {
        static string Part(JsonObject o) => Base64UrlEncoder.Encode(o.ToJsonString());
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return Part(new JsonObject { ["alg"] = "none", ["typ"] = "JWT" }) + "."
            + Part(new JsonObject { ["iss"] = Issuer, ["aud"] = Audience, ["sub"] = "mallory", ["exp"] = now + 3600, ["nbf"] = now - 60 }) + ".";
    }

    public ValueTask DisposeAsync() => _origin.DisposeAsync();
}
