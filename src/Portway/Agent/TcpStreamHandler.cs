using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Portway.Protocol;

namespace Portway.Agent;

/// <summary>
/// One TCP connection of a TCP tunnel, carried by one HTTP/2 stream: the request body is the
/// visitor's bytes, the response body the local server's. Half-closes travel both ways (END_STREAM
/// ↔ shutdown(SHUT_WR)), so protocols that close one direction first keep working.
/// </summary>
internal sealed class TcpStreamHandler(AgentStatus status)
{
    public async Task HandleAsync(HttpContext context, AgentTunnel tunnel)
    {
        IPAddress.TryParse(context.Request.Headers[LinkProtocol.StreamClientIpHeader].ToString(), out var client);
        if (!tunnel.IsAllowed(client))
        {
            context.Response.StatusCode = 403;
            return;
        }
        var target = tunnel.Options.Target;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var _ = socket;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await socket.ConnectAsync(new DnsEndPoint(target.Host, target.Port), timeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            var reason = e is SocketException { SocketErrorCode: SocketError.ConnectionRefused } ? "connection refused" : e.Message;
            status.Report($"could not connect to {tunnel.Options.Address}: {reason}");
            context.Response.StatusCode = 502;
            return;
        }
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        context.Response.StatusCode = 200;
        await context.Response.StartAsync(context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await using var local = new NetworkStream(socket, ownsSocket: false);
        var upload = PumpUpAsync(context.Request.Body, local, socket, context.RequestAborted);
        var download = PumpDownAsync(local, context.Response.Body, context.RequestAborted);
        await Task.WhenAll(upload, download);
    }

    private static async Task PumpUpAsync(Stream from, Stream to, Socket socket, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, cancellationToken)) > 0) await to.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task PumpDownAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                await to.FlushAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
