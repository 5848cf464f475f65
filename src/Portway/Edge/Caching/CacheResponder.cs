using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Portway.Edge.Caching;

/// <summary>
/// Writes a stored response to the client: the client's own conditionals answered 304 (RFC 9111
/// §4.3.2), HEAD from a stored GET (§4.3.5), a single byte range as 206 (RFC 9110 §14), and Age
/// (§5.1) plus Cache-Status on every one.
/// </summary>
internal static class CacheResponder
{
    public static Task WriteAsync(HttpContext context, CacheEntry entry, long ageSeconds, string cacheStatus)
    {
        var request = context.Request;
        var response = context.Response;
        var headers = response.Headers;
        var isHead = HttpMethods.IsHead(request.Method);

        if (NotModified(request.Headers, entry))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            foreach (var h in entry.Headers)
            {
                // A 304 carries the validators and caching headers, not the content's (RFC 9110 §15.4.5).
                if (IsContentHeader(h.Key)) continue;
                headers[h.Key] = h.Value;
            }
            SetAgeAndStatus(headers, entry, ageSeconds, cacheStatus);
            return Task.CompletedTask;
        }

        response.StatusCode = entry.Status;
        foreach (var h in entry.Headers) headers[h.Key] = h.Value;
        SetAgeAndStatus(headers, entry, ageSeconds, cacheStatus);

        var offset = 0L;
        var length = entry.BodyLength;
        if (entry.Status == 200 && !isHead && request.Headers.TryGetValue(HeaderNames.Range, out var range) && IfRangeHolds(request.Headers, entry))
        {
            switch (RangeParser.Parse(range, entry.BodyLength, out offset, out length))
            {
                case RangeResult.Satisfiable:
                    response.StatusCode = StatusCodes.Status206PartialContent;
                    headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {offset}-{offset + length - 1}/{entry.BodyLength}");
                    break;
                case RangeResult.Unsatisfiable:
                    response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{entry.BodyLength}");
                    headers.ContentLength = 0;
                    return Task.CompletedTask;
                default:
                    offset = 0;
                    length = entry.BodyLength;
                    break;
            }
        }
        headers.ContentLength = length;
        if (isHead || length == 0) return Task.CompletedTask;
        return WriteBodyAsync(response, entry.Body, offset, length, context.RequestAborted);
    }

    private static void SetAgeAndStatus(IHeaderDictionary headers, CacheEntry entry, long ageSeconds, string cacheStatus)
    {
        headers.Age = entry.TextFor(ageSeconds).Age;
        headers[CacheStatus.HeaderName] = cacheStatus;
    }

    private static async Task WriteBodyAsync(HttpResponse response, byte[][] body, long offset, long length, CancellationToken cancel)
    {
        var body0 = response.Body;
        foreach (var segment in body)
        {
            if (length <= 0) break;
            if (offset >= segment.Length)
            {
                offset -= segment.Length;
                continue;
            }
            var take = (int)Math.Min(segment.Length - offset, length);
            await body0.WriteAsync(segment.AsMemory((int)offset, take), cancel);
            offset = 0;
            length -= take;
        }
    }

    private static bool IsContentHeader(string name) =>
        name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.ContentType, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.ContentEncoding, StringComparison.OrdinalIgnoreCase)
        || name.Equals(HeaderNames.ContentRange, StringComparison.OrdinalIgnoreCase);

    /// <summary>RFC 9110 §13.1.2 If-None-Match (weak comparison), else §13.1.3 If-Modified-Since.</summary>
    public static bool NotModified(IHeaderDictionary request, CacheEntry entry)
    {
        if (entry.Status != 200) return false;
        var inm = request.IfNoneMatch;
        if (inm.Count > 0)
        {
            if (entry.ETag is null) return false;
            foreach (var line in inm)
            {
                if (line is null) continue;
                foreach (var tag in line.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    if (tag == "*" || WeakEquals(tag, entry.ETag)) return true;
                }
            }
            return false;
        }
        if (request.IfModifiedSince.Count > 0 && ResponsePolicy.ParseDate(request.IfModifiedSince) is { } since)
        {
            var lastModified = ResponsePolicy.ParseDate(entry.Header(HeaderNames.LastModified)) ?? ResponsePolicy.ParseDate(entry.Header(HeaderNames.Date));
            return lastModified is { } lm && lm <= since;
        }
        return false;
    }

    /// <summary>RFC 9110 §13.1.5: a Range applies only if If-Range still matches (strong ETag or exact date).</summary>
    private static bool IfRangeHolds(IHeaderDictionary request, CacheEntry entry)
    {
        var ifRange = request.IfRange.ToString();
        if (ifRange.Length == 0) return true;
        if (ifRange.StartsWith('"')) return entry.ETag is { } etag && !etag.StartsWith("W/", StringComparison.Ordinal) && etag == ifRange;
        return entry.LastModified is { } lm && lm == ifRange;
    }

    private static bool WeakEquals(string a, string b) => Opaque(a).SequenceEqual(Opaque(b));

    private static ReadOnlySpan<char> Opaque(string tag) => tag.StartsWith("W/", StringComparison.Ordinal) ? tag.AsSpan(2) : tag.AsSpan();
}
