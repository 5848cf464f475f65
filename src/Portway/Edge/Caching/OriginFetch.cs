using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Edge.Caching;

/// <summary>
/// One trip to the origin for a caching route: a miss (the response may be stored while it
/// streams), or a revalidation of a stored entry with its validators (RFC 9111 §4.3.1) whose
/// 304 refreshes the stored headers (§4.3.4) and whose 5xx or failure may be answered with the
/// stale entry within stale-if-error (RFC 5861 §4). Runs in front of YARP's forwarder, or in the
/// background for stale-while-revalidate.
/// </summary>
internal sealed class OriginFetch(HttpCache cache, HttpContext context, string key, CacheEntry? stored, string fwd, CacheDirectives requestCc, bool background) : IFillOwner
{
    private enum Outcome { Forwarded, Validated, StaleOnError }

    private Outcome _outcome;
    private DateTimeOffset _requestTime;
    private Freshness? _freshness;
    private KeyValuePair<string, StringValues>[]? _headers;
    private string[]? _varyNames;
    private string[]? _tags;
    private int _originStatus;

    public async Task RunAsync(RequestDelegate next)
    {
        var request = context.Request;
        var headers = request.Headers;
        // The client's own conditionals and range are set aside while the cache asks with its
        // validators, then answered from the (re)validated entry.
        var inm = headers.IfNoneMatch;
        var ims = headers.IfModifiedSince;
        var range = headers.Range;
        var ifRange = headers.IfRange;
        var swapped = stored is not null && stored.HasValidators;
        if (swapped)
        {
            headers.IfNoneMatch = stored!.ETag is { } etag ? etag : StringValues.Empty;
            headers.IfModifiedSince = stored.LastModified is { } lm ? lm : StringValues.Empty;
            headers.Remove(HeaderNames.Range);
            headers.Remove(HeaderNames.IfRange);
        }

        _requestTime = cache.Time.GetUtcNow();
        var original = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        var fill = new CacheFill(original, this, cache.Store, cache.Config.MaxObjectBytes);
        context.Features.Set<IHttpResponseBodyFeature>(fill);
        try
        {
            await next(context);
        }
        catch
        {
            fill.Abandon();
            throw;
        }
        finally
        {
            context.Features.Set(original);
            if (swapped)
            {
                headers.IfNoneMatch = inm;
                headers.IfModifiedSince = ims;
                if (range.Count > 0) headers.Range = range;
                if (ifRange.Count > 0) headers.IfRange = ifRange;
            }
        }

        switch (fill.EnsureDecided())
        {
            case FillMode.Tee:
                Store(fill);
                break;
            case FillMode.Swallow when _outcome == Outcome.Validated:
                await ServeValidatedAsync();
                break;
            case FillMode.Swallow when _outcome == Outcome.StaleOnError:
                await ServeStaleOnErrorAsync();
                break;
        }
    }

    public FillMode Decide(CacheFill fill)
    {
        var response = context.Response;
        var status = response.StatusCode;
        _originStatus = status;
        var now = cache.Time.GetUtcNow();
        if (stored is not null)
        {
            if (status == StatusCodes.Status304NotModified && stored.HasValidators)
            {
                _outcome = Outcome.Validated;
                _headers = SnapshotHeaders(response.Headers, addDate: false, now);
                return FillMode.Swallow;
            }
            if (status >= 500 && MayServeStaleOnError(stored, now))
            {
                _outcome = Outcome.StaleOnError;
                return FillMode.Swallow;
            }
        }

        var cc = ResponsePolicy.Directives(response.Headers, cache.Config, out var targeted);
        var why = ResponsePolicy.WhyNotStorable(context.Request, requestCc, status, response.Headers, cc, targeted);
        if (why is null && response.ContentLength > cache.Config.MaxObjectBytes) why = "too-big";
        if (why is null)
        {
            var authorized = UnforwardedHeader.IsForwarded(context, HeaderNames.Authorization);
            var f = ResponsePolicy.Compute(response.Headers, status, cc, targeted, authorized, _requestTime, now, cache.Config);
            var validators = response.Headers.ContainsKey(HeaderNames.ETag) || response.Headers.ContainsKey(HeaderNames.LastModified);
            // Nothing could ever reuse it: no lifetime, no validators, no stale window.
            if (f.Lifetime <= TimeSpan.Zero && !validators && f.StaleIfError == TimeSpan.Zero) why = "no-freshness";
            else
            {
                _freshness = f;
                _varyNames = VaryKey.Names(response.Headers.Vary);
                _tags = Tags(response.Headers);
                if (!response.Headers.ContainsKey(HeaderNames.Date)) response.Headers.Date = HeaderUtilities.FormatDate(now);
                _headers = SnapshotHeaders(response.Headers, addDate: false, now);
                fill.ExpectedLength = response.ContentLength;
                if (!background)
                {
                    var ttl = (long)(f.Lifetime - f.Age(now)).TotalSeconds;
                    CacheStatus.Set(response.Headers, CacheStatus.Forward(fwd, status, stored: true, ttl, key));
                    cache.Metrics.OnMiss();
                }
                return FillMode.Tee;
            }
        }
        if (!background)
        {
            CacheStatus.Set(response.Headers, CacheStatus.Forward(fwd, status, stored: false, null, key, why));
            cache.Metrics.OnMiss();
        }
        return FillMode.PassThrough;
    }

    private bool MayServeStaleOnError(CacheEntry entry, DateTimeOffset now)
    {
        var f = entry.Freshness;
        // §4.2.4: never stale past must-revalidate, proxy-revalidate, s-maxage or no-cache.
        if (f.MustRevalidate || f.NoCache) return false;
        var window = f.StaleIfError;
        if (requestCc.StaleIfError > 0 && TimeSpan.FromSeconds(requestCc.StaleIfError) > window) window = TimeSpan.FromSeconds(requestCc.StaleIfError);
        return f.Age(now) - f.Lifetime <= window;
    }

