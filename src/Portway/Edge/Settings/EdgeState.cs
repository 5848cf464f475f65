using Portway.Configuration;

namespace Portway.Edge.Settings;

/// <summary>
/// The config currently in force. Middleware reads <see cref="Current"/> per request (one volatile
/// read), so a reload takes effect for the next request without locks.
/// </summary>
internal sealed class EdgeState(PortwayConfig initial)
{
    private volatile PortwayConfig _current = initial;

    public PortwayConfig Current => _current;

    public event Action<PortwayConfig>? Changed;

    /// <summary>The proxy listeners as bound (scheme, port), known once the server started; for public tunnel URLs.</summary>
    public System.Collections.Immutable.ImmutableArray<(string Scheme, int Port)> ProxyPorts { get; set; } = [];

    public void Set(PortwayConfig config)
    {
        _current = config;
        Changed?.Invoke(config);
    }
}
