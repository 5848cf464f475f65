using System.Collections.Immutable;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Edge.Acme;
using Portway.Edge.Settings;
using Portway.Protocol;

namespace Portway.Edge.Tunnels;

/// <summary>
/// Sessions and the names they hold. Names are claimed when an agent's first link arrives, stay
/// reserved for tunnels.reconnect_grace after its last link closes (so a reconnecting agent gets
/// its URL back), and are published to YARP through <see cref="TunnelProxyConfigProvider"/>.
/// One lock guards it all: it is taken on link connect and disconnect, never per request.
/// </summary>
internal sealed partial class TunnelRegistry : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TunnelSession> _byAgent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NameEntry> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<TunnelSession, ITimer> _graceTimers = [];
    private readonly EdgeState _state;
    private readonly TunnelConnector _connector;
    private readonly TunnelProxyConfigProvider _provider;
    private readonly TimeProvider _time;
    private readonly ILogger<TunnelRegistry> _logger;
    private readonly ILoggerFactory _loggers;
    private readonly TunnelPolicies _policies;

    /// <summary>tokens[].limits in force; TCP tunnels' listeners count their connections here.</summary>
    public TunnelTokenLimits Limits { get; }
    private bool _closed;
    private readonly IAutomaticCertificates _certificates;

    public TunnelRegistry(EdgeState state, TunnelConnector connector, TunnelProxyConfigProvider provider, TimeProvider time, ILoggerFactory loggers, IAutomaticCertificates certificates, TunnelTokenLimits limits, TunnelPolicies policies)
    {
        _certificates = certificates;
        certificates.Changed += OnCertificateChanged;
        _state = state;
        _connector = connector;
        _provider = provider;
        _time = time;
        _loggers = loggers;
        Limits = limits;
        _policies = policies;
        _logger = loggers.CreateLogger<TunnelRegistry>();
    }

    /// <summary>Claims names for a new session (or finds the agent's existing one) and reserves a link in it.</summary>
    public AttachResult Attach(LinkRequest request)
    {
        TunnelSession session;
        lock (_lock)
        {
            if (_closed) return AttachResult.Refuse(503, LinkErrorCodes.ShuttingDown, "The edge is shutting down; the agent will reconnect.");
            var tokenName = request.Token?.Name;
            if (_byAgent.TryGetValue(request.AgentId, out var existing))
            {
                if (existing.TokenName != tokenName)
                    return AttachResult.Refuse(403, LinkErrorCodes.NameNotAllowed, "This agent id is in use with another token; restart the agent.");
                if (SameTunnels(existing.Requests, request.Tunnels))
                {
                    existing.ReserveLink();
                    return new AttachResult(existing);
                }
                RemoveSessionLocked(existing);
            }
            var refusal = ClaimLocked(request, out session);
            if (refusal is not null) return refusal;
        }
        session.ReserveLink();
        foreach (var grant in session.Grants) LogTunnelOpened(grant.Url, session.Key, request.Token?.Name ?? "(dev mode)", request.Remote?.ToString() ?? "?");
        return new AttachResult(session);
    }

    private static bool SameTunnels(ImmutableArray<TunnelRequest> a, ImmutableArray<TunnelRequest> b)
    {
        if (a.Length != b.Length) return false;
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i].Id != b[i].Id || a[i].Kind != b[i].Kind) return false;
        }
        return true;
    }

    private AttachResult? ClaimLocked(LinkRequest request, out TunnelSession session)
    {
        session = null!;
        var config = _state.Current.Tunnels;
        var token = request.Token;
        var plans = new List<(TunnelRequest Request, string Name, NameEntry? Existing, TcpTunnelListener? Listener)>();
        var pending = new HashSet<string>(StringComparer.Ordinal);
        AttachResult? refusal = null;

        if (token is not null && CountNamesLocked(token.Name) + request.Tunnels.Length > token.MaxTunnels)
            return AttachResult.Refuse(403, LinkErrorCodes.TooManyTunnels,
                $"Token '{token.Name}' may hold {token.MaxTunnels} tunnel(s) at once and this would make {CountNamesLocked(token.Name) + request.Tunnels.Length}. Stop another agent, or raise max_tunnels for the token.");

        foreach (var t in request.Tunnels)
        {
            if (t.Kind == TunnelKind.Http)
            {
                refusal = PlanHttpLocked(t, request, config, pending, out var name, out var existing);
                if (refusal is not null) break;
                pending.Add(NameEntry.KeyOf(TunnelKind.Http, name));
                plans.Add((t, name, existing, null));
            }
            else
            {
                refusal = PlanTcpLocked(t, token, config, pending, out var listener);
                if (refusal is not null) break;
                var name = listener!.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                pending.Add(NameEntry.KeyOf(TunnelKind.Tcp, name));
                plans.Add((t, name, null, listener));
            }
        }
        if (refusal is not null)
        {
            foreach (var p in plans) p.Listener?.Dispose();
            return refusal;
        }

        session = new TunnelSession(RandomKey(), request.AgentId, token?.Name, request.Remote, OnOnlineChanged);
        var grants = ImmutableArray.CreateBuilder<TunnelGrant>();
        var keys = ImmutableArray.CreateBuilder<string>();
        foreach (var (t, name, existing, listener) in plans)
        {
            var entry = existing;
            if (entry is null)
            {
                entry = new NameEntry(t.Kind, name, token?.Name) { Listener = listener };
                _names[entry.Key] = entry;
                listener?.Start(entry.Key);
                // Caddy's on-demand rule: a certificate only for a name a tunnel really holds.
                if (t.Kind == TunnelKind.Http) RequestCertificates(name, config);
            }
            else entry.Holders.RemoveAll(h => !h.IsOnline); // take over from an offline holder in its grace period
            entry.Holders.Add(session);
            if (t.Kind == TunnelKind.Http) _policies.Set(name, t.Policy);
            keys.Add(entry.Key);
            grants.Add(t.Kind == TunnelKind.Http
                ? TunnelUrls.Http(t.Id, name, request, config, _state, _certificates)
                : new TunnelGrant(t.Id, name, PublicUrl(t.Kind, name, request, config)));
        }
        session.Grants = grants.ToImmutable();
        session.NameKeys = keys.ToImmutable();
        session.Requests = request.Tunnels;
        session.Link = request;
        _byAgent[request.AgentId] = session;
        _connector.Sessions[session.Key] = session;
        return null;
    }

    private AttachResult? PlanHttpLocked(TunnelRequest t, LinkRequest request, TunnelsConfig config, HashSet<string> pending, out string name, out NameEntry? existing)
    {
        var token = request.Token;
        existing = null;
        name = "";
        if (t.Name is { } wanted)
        {
            if (!TunnelNames.IsValid(wanted))
                return AttachResult.Refuse(400, LinkErrorCodes.BadRequest, $"'{wanted}' is not a valid tunnel name: {TunnelNames.Rule}.");
            if (ReservedByOther(wanted, token) is { } owner)
                return AttachResult.Refuse(403, LinkErrorCodes.NameNotAllowed, $"The name '{wanted}' is reserved for another token ('{owner}'). Pick another --name, or run without one for a random name.");
            if (token is not null && !token.ReservedNames.Contains(wanted) && !TunnelNamePattern.MatchesAny(wanted, token.AllowedPatterns))
                return AttachResult.Refuse(403, LinkErrorCodes.NameNotAllowed,
                    $"Token '{token.Name}' may not use the name '{wanted}'. "
                    + (token.ReservedNames.IsEmpty && token.AllowedPatterns.IsEmpty
                        ? "It may only use random names: run without --name."
                        : $"Allowed: {string.Join(", ", token.ReservedNames.Concat(token.AllowedPatterns))}."));
            if (StaticRouteHost(wanted, config) is { } host)
                return AttachResult.Refuse(403, LinkErrorCodes.NameNotAllowed, $"'{host}' is served by a route in the edge's config; pick another --name.");
            var key = NameEntry.KeyOf(TunnelKind.Http, wanted);
            if (pending.Contains(key))
                return AttachResult.Refuse(400, LinkErrorCodes.BadRequest, $"The name '{wanted}' is requested twice.");
            if (_names.TryGetValue(key, out var entry))
            {
                var online = entry.Holders.Exists(h => h.IsOnline);
                var sameToken = entry.TokenName == token?.Name;
                if (online && !(sameToken && token is not null && token.AllowPooling))
                    return AttachResult.Refuse(409, LinkErrorCodes.NameInUse,
                        $"The name '{wanted}' is in use by another agent. Stop it first{(token is null ? "" : ", or allow pooling for the token (allow_pooling: true) to share the traffic")}.");
                if (!online && !sameToken)
                    return AttachResult.Refuse(409, LinkErrorCodes.NameInUse, $"The name '{wanted}' is held for an agent that disconnected moments ago; try again after tunnels.reconnect_grace.");
                // Pooled agents serve one route, so one rule list: each must bring the same policy.
                if (online && _policies.TextOf(wanted) != t.Policy)
                    return AttachResult.Refuse(400, LinkErrorCodes.BadPolicy,
                        $"The name '{wanted}' is served by pooled agents with {(t.Policy is null ? "a --policy file" : _policies.TextOf(wanted) is null ? "no --policy" : "a different --policy file")}; every agent sharing a name must use the same one.");
                existing = entry;
            }
            name = wanted;
            return null;
        }
        // A name this agent had before (an edge restart, or its own restart within the grace period)
        // comes back when the token could have it and nobody else holds it; otherwise resume is only
        // a hint and the agent gets a fresh random name. The token rule is the one --name obeys, plus
        // names of the generator's shape, which any token may get at random: without it, resume=
        // would let a token take any free pretty name its allowed_patterns refuse.
        if (t.Resume is { } resume && MayResume(resume, token, config, pending, out existing))
        {
            name = resume;
            return null;
        }
        do name = NameGenerator.Next();
        while (_names.ContainsKey(NameEntry.KeyOf(TunnelKind.Http, name)) || ReservedByOther(name, null) is not null || StaticRouteHost(name, config) is not null);
        return null;
    }

    private bool MayResume(string resume, TunnelTokenConfig? token, TunnelsConfig config, HashSet<string> pending, out NameEntry? existing)
    {
        existing = null;
        if (!TunnelNames.IsValid(resume) || ReservedByOther(resume, token) is not null || StaticRouteHost(resume, config) is not null) return false;
        if (token is not null && !token.ReservedNames.Contains(resume) && !TunnelNamePattern.MatchesAny(resume, token.AllowedPatterns) && !NameGenerator.IsGenerated(resume)) return false;
        var key = NameEntry.KeyOf(TunnelKind.Http, resume);
        if (pending.Contains(key)) return false;
        if (!_names.TryGetValue(key, out var entry)) return true;
        // Held in its grace period: only the same token takes it over, and only from offline holders.
        if (entry.Holders.Exists(h => h.IsOnline) || entry.TokenName != token?.Name) return false;
        existing = entry;
        return true;
    }

    private AttachResult? PlanTcpLocked(TunnelRequest t, TunnelTokenConfig? token, TunnelsConfig config, HashSet<string> pending, out TcpTunnelListener? listener)
    {
        listener = null;
        if (token is not null && !token.AllowTcp)
            return AttachResult.Refuse(403, LinkErrorCodes.TcpNotAllowed, $"Token '{token.Name}' may not open TCP tunnels (allow_tcp: false).");
        var address = TcpBindAddress();
        var wanted = t.Port ?? (int.TryParse(t.Resume, out var r) ? r : null);
        if (wanted is { } port && (config.TcpPortMin == 0 || (port >= config.TcpPortMin && port <= config.TcpPortMax))
            && !_names.ContainsKey(NameEntry.KeyOf(TunnelKind.Tcp, port.ToString(System.Globalization.CultureInfo.InvariantCulture))))
        {
            listener = TcpTunnelListener.TryBind(address, port, this, _connector, _loggers);
            if (listener is not null) return null;
            if (t.Port is not null)
                return AttachResult.Refuse(409, LinkErrorCodes.NameInUse, $"TCP port {port} is in use on the edge; run without a port to get a free one.");
        }
        if (config.TcpPortMin == 0)
        {
            listener = TcpTunnelListener.TryBind(address, 0, this, _connector, _loggers);
        }
        else
        {
            var span = config.TcpPortMax - config.TcpPortMin + 1;
            var start = RandomNumberGenerator.GetInt32(span);
            for (var i = 0; i < span && listener is null; i++)
            {
                var candidate = config.TcpPortMin + (start + i) % span;
                if (_names.ContainsKey(NameEntry.KeyOf(TunnelKind.Tcp, candidate.ToString(System.Globalization.CultureInfo.InvariantCulture)))) continue;
                listener = TcpTunnelListener.TryBind(address, candidate, this, _connector, _loggers);
            }
        }
        return listener is null
            ? AttachResult.Refuse(403, LinkErrorCodes.TcpNotAllowed, $"No TCP port is free in the edge's range {config.TcpPortMin}-{config.TcpPortMax} (tunnels.tcp_ports).")
            : null;
    }

    /// <summary>TCP tunnels listen where the first proxy listener does (all interfaces, or loopback in dev mode).</summary>
    private IPAddress TcpBindAddress()
    {
        var url = _state.Current.Listeners.IsEmpty ? ListenerConfig.Default.Url : _state.Current.Listeners[0].Url;
        if (url.Host is "localhost") return IPAddress.Loopback;
        if (url.Host is "0.0.0.0") return IPAddress.Any;
        return IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) ? ip : IPAddress.Any;
    }

    private int CountNamesLocked(string tokenName)
    {
        var n = 0;
        foreach (var entry in _names.Values)
        {
            if (entry.TokenName == tokenName) n++;
        }
        return n;
    }

    /// <summary>The other token that has this name in its reserved_names, if any (reserved even while its owner is offline).</summary>
    private string? ReservedByOther(string name, TunnelTokenConfig? token)
    {
        foreach (var t in _state.Current.Tunnels.Tokens)
        {
            if (t.ReservedNames.Contains(name) && t.Name != token?.Name) return t.Name;
        }
        return null;
    }

    /// <summary>A host of a config-file route that NAME.DOMAIN would equal: such names belong to that route.</summary>
    private string? StaticRouteHost(string name, TunnelsConfig tunnels)
    {
        foreach (var route in _state.Current.Routes)
        {
            foreach (var host in route.Hosts)
            {
                var colon = host.LastIndexOf(':');
                var bare = colon > 0 ? host[..colon] : host;
                foreach (var domain in tunnels.Domains)
                {
                    if (bare.Length == name.Length + 1 + domain.Length && bare.StartsWith(name, StringComparison.OrdinalIgnoreCase)
                        && bare[name.Length] == '.' && bare.EndsWith(domain, StringComparison.OrdinalIgnoreCase))
                        return host;
                }
            }
        }
        return null;
    }

    private void RequestCertificates(string name, TunnelsConfig config)
    {
        foreach (var domain in config.Domains) _certificates.Request($"{name}.{domain}");
    }

    /// <summary>A name left for good: stop renewing its certificate, unless a token reserves it (its owner comes back).</summary>
    private void ReleaseCertificates(string name, TunnelsConfig config)
    {
        if (ReservedByOther(name, null) is not null) return;
        foreach (var domain in config.Domains) _certificates.Release($"{name}.{domain}");
    }

    /// <summary>A certificate for a tunnel name arrived or its order failed: new URLs for the agents holding it.</summary>
    private void OnCertificateChanged(string host)
    {
        // *.DOMAIN (a wildcard site) concerns every name; NAME.DOMAIN one.
        var all = host.StartsWith("*.", StringComparison.Ordinal);
        var name = all ? null : TunnelNameOf(host);
        if (!all && name is null) return;
        var config = _state.Current.Tunnels;
        var updates = new Dictionary<TunnelSession, ImmutableArray<TunnelGrant>>(); // a session holding several names gets one update
        lock (_lock)
        {
            foreach (var entry in _names.Values)
            {
                if (entry.Kind != TunnelKind.Http || (name is not null && entry.Name != name)) continue;
                foreach (var session in entry.Holders)
                {
                    if (session.Link is not { } link) continue;
                    var grants = session.Grants.Select(g => g.Name == entry.Name && !g.Url.StartsWith("tcp:", StringComparison.Ordinal)
                        ? TunnelUrls.Http(g.Id, entry.Name, link, config, _state, _certificates) : g).ToImmutableArray();
                    if (grants.SequenceEqual(session.Grants)) continue;
                    session.Grants = grants;
                    if (session.IsOnline) updates[session] = grants;
                }
            }
        }
        foreach (var (session, grants) in updates) _ = SendGrantsAsync(session, grants);
    }

    /// <summary>Protocol message 11: the grants again, on the session's link, so the agent prints what is served now.</summary>
    private async Task SendGrantsAsync(TunnelSession session, ImmutableArray<TunnelGrant> grants)
    {
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, TunnelConnector.DestinationAddress(session) + LinkProtocol.GrantsPath.TrimStart('/'))
            {
                Version = System.Net.HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            message.Headers.TryAddWithoutValidation(LinkProtocol.StreamKindHeader, LinkProtocol.StreamKindGrants);
            foreach (var g in grants) message.Headers.TryAddWithoutValidation(LinkProtocol.GrantHeader, g.ToHeaderValue());
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var response = await _connector.Invoker.SendAsync(message, timeout.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or TunnelOfflineException or IOException)
        {
            // The agent is gone or going; it gets the current grants when it links again.
            LogGrantsNotSent(session.Key, e.Message);
        }
    }

    private string PublicUrl(TunnelKind kind, string name, LinkRequest request, TunnelsConfig config)
    {
        if (kind == TunnelKind.Tcp) return $"tcp://{request.PublicHost}:{name}";
        var port = request.PublicPort is { } p ? $":{p}" : "";
        return $"{request.PublicScheme}://{name}.{config.Domains[0]}{port}";
    }

    private static string RandomKey() => "s" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