    private void Store(CacheFill fill)
    {
        var response = context.Response;
        var complete = context.Features.Get<IForwarderErrorFeature>() is null && !fill.Overflowed && fill.Mode == FillMode.Tee
            && (response.ContentLength is not { } length || length == fill.Length64);
        if (!complete || _headers is null || _freshness is null)
        {
            fill.Abandon();
            return;
        }
        var request = context.Request;
        var varyValues = _varyNames is null ? null : VaryKey.Values(_varyNames, request.Headers);
        var entry = new CacheEntry(key, response.StatusCode, _headers, fill.TakeBody(), fill.Length64, _freshness, _varyNames, varyValues, _tags);
        cache.Commit(entry, fill.Reserved);
        fill.ForgetReservation();
    }

    private Task ServeValidatedAsync()
    {
        var now = cache.Time.GetUtcNow();
        var entry = stored!;
        var etag304 = _headers is null ? null : Find(_headers, HeaderNames.ETag);
        // §4.3.4: update the stored response the 304 selects (same strong validator, or none given).
        if (etag304 is null || etag304 == entry.ETag)
        {
            var merged = Merge(entry.Headers, _headers!);
            var dictionary = new HeaderDictionary();
            foreach (var h in merged) dictionary[h.Key] = h.Value;
            var cc = ResponsePolicy.Directives(dictionary, cache.Config, out var targeted);
            var f = ResponsePolicy.Compute(dictionary, entry.Status, cc, targeted, entry.Freshness.Authorized, _requestTime, now, cache.Config);
            var updated = entry.WithHeaders(merged, f);
            cache.Store.Replace(entry, updated);
            cache.Disk?.Write(updated);
            entry = updated;
        }
        if (background) return Task.CompletedTask;
        cache.Metrics.OnRevalidated(entry.BodyLength);
        ResetResponse();
        var age = entry.Freshness.Age(now);
        var ttl = (long)(entry.Freshness.Lifetime - age).TotalSeconds;
        return CacheResponder.WriteAsync(context, entry, (long)age.TotalSeconds,
            CacheStatus.Forward(fwd, StatusCodes.Status304NotModified, stored: true, ttl, key));
    }

    private Task ServeStaleOnErrorAsync()
    {
        if (background) return Task.CompletedTask;
        var now = cache.Time.GetUtcNow();
        var entry = stored!;
        cache.Metrics.OnStale(entry.BodyLength);
        ResetResponse();
        var age = entry.Freshness.Age(now);
        var ttl = (long)(entry.Freshness.Lifetime - age).TotalSeconds;
        return CacheResponder.WriteAsync(context, entry, (long)age.TotalSeconds,
            CacheStatus.Forward("stale", _originStatus, stored: false, ttl, key, "stale-if-error"));
    }

    private void ResetResponse()
    {
        // Nothing reached the client (the fill held it back): drop what the forwarder set.
        context.Response.Headers.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
    }

    /// <summary>
    /// The response headers as stored: all the forwarder passed on (hop-by-hop fields are already
    /// gone, §3.1) except Age, which is recomputed on every use, and Cache-Status, which describes
    /// this exchange only.
    /// </summary>
    private static KeyValuePair<string, StringValues>[] SnapshotHeaders(IHeaderDictionary headers, bool addDate, DateTimeOffset now)
    {
        var list = new List<KeyValuePair<string, StringValues>>(headers.Count + 1);
        foreach (var h in headers)
        {
            if (h.Key.Equals(HeaderNames.Age, StringComparison.OrdinalIgnoreCase) || h.Key.Equals(CacheStatus.HeaderName, StringComparison.OrdinalIgnoreCase)
                || h.Key.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase) || h.Key.Equals(HeaderNames.TransferEncoding, StringComparison.OrdinalIgnoreCase))
                continue;
            list.Add(new(h.Key, h.Value));
        }
        if (addDate) list.Add(new(HeaderNames.Date, HeaderUtilities.FormatDate(now)));
        return list.ToArray();
    }

    /// <summary>§3.2: the 304's fields replace stored ones, except Content-Length and the content's own metadata.</summary>
    private static KeyValuePair<string, StringValues>[] Merge(KeyValuePair<string, StringValues>[] stored, KeyValuePair<string, StringValues>[] update)
    {
        var list = new List<KeyValuePair<string, StringValues>>(stored.Length + update.Length);
        foreach (var h in stored)
        {
            if (Find(update, h.Key) is null || Keep(h.Key)) list.Add(h);
        }
        foreach (var h in update)
        {
            if (!Keep(h.Key)) list.Add(h);
        }
        return list.ToArray();

        static bool Keep(string name) =>
            name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase) || name.Equals(HeaderNames.ContentEncoding, StringComparison.OrdinalIgnoreCase)
            || name.Equals(HeaderNames.ContentType, StringComparison.OrdinalIgnoreCase) || name.Equals(HeaderNames.ContentRange, StringComparison.OrdinalIgnoreCase);
    }

    private static string? Find(KeyValuePair<string, StringValues>[] headers, string name)
    {
        foreach (var h in headers)
        {
            if (h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)) return h.Value.ToString();
        }
        return null;
    }

    private string[]? Tags(IHeaderDictionary headers)
    {
        List<string>? tags = null;
        foreach (var name in cache.Config.TagHeaders)
        {
            foreach (var line in headers[name])
            {
                if (line is null) continue;
                // Surrogate-Key is space-separated, Cache-Tag comma-separated: accept both.
                foreach (var t in line.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    (tags ??= []).Add(t);
            }
        }
        return tags?.ToArray();
    }
}
