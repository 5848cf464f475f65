using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.Settings;
using Portway.Protocol;
using Yarp.ReverseProxy;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Serves <see cref="LinkProtocol.Path"/>: checks the token, claims names, answers 101 (HTTP/1.1
/// Upgrade) or 200 (HTTP/2 extended CONNECT) with the grants, and keeps the request alive as long as the link lives (Kestrel closes an upgraded
/// connection when its request ends). Refusals are plain text an agent prints as is.
/// </summary>
internal sealed partial class TunnelLinkEndpoint(EdgeState state, TunnelRegistry registry, IProxyStateLookup proxyState, TimeProvider time, TunnelTokenLimits limits, ILogger<TunnelLinkEndpoint> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        var config = state.Current.Tunnels;
        var request = context.Request;
        if (!config.Enabled)
        {
            await RefuseAsync(context, 404, LinkErrorCodes.Disabled, "Tunnels are disabled on this edge (tunnels.enabled: false).");
            return;
        }
        // Two doors to the same link: an HTTP/1.1 Upgrade (RFC 9110 §7.8), or on a listener that
        // speaks only HTTP/2 an extended CONNECT (RFC 8441 §4) with the same token as :protocol.
        // Only the handshake differs; from the accepted stream on, both run the code below.
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        var connect = context.Features.Get<IHttpExtendedConnectFeature>();
        var isConnect = connect is { IsExtendedConnect: true } && string.Equals(connect.Protocol, LinkProtocol.UpgradeToken, StringComparison.OrdinalIgnoreCase);
        if (!isConnect && (upgrade is not { IsUpgradableRequest: true } || !request.Headers.Upgrade.ToString().Contains(LinkProtocol.UpgradeToken, StringComparison.OrdinalIgnoreCase)))
        {
            // Upgrade is a connection-specific header, not allowed in HTTP/2 responses (RFC 9113 §8.2.2).
            if (!HttpProtocol.IsHttp2(request.Protocol)) context.Response.Headers.Upgrade = LinkProtocol.UpgradeToken;
            await RefuseAsync(context, 426, LinkErrorCodes.BadRequest,
                "This is the Portway tunnel endpoint; agents connect here. Start one with: portway http 3000 --edge " + request.Scheme + "://" + request.Host);
            return;
        }
        var auth = TokenAuthenticator.Authenticate(config, request.Headers.Authorization.ToString(), context.Connection.RemoteIpAddress);
        if (!auth.Success)
        {
            LogRefused(context.Connection.RemoteIpAddress?.ToString() ?? "?", auth.Code!);
            await RefuseAsync(context, auth.Status, auth.Code!, auth.Message!);
            return;
        }
        var agentId = request.Headers[LinkProtocol.AgentHeader].ToString();
        if (!AgentIdPattern().IsMatch(agentId))
        {
            await RefuseAsync(context, 400, LinkErrorCodes.BadRequest, $"{LinkProtocol.AgentHeader} must be 32 hex digits.");
            return;
        }
        var tunnels = ImmutableArray.CreateBuilder<TunnelRequest>();
        foreach (var header in request.Headers[LinkProtocol.TunnelHeader])
        {
            foreach (var value in (header ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!TunnelRequest.TryParse(value, out var t, out var error))
                {
                    await RefuseAsync(context, 400, LinkErrorCodes.BadRequest, $"{LinkProtocol.TunnelHeader}: {error}");
                    return;
                }
                if (PolicyRefusal(t) is { } refusal)
                {
                    await RefuseAsync(context, 400, LinkErrorCodes.BadPolicy, refusal);
                    return;
                }
                tunnels.Add(t);
            }
        }
        if (tunnels.Count is 0 or > 100)
        {
            await RefuseAsync(context, 400, LinkErrorCodes.BadRequest, $"A link request names 1 to 100 tunnels ({LinkProtocol.TunnelHeader} headers).");
            return;
        }

        var result = registry.Attach(new LinkRequest(agentId, auth.Token, tunnels.ToImmutable(), context.Connection.RemoteIpAddress,
            request.Scheme, request.Host.Port, request.Host.Host));
        if (result.Session is not { } session)
        {
            // An agent redialing while this edge drains is expected, not a warning.
            if (result.Code == LinkErrorCodes.ShuttingDown) LogRefusedWhileStopping(context.Connection.RemoteIpAddress?.ToString() ?? "?");
            else LogRefused(context.Connection.RemoteIpAddress?.ToString() ?? "?", result.Code!);
            await RefuseAsync(context, result.Status, result.Code!, result.Message!);
            return;
        }

        Stream stream;
        try
        {
            await WaitForRoutesAsync(session, context.RequestAborted);
            context.Response.Headers[LinkProtocol.SessionHeader] = session.Key;
            var grants = new string[session.Grants.Length];
            for (var i = 0; i < grants.Length; i++) grants[i] = session.Grants[i].ToHeaderValue();
            context.Response.Headers[LinkProtocol.GrantHeader] = grants;
            // A link is idle for long stretches; the request-body rate and size limits are for visitors.
            if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRate) minRate.MinDataRate = null;
            if (context.Features.Get<IHttpMinResponseDataRateFeature>() is { } minResponseRate) minResponseRate.MinDataRate = null;
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxBody) maxBody.MaxRequestBodySize = null;
            // RFC 8441 §5: a 2xx answers the CONNECT; the stream's DATA frames are the link from here on.
            stream = isConnect ? await connect!.AcceptAsync() : await upgrade!.UpgradeAsync();
        }
        catch
        {
            session.ReleaseReservation();
            throw;
        }
        var link = new EdgeLink(stream, context, session, time, limits);
        session.AddSpare(link);
        _ = link.RunStandbyAsync();
        await link.Closed;
    }

    /// <summary>
    /// The agent checked its policy before dialing; the edge reads it again with the same readers
    /// and limits, since a link request can come from anything holding the token.
    /// </summary>
    private static string? PolicyRefusal(TunnelRequest t)
    {
        if (t.Policy is null) return null;
        if (t.Kind != TunnelKind.Http) return $"Tunnel '{t.Id}': a policy applies to http tunnels only.";
        try
        {
            PolicyDocument.Parse(t.Policy, "policy");
            return null;
        }
        catch (ConfigException e)
        {
            return $"Tunnel '{t.Id}': the edge refused its policy: {string.Join("; ", e.Errors)}";
        }
    }

    /// <summary>YARP applies provider changes as they are signalled; wait (briefly) so the URL works when the agent prints it.</summary>
    private async Task WaitForRoutesAsync(TunnelSession session, CancellationToken cancellationToken)
    {
        var deadline = time.GetTimestamp();
        foreach (var grant in session.Grants)
        {
            if (grant.Url.StartsWith("tcp:", StringComparison.Ordinal)) continue;
            while (!(proxyState.TryGetCluster(TunnelMetadata.ClusterId(grant.Name), out var cluster) && cluster.Destinations.ContainsKey(session.Key)))
            {
                if (time.GetElapsedTime(deadline) > TimeSpan.FromSeconds(2)) return;
                await Task.Delay(5, cancellationToken);
            }
        }
    }

    private static Task RefuseAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers[LinkProtocol.ErrorHeader] = code;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "text/plain; charset=utf-8";
        // A sized body and a closed connection: the agent reads the message and the link attempt is over.
        var body = System.Text.Encoding.UTF8.GetBytes(message + "\n");
        context.Response.ContentLength = body.Length;
        // Not in HTTP/2: it has no Connection header (RFC 9113 §8.2.2); the stream just ends.
        if (!HttpProtocol.IsHttp2(context.Request.Protocol)) context.Response.Headers.Connection = "close";
        return context.Response.Body.WriteAsync(body).AsTask();
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex AgentIdPattern();

    [LoggerMessage(EventId = EventIds.TunnelLinkRefused, Level = LogLevel.Warning, Message = "Refused a tunnel link from {Remote}: {Code}")]
    private partial void LogRefused(string remote, string code);

    [LoggerMessage(EventId = EventIds.TunnelLinkRefusedWhileStopping, Level = LogLevel.Debug, Message = "Refused a tunnel link from {Remote}: the edge is shutting down")]
    private partial void LogRefusedWhileStopping(string remote);
}
