using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Edge.Clients;

namespace Portway.Edge.Settings;

/// <summary>
/// One request's walk through a rule chain (RulesMiddleware, and AgentPolicyStep for an agent's
/// policy), handed to every rule of it: the request, and what the rules learn about it once for
/// all of them, the client's address, the user a token named, the headers the server must not
/// get. It is also the response half of the walk: registered before the rules run, so it covers
/// an answer a rule writes too, it applies the response rules among those reached just before
/// the headers go out (the first answer ends the list for both halves).
/// </summary>
/// <remarks>
/// One object per request on a route with rules, and none without. It joins the request's
/// features only once it holds something a later step reads (<see cref="User"/>, a header not
/// to forward: the forwarder, the cache and an agent's policy read it); until then every rule
/// reads it from here, where a feature lookup on Kestrel's collection walks some forty types.
/// </remarks>
internal sealed class RuleRequest
{
    private static readonly Func<object, Task> s_onStarting = OnStarting;

    private readonly RuleChain _chain;
    private IPAddress? _client;
    private bool _clientKnown;
    private ClaimsPrincipal? _user;
    private bool _published;

    /// <param name="earlier">The walk of the same request before this one (the operator's rules before an agent's policy): what it learned carries over.</param>
    public RuleRequest(HttpContext context, RuleChain chain, string routeId, ILogger logger, RuleRequest? earlier = null)
    {
        HttpContext = context;
        RouteId = routeId;
        Logger = logger;
        _chain = chain;
        if (earlier is not null)
        {
            (_client, _clientKnown, _user, Unforwarded) = (earlier._client, earlier._clientKnown, earlier._user, earlier.Unforwarded);
            if (earlier._published) Publish();
        }
        if (chain.ChangesResponse) context.Response.OnStarting(s_onStarting, this);
    }

    public HttpContext HttpContext { get; }

    /// <summary>The matched route's id, for logs and the <c>route</c> rate-limit key.</summary>
    public string RouteId { get; }

    /// <summary>The walk's logger (rules log refusals at most once per request).</summary>
    public ILogger Logger { get; }

    /// <summary>How many rules of the chain the walk has reached, the current one included.</summary>
    public int Reached { get; set; }

    /// <summary>The client's address (<see cref="ClientAddress"/>), looked up once for every rule that asks.</summary>
    public IPAddress? Client
    {
        get
        {
            if (!_clientKnown)
            {
                _client = ClientAddress.Of(HttpContext);
                _clientKnown = true;
            }
            return _client;
        }
    }

    /// <summary>
    /// The user a <c>jwt</c> rule accepted (its token's claims), for <c>claim:</c> rate-limit keys;
    /// else whoever set <c>HttpContext.User</c> before the rules. Kept here rather than in
    /// <c>HttpContext.User</c>, whose setter adds a feature to every request that passes a token,
    /// and which nothing else on the edge reads.
    /// </summary>
    public ClaimsPrincipal User
    {
        get => _user ?? HttpContext.User;
        set
        {
            _user = value;
            Publish();
        }
    }

    /// <summary>The headers marked not to be forwarded (<see cref="UnforwardedHeader"/>), newest first.</summary>
    public UnforwardedHeader? Unforwarded { get; private set; }

    /// <summary>Drops <paramref name="header"/> from the request the server gets; <paramref name="header"/> is the rule's own instance, so the usual case allocates nothing.</summary>
    public void DoNotForward(UnforwardedHeader header)
    {
        for (var h = Unforwarded; h is not null; h = h.Next)
        {
            if (string.Equals(h.Name, header.Name, StringComparison.OrdinalIgnoreCase)) return;
        }
        Unforwarded = Unforwarded is null && header.Next is null ? header : new UnforwardedHeader(header.Name, Unforwarded);
        Publish();
    }

    /// <summary>The walk of this request that later steps read; null when the rules learned nothing they need (or there were none).</summary>
    /// <remarks>By the collection's indexer, not <c>Get&lt;T&gt;</c>: a generic virtual call that, on Kestrel's collection, asks the connection's features too on a miss, the usual case.</remarks>
    public static RuleRequest? Of(HttpContext context) => (RuleRequest?)context.Features[typeof(RuleRequest)];

    private void Publish()
    {
        if (_published) return;
        _published = true;
        HttpContext.Features[typeof(RuleRequest)] = this;
    }

    private static Task OnStarting(object state)
    {
        var request = (RuleRequest)state;
        var rules = request._chain.Rules;
        foreach (var i in request._chain.ResponseRules)
        {
            if (i >= request.Reached) break;
            rules[i].OnResponse(request.HttpContext);
        }
        return Task.CompletedTask;
    }
}
