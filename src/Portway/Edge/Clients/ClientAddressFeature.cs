using System.Net;

namespace Portway.Edge.Clients;

/// <summary>
/// The client's address of one request, when it differs from the socket peer as Kestrel reports
/// it (a trusted proxy's forwarded address, or an IPv4-mapped peer written as IPv4). Set once by
/// <see cref="ClientAddress.Resolve"/>; a request without it is served by its peer as is, so the
/// common case allocates nothing.
/// </summary>
internal sealed class ClientAddressFeature(IPAddress address, bool forwarded)
{
    public IPAddress Address { get; } = address;

    /// <summary>True when the address came from a trusted proxy's Forwarded or X-Forwarded-For.</summary>
    public bool Forwarded { get; } = forwarded;
}
