using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using System.Collections.Immutable;
using Portway.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Agent;

/// <summary>
/// The end of the agent's request path: find the tunnel, apply its visitor rules (CIDR, basic
/// auth), forward to the local server with YARP's forwarder, and turn a failure to reach it into
/// a page that names the local address (the same words go to the agent's screen).
/// </summary>
internal sealed class TunnelRequestHandler(AgentTunnelTable tunnels, IHttpForwarder forwarder, AgentStatus status, TcpStreamHandler tcp) : IDisposable
{
    private readonly HttpMessageInvoker _local = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        ActivityHeadersPropagator = null,
        // The local server is the developer's own; self-signed certificates are the norm there.
        SslOptions = { RemoteCertificateValidationCallback = static (_, _, _, _) => true },
    });

    private static readonly ForwarderRequestConfig RequestConfig = new() { ActivityTimeout = TimeSpan.FromHours(1) };

    public Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Headers[LinkProtocol.StreamKindHeader] == LinkProtocol.StreamKindGrants) return UpdateGrants(context);
        var name = request.Headers[LinkProtocol.StreamTunnelHeader].ToString();
        var tunnel = tunnels.Find(name);
        if (tunnel is null)
        {
            return AgentErrorPage.WriteAsync(context, 404, "Unknown tunnel",
                $"This agent does not serve a tunnel named '{name}'.", "The edge and agent disagree about the tunnel; restart the agent.");
        }
        if (request.Headers[LinkProtocol.StreamKindHeader] == LinkProtocol.StreamKindTcp) return tcp.HandleAsync(context, tunnel);
        return ForwardAsync(context, tunnel);
    }

    /// <summary>The edge's grants update (protocol.md message 11): new URLs for the tunnels this agent holds.</summary>
    private Task UpdateGrants(HttpContext context)
    {
        var grants = System.Collections.Immutable.ImmutableArray.CreateBuilder<TunnelGrant>();
        foreach (var value in context.Request.Headers[LinkProtocol.GrantHeader])
        {
            if (value is not null && TunnelGrant.TryParse(value, out var grant)) grants.Add(grant);
        }
        // Names never change in an update; only grants this agent already has are replaced.
        var updated = status.Grants.Select(g => grants.FirstOrDefault(n => n.Id == g.Id && n.Name == g.Name) ?? g).ToImmutableArray();
        status.SetGrants(updated);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private async Task ForwardAsync(HttpContext context, AgentTunnel tunnel)
    {
        IPAddress.TryParse(context.Request.Headers[LinkProtocol.StreamClientIpHeader].ToString(), out var client);
        if (!tunnel.IsAllowed(client))
        {
            await AgentErrorPage.WriteAsync(context, 403, "Forbidden",
                $"Your address ({client?.ToString() ?? "unknown"}) is not allowed to reach this tunnel.", "The tunnel's owner limits it to some networks (--allow-cidr / --deny-cidr).");
            return;
        }
        if (tunnel.Credentials.Length > 0 && !Authorized(context.Request, tunnel.Credentials))
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"portway\", charset=\"UTF-8\"";
            await AgentErrorPage.WriteAsync(context, 401, "Unauthorized", "This tunnel needs a user name and password.");
            return;
        }
        var error = await forwarder.SendAsync(context, tunnel.Destination, _local, RequestConfig, tunnel.Transformer);
        if (error == ForwarderError.None || context.Response.HasStarted) return;
        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        switch (error)
        {
            case ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient:
                return;
            case ForwarderError.Request when IsConnectFailure(exception, out var reason):
                status.Report($"could not connect to {tunnel.Options.Address}: {reason}");
                await AgentErrorPage.WriteAsync(context, 502, "Bad Gateway",
                    $"The tunnel is online, but the agent could not connect to {tunnel.Options.Address} ({reason}).",
                    $"Start the local server on {tunnel.Options.Address}, or restart the agent with the port it listens on.");
                return;
            default:
                status.Report($"{context.Request.Method} {context.Request.Path}: {tunnel.Options.Address} failed: {error}");
                await AgentErrorPage.WriteAsync(context, 502, "Bad Gateway",
                    $"The agent forwarded the request to {tunnel.Options.Address}, which failed to answer ({error}: {exception?.Message}).");
                return;
        }
    }

    private static bool Authorized(HttpRequest request, byte[][] credentials)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        byte[] given;
        try
        {
            given = Convert.FromBase64String(header[6..].Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        var ok = false;
        foreach (var c in credentials) ok |= CryptographicOperations.FixedTimeEquals(given, c);
        return ok;
    }

    internal static bool IsConnectFailure(Exception? e, out string reason)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is SocketException s)
            {
                reason = s.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.TimedOut => "timed out",
                    SocketError.HostNotFound => "host not found",
                    _ => s.Message,
                };
                return true;
            }
        }
        reason = "";
        return false;
    }

    public void Dispose() => _local.Dispose();
}
