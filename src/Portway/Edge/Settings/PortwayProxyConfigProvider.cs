using Yarp.ReverseProxy.Configuration;

namespace Portway.Edge.Settings;

/// <summary>
/// Feeds the file's routes and clusters to YARP and their typed settings to Portway's middleware.
/// <see cref="Update"/> swaps the whole <see cref="ProxySnapshot"/> in one volatile write; YARP
/// applies its part between requests, so in-flight and keep-alive requests are untouched.
/// Between the swap and YARP applying it a request may still be routed by the previous snapshot
/// while reading the new settings of its route or cluster; a route or cluster that left the
/// config gets the defaults for those few requests.
/// </summary>
internal sealed class PortwayProxyConfigProvider(ProxySnapshot initial, IRuleCompiler rules) : IProxyConfigProvider
{
    private volatile ProxySnapshot _current = initial;

    /// <summary>The edge's rule compiler (with its services): every later snapshot and the agents' policies are compiled with it.</summary>
    public IRuleCompiler Rules { get; } = rules;

    public IProxyConfig GetConfig() => _current;

    /// <summary>The settings in force: one volatile read.</summary>
    public EdgeSettings Settings => _current.Settings;

    public void Update(ProxySnapshot next)
    {
        var old = _current;
        _current = next;
        old.SignalChange();
    }
}
