using Microsoft.AspNetCore.Http;

namespace Portway.Edge.Settings;

/// <summary>
/// The response half of a rule walk: registered before the rules run, so it also covers an answer
/// a rule writes, it runs just before the response headers go out and applies the response rules
/// among those reached (the first answer ends the list for both halves). Allocated only for
/// chains with a response rule.
/// </summary>
internal sealed class ResponseRules
{
    private static readonly Func<object, Task> s_onStarting = OnStarting;

    private readonly RuleChain _chain;
    private readonly HttpContext _context;

    private ResponseRules(RuleChain chain, HttpContext context)
    {
        _chain = chain;
        _context = context;
    }

    /// <summary>How many rules of the chain the walk has reached, the current one included.</summary>
    public int Reached { get; set; }

    /// <summary>Registers the response half for this request; null when the chain changes no response.</summary>
    public static ResponseRules? Register(RuleChain chain, HttpContext context)
    {
        if (!chain.ChangesResponse) return null;
        var pass = new ResponseRules(chain, context);
        context.Response.OnStarting(s_onStarting, pass);
        return pass;
    }

    private static Task OnStarting(object state)
    {
        var pass = (ResponseRules)state;
        var rules = pass._chain.Rules;
        foreach (var i in pass._chain.ResponseRules)
        {
            if (i >= pass.Reached) break;
            rules[i].OnResponse(pass._context);
        }
        return Task.CompletedTask;
    }
}
