using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Portway.Configuration;
using Portway.Edge.Settings;
using Portway.Http;

namespace Portway.Edge.Caching;

/// <summary>
/// Whether a response may be stored by a shared cache (RFC 9111 §3) and for how long it is
/// fresh (§4.2). Pure functions of the exchange and the config, so they are unit-tested directly.
/// </summary>
internal static class ResponsePolicy
{
    /// <summary>
    /// The directives that govern a response: CDN-Cache-Control when enabled, present and a valid
    /// Structured Field Dictionary with members (RFC 9213 §2.1: a targeted field replaces
    /// Cache-Control and Expires; one that is empty or fails to parse is ignored as a whole, and
    /// Cache-Control applies), else Cache-Control.
    /// </summary>
    public static CacheDirectives Directives(IHeaderDictionary response, CacheConfig config, out bool targeted)
    {
        if (config.CdnCacheControl && response.TryGetValue("CDN-Cache-Control", out var field) && StructuredFieldDictionary.Members(field) > 0)
        {
            var cdn = CacheDirectives.ParseStructured(field);
            if (cdn.Present)
            {
                targeted = true;
                return cdn;
            }
        }
        targeted = false;
        return CacheDirectives.Parse(response.CacheControl);
    }

    /// <summary>Statuses a cache understands (§3, "understands the status code") and may store.</summary>
    public static bool Understood(int status) => status is 200 or 203 or 204 or 300 or 301 or 302 or 307 or 308 or 404 or 405 or 410 or 414 or 501;

    /// <summary>Heuristically cacheable by default (RFC 9110 §15.1).</summary>
    public static bool HeuristicallyCacheable(int status) => status is 200 or 203 or 204 or 300 or 301 or 308 or 404 or 405 or 410 or 414 or 501;

    /// <summary>
    /// §3: returns null when the response may be stored, else the reason (a Cache-Status detail token).
    /// </summary>
    public static string? WhyNotStorable(HttpRequest request, in CacheDirectives requestCc, int status, IHeaderDictionary response, in CacheDirectives cc, bool targeted)
    {
        if (!HttpMethods.IsGet(request.Method)) return "method";
        if (!Understood(status)) return "status";
        // must-understand: a cache that understands the status may store and ignore no-store (§5.2.2.3).
        if (cc.NoStore && !cc.MustUnderstand) return "no-store";
        if (requestCc.NoStore) return "request-no-store";
        if (cc.Private) return "private";
        // §3.5: a shared cache stores an answer to an authenticated request only when told it may
        // (credentials the edge checked and does not pass on are not the server's to answer).
        if (UnforwardedHeader.IsForwarded(request.HttpContext, HeaderNames.Authorization) && !cc.Public && !cc.MustRevalidate && cc.SMaxAge < 0) return "authorization";
        // A response that sets a cookie is one user's; nginx and Varnish refuse to store it too.
        if (response.ContainsKey(HeaderNames.SetCookie)) return "set-cookie";
        if (VaryKey.IsStar(VaryKey.Names(response.Vary))) return "vary-star";
        var explicitly = cc.Public || cc.MaxAge >= 0 || cc.SMaxAge >= 0 || (!targeted && response.ContainsKey(HeaderNames.Expires));
        if (!explicitly && !HeuristicallyCacheable(status)) return "not-cacheable-status";
        return null;
    }

