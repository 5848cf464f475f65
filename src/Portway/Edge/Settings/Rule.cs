using Microsoft.AspNetCore.Http;
using Portway.Configuration;

namespace Portway.Edge.Settings;

/// <summary>
/// One compiled rule, immutable, built once per config change by its kind (Edge/Rules) and shared
/// by every request. A rule passes (returns null, maybe having changed the request), or answers
/// (returns the task writing the response: 403, 429, 401, a redirect, a fixed body); the first
/// answer ends the list. Rules that change the response say so with <see cref="ChangesResponse"/>.
/// </summary>
internal abstract class Rule(RuleConfig config) : IDisposable
{
    /// <summary>What it was built from: a reload keeps the instance (and its state, e.g. buckets) when this is equal.</summary>
    public RuleConfig Config { get; } = config;

    /// <summary>Null to pass on; else the answer. Synchronous when passing: no allocation on that path.
    /// An <see cref="IsAsync"/> rule implements <see cref="OnRequestAsync"/> and may throw here.</summary>
    public abstract Task? OnRequest(RuleRequest request);

    /// <summary>
    /// True for a rule that may have to wait before it can pass or answer (a request body to
    /// read, a key set or an auth service to ask). The walk calls <see cref="OnRequestAsync"/> for it and
    /// turns asynchronous only when that does not finish at once.
    /// </summary>
    public virtual bool IsAsync => false;

    /// <summary>
    /// For an <see cref="IsAsync"/> rule: true when it answered (the response is written), false to
    /// pass on. The default runs <see cref="OnRequest"/>, so sync rules need not implement it.
    /// </summary>
    public virtual async ValueTask<bool> OnRequestAsync(RuleRequest request)
    {
        if (OnRequest(request) is not { } answer) return false;
        await answer;
        return true;
    }

    /// <summary>
    /// True for a rule that must run the rest of the request inside itself: <c>compress</c> wraps the
    /// response body for the later rules, the cache and the server, and finishes it once they are
    /// done. Such a rule has no <see cref="OnRequest"/> of its own; chains holding one take the async path.
    /// </summary>
    public virtual bool Wraps => false;

    /// <summary>For a <see cref="Wraps"/> rule: runs <paramref name="rest"/> (the later rules, then the pipeline) inside itself.</summary>
    public virtual Task WrapAsync(RuleRequest request, RequestDelegate rest) => rest(request.HttpContext);

    /// <summary>True when <see cref="OnResponse"/> does something; only then is a response callback registered.</summary>
    public virtual bool ChangesResponse => false;

    /// <summary>Just before the response headers go out (the server's response, or another rule's answer).</summary>
    public virtual void OnResponse(HttpContext context) { }

    public virtual void Dispose() { }
}
