using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portway.Protocol;

namespace Portway.Agent.Inspector;

/// <summary>
/// Records one exchange on an <see cref="HttpContext"/>: <see cref="Begin"/> wraps the request and
/// response bodies, <see cref="EndAsync"/> puts the server's response feature back and returns the
/// entry. Used for visitors' requests (<see cref="InspectorMiddleware"/>) and for replays, so both
/// are recorded by the same code.
/// </summary>
internal sealed class ExchangeCapture
{
    private readonly HttpContext _context;
    private readonly BodyCaptureStream _requestBody;
    private readonly CaptureResponseBodyFeature _responseBody;
    private readonly DateTimeOffset _started;
    private readonly long _startTimestamp;
    private readonly TimeProvider _time;
    private readonly KeyValuePair<string, string>[] _requestHeaders;

    private ExchangeCapture(HttpContext context, int limit, TimeProvider time)
    {
        _context = context;
        _time = time;
        _started = time.GetUtcNow();
        _startTimestamp = time.GetTimestamp();
        // Copied now: transforms work on the outgoing message, but nothing should be able to
        // change what the inspector shows as "what arrived".
        _requestHeaders = CopyRequestHeaders(context.Request.Headers);
        _requestBody = new BodyCaptureStream(context.Request.Body, limit);
        context.Request.Body = _requestBody;
        _responseBody = new CaptureResponseBodyFeature(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>(), limit);
        context.Features.Set<IHttpResponseBodyFeature>(_responseBody);
    }

    public static ExchangeCapture Begin(HttpContext context, int limit, TimeProvider time) => new(context, limit, time);

    /// <summary>Restores the server's response feature and builds the entry (its id is given by the store).</summary>
    public async Task<CapturedExchange> EndAsync(string? error = null, long? replayOf = null)
    {
        var duration = _time.GetElapsedTime(_startTimestamp);
        try
        {
            await _responseBody.FlushWriterAsync();
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The visitor went away; what was captured so far is still worth showing.
        }
        _context.Features.Set(_responseBody.Prior);
        var request = _context.Request;
        var response = _context.Response;
        return new CapturedExchange
        {
            ReplayOf = replayOf,
            Tunnel = request.Headers[LinkProtocol.StreamTunnelHeader].ToString(),
            ClientIp = NullIfEmpty(request.Headers[LinkProtocol.StreamClientIpHeader].ToString()),
            Started = _started,
            Duration = duration,
            Method = request.Method,
            Target = request.Path.Value + request.QueryString.Value,
            RequestHeaders = _requestHeaders,
            RequestBody = _requestBody.Snapshot(),
            Status = response.StatusCode,
            ResponseHeaders = CopyHeaders(response.Headers),
            ResponseBody = _responseBody.Captured,
            Error = error ?? AbortReason(_context),
        };
    }

    private static string? AbortReason(HttpContext context) =>
        context.RequestAborted.IsCancellationRequested ? "the visitor disconnected before the response was complete" : null;

    private static KeyValuePair<string, string>[] CopyRequestHeaders(IHeaderDictionary headers)
    {
        var list = new List<KeyValuePair<string, string>>(headers.Count);
        foreach (var (name, values) in headers)
        {
            // The link's own headers are shown as the tunnel and client fields, not as request headers.
            if (name.Equals(LinkProtocol.StreamTunnelHeader, StringComparison.OrdinalIgnoreCase)
                || name.Equals(LinkProtocol.StreamClientIpHeader, StringComparison.OrdinalIgnoreCase)
                || name.Equals(LinkProtocol.StreamKindHeader, StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var v in values) list.Add(new(name, v ?? ""));
        }
        return [.. list];
    }

    private static KeyValuePair<string, string>[] CopyHeaders(IHeaderDictionary headers)
    {
        var list = new List<KeyValuePair<string, string>>(headers.Count);
        foreach (var (name, values) in headers)
        {
            foreach (var v in values) list.Add(new(name, v ?? ""));
        }
        return [.. list];
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
