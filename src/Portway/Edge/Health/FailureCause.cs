using System.Net.Http;
using System.Net.Sockets;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Edge.Health;

/// <summary>Why a forwarding attempt failed, as far as the destination is concerned; the metrics' cause label.</summary>
internal enum FailureCause
{
    None,
    /// <summary>Nothing listens at the address (or a firewall says so).</summary>
    ConnectionRefused,
    /// <summary>Any other failure to open the connection (reset or unreachable while connecting).</summary>
    ConnectFailed,
    ConnectTimeout,
    Dns,
    Tls,
    /// <summary>The connection closed or was reset after the request went out and before any response byte.</summary>
    ClosedBeforeResponse,
    /// <summary>Bytes came back, but not an HTTP response.</summary>
    InvalidResponse,
    /// <summary>The request was sent, no response headers within timeouts.response.</summary>
    ResponseTimeout,
    /// <summary>The destination went away while the request body was being sent.</summary>
    RequestBody,
    /// <summary>The destination went away in the middle of the response body.</summary>
    ResponseBody,
    Other,
}

internal static class FailureCauses
{
    public static FailureCause Of(IForwarderErrorFeature? error) => error?.Error switch
    {
        null or ForwarderError.None => FailureCause.None,
        // YARP files everything before the response headers under Request: connect, sending the
        // headers, waiting for the response. SocketsHttpHandler says which through HttpRequestError.
        ForwarderError.Request => OfRequest(error.Exception),
        // SocketsHttpHandler.ConnectTimeout surfaces as a cancellation carrying a TimeoutException,
        // which YARP reports as RequestTimedOut; the response (activity) timeout carries none.
        ForwarderError.RequestTimedOut => Has<TimeoutException>(error.Exception) ? FailureCause.ConnectTimeout : FailureCause.ResponseTimeout,
        ForwarderError.RequestBodyDestination => FailureCause.RequestBody,
        ForwarderError.ResponseBodyDestination => FailureCause.ResponseBody,
        _ => FailureCause.Other,
    };

    /// <summary>
    /// No response byte reached the edge, so the destination produced nothing the client could have
    /// seen: an idempotent request may go elsewhere (nginx's proxy_next_upstream error timeout).
    /// </summary>
    public static bool BeforeResponse(FailureCause cause) => cause is FailureCause.ConnectionRefused or FailureCause.ConnectFailed
        or FailureCause.ConnectTimeout or FailureCause.Dns or FailureCause.Tls or FailureCause.ClosedBeforeResponse;

    /// <summary>Nothing reached the destination at all: even a non-idempotent request cannot have happened there.</summary>
    public static bool BeforeConnect(FailureCause cause) => cause is FailureCause.ConnectionRefused or FailureCause.ConnectFailed
        or FailureCause.ConnectTimeout or FailureCause.Dns or FailureCause.Tls;

    public static string Label(FailureCause cause) => cause switch
    {
        FailureCause.ConnectionRefused => "connection_refused",
        FailureCause.ConnectFailed => "connect_failed",
        FailureCause.ConnectTimeout => "connect_timeout",
        FailureCause.Dns => "dns",
        FailureCause.Tls => "tls",
        FailureCause.ClosedBeforeResponse => "closed_before_response",
        FailureCause.InvalidResponse => "invalid_response",
        FailureCause.ResponseTimeout => "response_timeout",
        FailureCause.RequestBody => "request_body",
        FailureCause.ResponseBody => "response_body",
        FailureCause.None => "none",
        _ => "other",
    };

    /// <summary>For a log line or a page: what happened, in words.</summary>
    public static string Describe(FailureCause cause) => cause switch
    {
        FailureCause.ConnectionRefused => "connection refused",
        FailureCause.ConnectFailed => "could not connect",
        FailureCause.ConnectTimeout => "connect timed out",
        FailureCause.Dns => "name not resolved",
        FailureCause.Tls => "TLS handshake failed",
        FailureCause.ClosedBeforeResponse => "connection closed before any response",
        FailureCause.InvalidResponse => "not an HTTP response",
        FailureCause.ResponseTimeout => "no response in time",
        FailureCause.RequestBody => "went away while the request body was sent",
        FailureCause.ResponseBody => "went away during the response",
        _ => "forwarding failed",
    };

    private static FailureCause OfRequest(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is not HttpRequestException http) continue;
            switch (http.HttpRequestError)
            {
                case HttpRequestError.ConnectionError:
                    return Find<SocketException>(http) is { SocketErrorCode: SocketError.ConnectionRefused } ? FailureCause.ConnectionRefused : FailureCause.ConnectFailed;
                case HttpRequestError.NameResolutionError:
                    return FailureCause.Dns;
                case HttpRequestError.SecureConnectionError:
                    return FailureCause.Tls;
                case HttpRequestError.ResponseEnded:
                    return FailureCause.ClosedBeforeResponse;
                case HttpRequestError.InvalidResponse:
                    return FailureCause.InvalidResponse;
            }
            // Unknown: a reset or close while sending the headers or waiting for the response
            // surfaces as an IOException ("Unable to read data from the transport connection").
            if (Has<IOException>(http)) return FailureCause.ClosedBeforeResponse;
        }
        return Has<TimeoutException>(exception) ? FailureCause.ConnectTimeout : FailureCause.Other;
    }

    private static bool Has<T>(Exception? e) where T : Exception => Find<T>(e) is not null;

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T found) return found;
        }
        return null;
    }
}
