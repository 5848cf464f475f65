using Microsoft.AspNetCore.Http;

namespace Portway.Edge.ErrorPages;

/// <summary>
/// The request's id (the client's, or one the edge made up), kept once per request for the
/// pages that print it and for the response header that echoes it. One object does both: it is
/// the response callback's state too, where a boxed tuple was. It replaced an entry in
/// <c>HttpContext.Items</c>, whose first use builds a dictionary and its feature (about 390
/// bytes more per proxied request, docs/benchmarks.md).
/// </summary>
internal sealed class RequestId
{
    private static readonly Func<object, Task> s_echo = Echo;

    private readonly HttpContext _context;
    private readonly string _header;

    private RequestId(HttpContext context, string header, string value)
    {
        _context = context;
        _header = header;
        Value = value;
    }

    public string Value { get; }

    /// <summary>Gives <paramref name="context"/> the id <paramref name="value"/>, sent back in <paramref name="header"/> on the response.</summary>
    public static void Assign(HttpContext context, string header, string value)
    {
        var id = new RequestId(context, header, value);
        context.Features[typeof(RequestId)] = id;
        context.Response.OnStarting(s_echo, id);
    }

    /// <summary>The request's id; null before <see cref="Assign"/> ran (the admin listener, a tunnel link).</summary>
    /// <remarks>By the collection's indexer, not <c>Get&lt;T&gt;</c> (see ClientAddress).</remarks>
    public static string? Of(HttpContext context) => ((RequestId?)context.Features[typeof(RequestId)])?.Value;

    private static Task Echo(object state)
    {
        var id = (RequestId)state;
        id._context.Response.Headers[id._header] = id.Value;
        return Task.CompletedTask;
    }
}
