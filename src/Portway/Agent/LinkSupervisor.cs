using System.Collections.Immutable;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using Portway.Protocol;

namespace Portway.Agent;

/// <summary>
/// Keeps the agent's links to the edge: at least <see cref="AgentOptions.MinLinks"/>, one of them
/// always an idle spare, so the edge never waits for a dial when it needs a connection. Lost links
/// are redialed with exponential back-off and jitter; a permanent refusal (bad token, name not
/// allowed) stops the agent through <see cref="Stopped"/>.
/// </summary>
internal sealed class LinkSupervisor : IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly LinkListener _listener;
    private readonly AgentStatus _status;
    private readonly Backoff _backoff;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly HashSet<Stream> _spareStreams = [];
    private readonly HashSet<LinkConnection> _activeLinks = [];
    private int _spares, _active, _dialing;
    private long _dialed;
    private ImmutableArray<TunnelGrant> _grants = [];
    private volatile bool _preferHttp2;

    public LinkSupervisor(AgentOptions options, LinkListener listener, AgentStatus status)
    {
        _options = options;
        _listener = listener;
        _status = status;
        _backoff = new Backoff(options.BackoffMin, options.BackoffMax);
    }

    /// <summary>Identifies this agent process to the edge: links with the same id form one session.</summary>
    public string AgentId { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Links established since start (a steady value means no churn; tests and the screen read it).</summary>
    public long Dialed => Interlocked.Read(ref _dialed);

    /// <summary>Faults with <see cref="LinkRefusedException"/> when the edge refuses for good.</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>
    /// Dials the first link. A refusal is thrown (the CLI exits with its message); an unreachable
    /// edge is not: the agent keeps retrying in the background and says so.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_gate) _dialing++;
        Stream? first = null;
        try
        {
            first = await DialOnceAsync(cancellationToken);
        }
        catch (LinkRefusedException e) when (e.Permanent)
        {
            _status.Fail(e.Message);
            throw;
        }
        catch (Exception e) when (e is IOException or SocketException or HttpRequestException or AuthenticationException or InvalidDataException or LinkRefusedException or TimeoutException or OperationCanceledException)
        {
            _status.Reconnecting($"cannot reach the edge at {_options.Edge}: {Describe(e)}{(IsLocal(_options.Edge) ? " (is `portway serve` running?)" : "")}");
        }
        lock (_gate) _dialing--;
        if (first is not null) Accepted(first);
        EnsureLinks();
    }

    private void EnsureLinks()
    {
        int need;
        lock (_gate)
        {
            if (_stop.IsCancellationRequested) return;
            need = Math.Max(_spares + _dialing < 1 ? 1 : 0, _options.MinLinks - (_spares + _active + _dialing));
            _dialing += need;
        }
        for (var i = 0; i < need; i++) _ = DialLoopAsync();
    }

    private async Task DialLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var link = await DialOnceAsync(_stop.Token);
                lock (_gate) _dialing--;
                _backoff.Reset();
                Accepted(link);
                return;
            }
            catch (LinkRefusedException e) when (e.Permanent)
            {
                _status.Fail(e.Message);
                _stopped.TrySetException(e);
                _stop.Cancel();
                break;
            }
            catch (Exception e) when (!_stop.IsCancellationRequested)
            {
                var wait = _backoff.Next();
                _status.Reconnecting($"reconnecting in {wait.TotalSeconds:0.0}s: {Describe(e)}");
                try
                {
                    await Task.Delay(wait, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            catch (Exception)
            {
                break;
            }
        }
        lock (_gate) _dialing--;
    }

    private void Accepted(Stream link)
    {
        Interlocked.Increment(ref _dialed);
        lock (_gate)
        {
            _spares++;
            _spareStreams.Add(link);
        }
        PublishLinks();
        _ = StandbyAsync(link);
    }

    private async Task StandbyAsync(Stream link)
    {
        var activated = await StandbyResponder.WaitForActivationAsync(link, _stop.Token);
        LinkConnection? connection = null;
        lock (_gate)
        {
            _spares--;
            _spareStreams.Remove(link);
            if (activated && !_stop.IsCancellationRequested)
            {
                _active++;
                connection = new LinkConnection(link, new DnsEndPoint(_options.Edge.Host, _options.Edge.Port), OnConnectionClosed);
                _activeLinks.Add(connection);
            }
        }
        if (connection is null) await link.DisposeAsync();
        else if (!_listener.Offer(connection)) await connection.DisposeAsync();
        PublishLinks();
        EnsureLinks();
    }

    private void OnConnectionClosed(LinkConnection connection)
    {
        lock (_gate)
        {
            if (!_activeLinks.Remove(connection)) return;
            _active--;
        }
        PublishLinks();
        EnsureLinks();
    }

    private void PublishLinks()
    {
        if (_stop.IsCancellationRequested) return; // shutting down: not a lost session
        int links;
        lock (_gate) links = _spares + _active;
        _status.SetLinks(links);
    }

    private async Task<Stream> DialOnceAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var http2First = _options.Link == LinkTransport.Http2 || (_options.Link == LinkTransport.Auto && _preferHttp2);
        UpgradeResponse? response = null;
        Exception? failure = null;
        try
        {
            response = http2First ? await DialHttp2Async(timeout.Token) : await DialHttp1Async(timeout.Token);
        }
        catch (Exception e) when (_options.Link == LinkTransport.Auto && IsWrongProtocol(e))
        {
            failure = e;
        }
        if (_options.Link == LinkTransport.Auto && (failure is not null || !FromPortway(response!)))
        {
            // auto: the listener speaks the other HTTP version (Kestrel answers an HTTP/1.1 request
            // on a `protocols: http2` listener with a plain 400); try it, and remember what worked
            // so later dials go straight there.
            try
            {
                var other = http2First ? await DialHttp1Async(timeout.Token) : await DialHttp2Async(timeout.Token);
                if (FromPortway(other)) _preferHttp2 = !http2First;
                if (FromPortway(other) || response is null) response = other;
            }
            catch (Exception)
            {
                // Keep the first answer (or failure): it says best what is listening there, and a
                // certificate problem is reported the same whichever version was tried first.
            }
        }
        if (response is null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure!);
        if (response.Link is null)
        {
            var message = response.Body.Length > 0 ? response.Body : $"the edge answered {response.StatusCode} {response.Reason}";
            throw new LinkRefusedException(response.StatusCode, response.Header(LinkProtocol.ErrorHeader), message);
        }
        var grants = ImmutableArray.CreateBuilder<TunnelGrant>();
        foreach (var value in response.HeaderValues(LinkProtocol.GrantHeader))
        {
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (TunnelGrant.TryParse(part, out var grant)) grants.Add(grant);
            }
        }
        lock (_gate) _grants = grants.ToImmutable();
        _status.SetGrants(_grants);
        return response.Link;
    }

    /// <summary>The link request over HTTP/1.1 (Upgrade), on a connection of its own.</summary>
    private async Task<UpgradeResponse> DialHttp1Async(CancellationToken cancellationToken)
    {
        var edge = _options.Edge;
        var stream = await LinkSocket.ConnectAsync(new DnsEndPoint(edge.Host, edge.Port), cancellationToken);
        try
        {
            if (edge.Scheme == "https")
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(LinkTls.ClientOptions(edge.IdnHost, _options.EdgeCaFile, _options.Insecure), cancellationToken);
            }
            var response = await UpgradeClient.SendAsync(stream, edge.IsDefaultPort ? edge.IdnHost : $"{edge.IdnHost}:{edge.Port}", Headers(), cancellationToken);
            if (response.StatusCode != 101) await stream.DisposeAsync();
            return response;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>The link request over HTTP/2 (extended CONNECT), on a connection of its own, with the same socket and TLS options.</summary>
    private Task<UpgradeResponse> DialHttp2Async(CancellationToken cancellationToken)
    {
        var edge = _options.Edge;
        var tls = edge.Scheme == "https" ? LinkTls.ClientOptions(edge.IdnHost, _options.EdgeCaFile, _options.Insecure) : null;
        return Http2LinkClient.SendAsync(edge, tls, static (context, ct) => LinkSocket.ConnectAsync(context.DnsEndPoint, ct), Headers(), cancellationToken);
    }

    /// <summary>A link, or a refusal a Portway edge wrote (it always names a code); anything else came from something that is not the link endpoint.</summary>
    private static bool FromPortway(UpgradeResponse response) => response.Link is not null || response.Header(LinkProtocol.ErrorHeader) is not null;

    /// <summary>
    /// Failures that mean "this listener speaks the other HTTP version", not "the edge is down":
    /// HTTP/1.1 text to an HTTP/2-only listener gets a GOAWAY or a close instead of a status line;
    /// an HTTP/2 preface to an HTTP/1.1 listener gets a 400 or a close; ALPN without h2 fails version negotiation,
    /// and ALPN offering only http/1.1 to an h2-only listener fails the handshake.
    /// </summary>
    private static bool IsWrongProtocol(Exception e) => e switch
    {
        InvalidDataException or EndOfStreamException => true,
        // TLS with ALPN and no common protocol ends in a no_application_protocol alert (RFC 7301 §3.2),
        // which .NET does not tell apart portably from other handshake failures; the retry costs one handshake.
        AuthenticationException => true,
        HttpRequestException h => h.HttpRequestError is HttpRequestError.InvalidResponse or HttpRequestError.HttpProtocolError
            or HttpRequestError.VersionNegotiationError or HttpRequestError.ExtendedConnectNotSupported or HttpRequestError.ResponseEnded,
        IOException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionReset } } => true,
        _ => false,
    };

    private List<KeyValuePair<string, string>> Headers()
    {
        var headers = new List<KeyValuePair<string, string>>
        {
            new("User-Agent", "portway-agent/" + typeof(LinkSupervisor).Assembly.GetName().Version?.ToString(3)),
            new(LinkProtocol.AgentHeader, AgentId),
        };
        if (!string.IsNullOrEmpty(_options.Token)) headers.Add(new("Authorization", "Bearer " + _options.Token));
        ImmutableArray<TunnelGrant> grants;
        lock (_gate) grants = _grants;
        foreach (var t in _options.Tunnels)
        {
            // After an edge restart, ask for the name (or port) this agent had, so its URL survives.
            string? previous = null;
            foreach (var g in grants)
            {
                if (g.Id == t.Id) previous = g.Name;
            }
            var request = new TunnelRequest(t.Kind, t.Id, t.Name, t.Name is null ? previous : null, t.RemotePort, t.Policy);
            headers.Add(new(LinkProtocol.TunnelHeader, request.ToHeaderValue()));
        }
        return headers;
    }

    private static bool IsLocal(Uri edge) => edge.IsLoopback;

    private static string Describe(Exception e) => e switch
    {
        SocketException s when s.SocketErrorCode == SocketError.ConnectionRefused => "connection refused",
        OperationCanceledException => "timed out",
        _ => e.InnerException is SocketException inner ? Describe(inner) : e.Message,
    };

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        Stream[] spares;
        LinkConnection[] active;
        lock (_gate)
        {
            spares = [.. _spareStreams];
            active = [.. _activeLinks];
        }
        foreach (var s in spares) await s.DisposeAsync();
        foreach (var c in active) await c.DisposeAsync();
        _stopped.TrySetResult();
    }
}
