using Microsoft.AspNetCore.Http;

namespace Portway.Edge.Caching;

/// <summary>
/// The primary cache key (RFC 9111 §4): the target URI as scheme://host[:port]/path?query, host
/// lower-cased. GET and HEAD share it. The one string a lookup builds.
/// </summary>
internal static class CacheKey
{
    public static string For(HttpRequest request)
    {
        var host = request.Host.Value ?? "";
        if (host.AsSpan().ContainsAnyInRange('A', 'Z')) host = host.ToLowerInvariant();
        return string.Concat(request.Scheme, "://", host, request.PathBase.Value, request.Path.Value, request.QueryString.Value);
    }

    /// <summary>The key of an absolute URL (purge API, Location of an unsafe request), or null when it is not one.</summary>
    public static string? FromUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)) return null;
        return FromUri(uri);
    }

    public static string FromUri(Uri uri)
    {
        var host = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        // The same decoding Kestrel applies to the path, so purge URLs meet request keys.
        var path = PathString.FromUriComponent(uri.AbsolutePath.Length == 0 ? "/" : uri.AbsolutePath).Value;
        return string.Concat(uri.Scheme, "://", host.ToLowerInvariant(), path, uri.Query);
    }
}
