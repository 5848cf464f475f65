using Yarp.ReverseProxy.Forwarder;

namespace Portway.Edge.Health;

/// <summary>Which of YARP's forwarding errors say something about the destination (and which only about the client).</summary>
internal static class DestinationFault
{
    public static bool Is(ForwarderError error) => error switch
    {
        ForwarderError.None => false,
        // The client went away, was slow or sent a broken body: not the destination's fault.
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
            or ForwarderError.ResponseBodyClient or ForwarderError.ResponseBodyCanceled
            or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeRequestCanceled
            or ForwarderError.UpgradeResponseClient or ForwarderError.UpgradeResponseCanceled
            or ForwarderError.RequestCreation or ForwarderError.NoAvailableDestinations => false,
        _ => true,
    };
}
