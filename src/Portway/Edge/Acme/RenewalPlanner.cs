namespace Portway.Edge.Acme;

/// <summary>When to renew: inside the CA's ARI window when it gives one (RFC 9773 §4.2), else after a share of the lifetime.</summary>
internal static class RenewalPlanner
{
    /// <summary>notBefore + fraction × lifetime (2/3 by default: 60 days into a 90-day certificate, as certbot and Caddy do).</summary>
    public static DateTimeOffset ByLifetime(DateTimeOffset notBefore, DateTimeOffset notAfter, double fraction) =>
        notBefore + TimeSpan.FromTicks((long)((notAfter - notBefore).Ticks * fraction));

    /// <summary>RFC 9773 §4.2: a uniformly random moment in the window, so many clients don't renew at once; now if it has passed.</summary>
    public static DateTimeOffset InWindow(AcmeRenewalWindow window, double random01, DateTimeOffset now)
    {
        if (window.End <= now) return now;
        var start = window.Start < now ? now : window.Start;
        return start + TimeSpan.FromTicks((long)((window.End - start).Ticks * random01));
    }

    /// <summary>Exponential back-off after failures: min × 2^(n-1), capped; a CA's Retry-After is a floor.</summary>
    public static TimeSpan Backoff(int failures, TimeSpan min, TimeSpan max, TimeSpan? retryAfter)
    {
        var shift = Math.Min(failures - 1, 20);
        var ticks = Math.Min(max.Ticks, min.Ticks * (1L << Math.Max(shift, 0)));
        var wait = TimeSpan.FromTicks(Math.Max(ticks, min.Ticks));
        return retryAfter is { } r && r > wait ? r : wait;
    }
}
