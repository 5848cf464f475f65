using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;

namespace Portway.Agent;

/// <summary>
/// Kestrel's transport for <see cref="LinkEndPoint"/>: "accepting" a connection means taking the
/// next link the edge activated. Other endpoints (the inspector) stay on the socket transport.
/// </summary>
internal sealed class LinkListener : IConnectionListenerFactory, IConnectionListenerFactorySelector, IConnectionListener
{
    private readonly Channel<LinkConnection> _accepted = Channel.CreateUnbounded<LinkConnection>(new UnboundedChannelOptions { SingleReader = true });
    private EndPoint _endPoint = new IPEndPoint(IPAddress.None, 0);

    public EndPoint EndPoint => _endPoint;

    public bool CanBind(EndPoint endpoint) => endpoint is LinkEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        _endPoint = endpoint;
        return ValueTask.FromResult<IConnectionListener>(this);
    }

    /// <summary>Hands an activated link to Kestrel.</summary>
    public bool Offer(LinkConnection connection) => _accepted.Writer.TryWrite(connection);

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken);
        }
        catch (Exception e) when (e is ChannelClosedException or OperationCanceledException)
        {
            return null;
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _accepted.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out var pending)) await pending.DisposeAsync();
    }
}
