using Microsoft.Extensions.DependencyInjection;

namespace Portway.Edge.Settings;

/// <summary>
/// The edge's services for compiled rules (the clock, the geo table in force, the state
/// directory), handed to them when they are compiled rather than fetched per request through
/// <c>HttpContext.RequestServices</c>: the first use of that creates a DI scope for the request
/// (two objects and a dispose registration), which a request through rules otherwise never needs.
/// Rules are compiled from the first config before the host is built, so the host's services
/// are attached once it is (<see cref="Attach"/>), before any request.
/// </summary>
internal sealed class RuleServices
{
    /// <summary>For settings built outside an edge (tests of the config model): a rule that asks for a service there fails, saying so.</summary>
    public static readonly RuleServices Detached = new();

    private IServiceProvider? _root;
    private TimeProvider? _time;

    public void Attach(IServiceProvider root) => _root = root;

    /// <summary>The edge's clock (a test's fake one when registered), looked up once.</summary>
    public TimeProvider Time => _time ??= Find<TimeProvider>() ?? TimeProvider.System;

    public T Get<T>() where T : notnull => Root.GetRequiredService<T>();

    public T? Find<T>() where T : class => Root.GetService<T>();

    private IServiceProvider Root =>
        _root ?? throw new InvalidOperationException("a rule asked for the edge's services outside a running edge");
}
