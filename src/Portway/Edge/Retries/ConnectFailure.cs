using System.Net.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Edge.Retries;

/// <summary>
/// Tells a failure to connect (nothing reached the destination, so nothing can have happened there)
/// from every other failure (the request may have been received and acted on).
/// </summary>
internal static class ConnectFailure
{
    public static bool Is(IForwarderErrorFeature error) => error.Error switch
    {
        // Refused, reset during connect, no route, DNS, TLS handshake: SocketsHttpHandler reports
        // these as HttpRequestError.ConnectionError / NameResolutionError / SecureConnectionError.
        ForwarderError.Request => HasConnectError(error.Exception),
        // SocketsHttpHandler.ConnectTimeout surfaces as a cancellation carrying a TimeoutException,
        // which YARP reports as RequestTimedOut; the response (activity) timeout carries none.
        ForwarderError.RequestTimedOut => HasTimeout(error.Exception),
        _ => false,
    };

    private static bool HasConnectError(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError })
                return true;
        }
        return false;
    }

    public static bool HasTimeout(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException) return true;
        }
        return false;
    }
}