    /// <summary>
    /// §4.2.1 freshness_lifetime and §4.2.3 corrected_initial_age, plus the flags that govern reuse.
    /// </summary>
    public static Freshness Compute(IHeaderDictionary response, int status, in CacheDirectives cc, bool targeted, bool authorized,
        DateTimeOffset requestTime, DateTimeOffset responseTime, CacheConfig config)
    {
        var date = ParseDate(response.Date) ?? responseTime;
        TimeSpan lifetime;
        if (cc.SMaxAge >= 0) lifetime = TimeSpan.FromSeconds(cc.SMaxAge);
        else if (cc.MaxAge >= 0) lifetime = TimeSpan.FromSeconds(cc.MaxAge);
        else if (!targeted && response.ContainsKey(HeaderNames.Expires))
        {
            // An invalid Expires (e.g. "0", or a date in a shape §5.6.7 does not allow) means already expired (§5.3).
            var expires = ParseDate(response.Expires);
            lifetime = expires is { } e && e > date ? e - date : TimeSpan.Zero;
        }
        else if ((HeuristicallyCacheable(status) || cc.Public) && ParseDate(response.LastModified) is { } lastModified && lastModified < date)
        {
            // §4.2.2: a fraction of the time since last modification, capped.
            var h = TimeSpan.FromTicks((long)((date - lastModified).Ticks * config.HeuristicFraction));
            lifetime = h > config.HeuristicMax ? config.HeuristicMax : h;
        }
        else lifetime = TimeSpan.Zero;

        // §4.2.3 age calculation.
        var ageValue = AgeValue(response.Age);
        var apparentAge = responseTime - date;
        if (apparentAge < TimeSpan.Zero) apparentAge = TimeSpan.Zero;
        var responseDelay = responseTime - requestTime;
        var correctedAgeValue = ageValue + (responseDelay > TimeSpan.Zero ? responseDelay : TimeSpan.Zero);
        var initialAge = apparentAge > correctedAgeValue ? apparentAge : correctedAgeValue;

        return new Freshness
        {
            ResponseTime = responseTime,
            InitialAge = initialAge,
            Lifetime = lifetime,
            StaleWhileRevalidate = cc.StaleWhileRevalidate > 0 ? TimeSpan.FromSeconds(cc.StaleWhileRevalidate) : TimeSpan.Zero,
            StaleIfError = cc.StaleIfError > 0 ? TimeSpan.FromSeconds(cc.StaleIfError) : TimeSpan.Zero,
            NoCache = cc.NoCache,
            // s-maxage "incorporates the semantics of proxy-revalidate" (§5.2.2.10).
            MustRevalidate = cc.MustRevalidate || cc.ProxyRevalidate || cc.SMaxAge >= 0,
            Immutable = cc.Immutable,
            Authorized = authorized,
        };
    }

    /// <summary>2^31: the value a delta-seconds too large to represent is taken to be (§1.2.2), and the largest Age sent.</summary>
    public const long MaxDeltaSeconds = 2147483648;

    /// <summary>
    /// age_value of §4.2.3. Age is one delta-seconds (§5.1), yet upstreams send lists
    /// (<c>Age: 7200, 0</c>) and repeated lines. The largest member is used, so the response never
    /// looks younger than any upstream said; the first would make <c>0, 7200</c> fresh. A member
    /// that is not delta-seconds makes the whole value 2^31, i.e. stale: §4.2.1 encourages treating
    /// invalid freshness information as stale, and ignoring it would make the response look new.
    /// </summary>
    public static TimeSpan AgeValue(Microsoft.Extensions.Primitives.StringValues lines)
    {
        long largest = 0;
        foreach (var line in lines)
        {
            if (line is null) continue;
            var span = line.AsSpan();
            foreach (var range in span.Split(','))
            {
                var member = span[range].Trim(" \t");
                // Empty list members are not values (RFC 9110 §5.6.1).
                if (member.Length == 0) continue;
                var seconds = DeltaSeconds(member);
                if (seconds < 0) return TimeSpan.FromSeconds(MaxDeltaSeconds);
                if (seconds > largest) largest = seconds;
            }
        }
        return TimeSpan.FromSeconds(largest);
    }

    /// <summary>delta-seconds = 1*DIGIT (§1.2.2), capped at 2^31; -1 when not one.</summary>
    private static long DeltaSeconds(ReadOnlySpan<char> s)
    {
        long n = 0;
        foreach (var c in s)
        {
            if (c is < '0' or > '9') return -1;
            if (n < MaxDeltaSeconds) n = n * 10 + (c - '0');
        }
        return Math.Min(n, MaxDeltaSeconds);
    }

    /// <summary>
    /// Date, Expires, Last-Modified, If-Modified-Since: a strict HTTP-date (RFC 9110 §5.6.7), null
    /// when absent or invalid. Invalid means: Expires already expired (§5.3), the response time
    /// stands in for Date (§4.2.3 date_value), no heuristic from Last-Modified,
    /// If-Modified-Since ignored (RFC 9110 §13.1.3).
    /// </summary>
    public static DateTimeOffset? ParseDate(Microsoft.Extensions.Primitives.StringValues value) => HttpDate.Parse(value);
}
