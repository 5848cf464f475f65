using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Portway.Edge.Rules.Auth;

/// <summary>
/// Reads a bare JWKS document (RFC 7517 §5) as an <see cref="OpenIdConnectConfiguration"/> holding only
/// its keys, so a <c>jwks_url</c> gets the same <see cref="ConfigurationManager{T}"/> caching, refresh
/// and refetch rate limit that an <c>oidc_discovery</c> document does; IdentityModel ships a retriever
/// for discovery documents only.
/// </summary>
internal sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
{
    public static readonly JwksRetriever Instance = new();

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
    {
        var document = await retriever.GetDocumentAsync(address, cancel).ConfigureAwait(false);
        var keys = new JsonWebKeySet(document);
        var configuration = new OpenIdConnectConfiguration { JsonWebKeySet = keys };
        foreach (var key in keys.GetSigningKeys()) configuration.SigningKeys.Add(key);
        return configuration;
    }
}
