using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Portway.Diagnostics;
using Portway.Protocol;

namespace Portway.Edge.Tunnels;

/// <summary>
/// A public TCP port for one TCP tunnel. Each accepted connection becomes one full-duplex HTTP/2
/// stream to the agent (a POST whose request body carries visitor → agent bytes and whose response
/// body carries agent → visitor bytes); the agent pipes it to its local port.
/// </summary>
internal sealed partial class TcpTunnelListener : IDisposable
{
    private readonly Socket _socket;
    private readonly TunnelRegistry _registry;
    private readonly TunnelConnector _connector;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private string _entryKey = "";

    private TcpTunnelListener(Socket socket, TunnelRegistry registry, TunnelConnector connector, ILogger logger)
    {
        _socket = socket;
        _registry = registry;
        _connector = connector;
        _logger = logger;
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    public static TcpTunnelListener? TryBind(IPAddress address, int port, TunnelRegistry registry, TunnelConnector connector, ILoggerFactory loggers)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(512);
            return new TcpTunnelListener(socket, registry, connector, loggers.CreateLogger<TcpTunnelListener>());
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    public void Start(string entryKey)
    {
        _entryKey = entryKey;
        _ = AcceptLoopAsync();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested) return;
                continue;
            }
            client.NoDelay = true;
            _ = HandleAsync(client);
        }
    }

    private async Task HandleAsync(Socket client)
    {
        using var _ = client;
        await using var visitor = new NetworkStream(client, ownsSocket: false);
        var session = _registry.PickSession(_entryKey);
        if (session is null)
        {
            LogNoAgent(Port);
            return;
        }
        // tokens[].limits.connections counts TCP connections with the token's HTTP requests; one
        // over the limit is closed at once, as a server at its backlog would.
        var limiter = _registry.Limits.For(session.TokenName);
        using var slot = limiter?.TryConnection();
        if (limiter is not null && slot is null)
        {
            LogTokenBusy(Port, session.TokenName!, limiter.Config.Connections ?? 0);
            return;
        }
        var remote = (client.RemoteEndPoint as IPEndPoint)?.Address;
        using var request = new HttpRequestMessage(HttpMethod.Post, TunnelConnector.DestinationAddress(session) + LinkProtocol.TcpStreamPath.TrimStart('/'))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new DuplexUploadContent(visitor),
        };
        request.Headers.TryAddWithoutValidation(LinkProtocol.StreamKindHeader, LinkProtocol.StreamKindTcp);
        request.Headers.TryAddWithoutValidation(LinkProtocol.StreamTunnelHeader, Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (remote is not null) request.Headers.TryAddWithoutValidation(LinkProtocol.StreamClientIpHeader, (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString());
        try
        {
            using var response = await _connector.Invoker.SendAsync(request, _stop.Token);
            if (!response.IsSuccessStatusCode)
            {
                LogAgentRefused(Port, (int)response.StatusCode);
                return;
            }
            await using var download = await response.Content.ReadAsStreamAsync(_stop.Token);
            await download.CopyToAsync(visitor, 64 * 1024, _stop.Token);
            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            LogStreamEnded(Port, e.Message);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
    }

    /// <summary>Request body that streams the visitor's bytes as they arrive; ends when the visitor half-closes.</summary>
    private sealed class DuplexUploadContent(Stream visitor) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            // Send the headers now: the agent answers (and the download starts) before any upload byte.
            await stream.FlushAsync(cancellationToken);
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                int n;
                while ((n = await visitor.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                    await stream.FlushAsync(cancellationToken);
                }
            }
            catch (IOException)
            {
                // The visitor reset the connection: end the upload; the download side ends too.
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [LoggerMessage(EventId = EventIds.TcpTunnelNoAgent, Level = LogLevel.Warning, Message = "TCP tunnel port {Port}: connection refused, no agent online")]
    private partial void LogNoAgent(int port);

    [LoggerMessage(EventId = EventIds.TcpTunnelAgentRefused, Level = LogLevel.Warning, Message = "TCP tunnel port {Port}: the agent answered {Status}")]
    private partial void LogAgentRefused(int port, int status);

    [LoggerMessage(EventId = EventIds.TcpTunnelStreamEnded, Level = LogLevel.Debug, Message = "TCP tunnel port {Port}: stream ended: {Reason}")]
    private partial void LogStreamEnded(int port, string reason);

    [LoggerMessage(EventId = EventIds.TcpTunnelTokenBusy, Level = LogLevel.Warning, Message = "TCP tunnel port {Port}: connection closed, token {Token} has {Limit} connections open (its limits.connections)")]
    private partial void LogTokenBusy(int port, string token, int limit);
}
