using System.Net;

namespace Portway.Agent;

/// <summary>The address the agent's Kestrel "listens" on: links the agent dialed out, not a socket.</summary>
internal sealed class LinkEndPoint(Uri edge) : EndPoint
{
    public Uri Edge { get; } = edge;

    public override string ToString() => "link:" + Edge;
}
