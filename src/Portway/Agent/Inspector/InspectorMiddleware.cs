using Microsoft.AspNetCore.Http;
using Portway.Protocol;

namespace Portway.Agent.Inspector;

/// <summary>
/// The agent's request-path step that records each visitor request for the inspector. It sits
/// right after the observer (so it sees visitor-rule refusals as well as forwarded requests) and
/// is left out of the pipeline entirely when the inspector is off. TCP streams are connections,
/// not requests, and pass untouched.
/// </summary>
internal sealed class InspectorMiddleware(RequestDelegate next, InspectorStore store, TimeProvider time)
{
    private readonly int _bodyLimit = store.Options.BodyLimit;

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Headers[LinkProtocol.StreamKindHeader] == LinkProtocol.StreamKindTcp)
        {
            await next(context);
            return;
        }
        var capture = ExchangeCapture.Begin(context, _bodyLimit, time);
        try
        {
            await next(context);
        }
        finally
        {
            store.Add(await capture.EndAsync());
        }
    }
}
