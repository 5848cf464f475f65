using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;

namespace Portway.Agent.Inspector;

/// <summary>
/// Everything served on the inspector's address: the page at /, and the JSON API under /api
/// (docs/inspector.md). Captured requests carry cookies and tokens, so two browser attacks are
/// refused here even on loopback: DNS rebinding (a site whose name resolves to 127.0.0.1 reading
/// the API; only IP literals and localhost are accepted as Host) and cross-site POST/DELETE from a
/// page on another origin (the Origin header, when sent, must be this inspector's).
/// </summary>
internal sealed class InspectorApi(InspectorStore store, RequestReplayer replayer, IHostApplicationLifetime lifetime, TimeProvider time)
{
    private const string Json = "application/json; charset=utf-8";

    /// <summary>A comment line on idle event streams, so proxies and browsers keep the stream open and a gone page is noticed.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    public Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        if (!IsLocalName(request.Host))
            return Problem(context, 403, $"the inspector answers only to an IP address or localhost, not '{request.Host}' (protection against DNS rebinding); open it as http://127.0.0.1:{context.Connection.LocalPort}/");
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !SameOrigin(request))
            return Problem(context, 403, "cross-origin requests may not change the inspector");

        var path = request.Path.Value ?? "/";
        if (path is "/" or "/index.html") return Only(context, "GET", static c => InspectorPage.WriteAsync(c));
        if (path == "/api/requests")
        {
            if (HttpMethods.IsDelete(request.Method))
            {
                store.Clear();
                response.StatusCode = 204;
                return Task.CompletedTask;
            }
            return Only(context, "GET, DELETE", c => WriteJsonAsync(c, 200, w => InspectorJson.WriteList(w, store.Snapshot())));
        }
        if (path == "/api/events") return Only(context, "GET", StreamEventsAsync);
        if (path.StartsWith("/api/requests/", StringComparison.Ordinal))
        {
            var rest = path["/api/requests/".Length..];
            var replay = rest.EndsWith("/replay", StringComparison.Ordinal);
            if (replay) rest = rest[..^"/replay".Length];
            if (!long.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return Problem(context, 404, $"no such path: {path}");
            if (store.Find(id) is not { } entry) return Problem(context, 404, $"request {id} is not kept any more (the inspector keeps the last {store.Options.Capacity})");
            return replay
                ? Only(context, "POST", c => ReplayAsync(c, entry))
                : Only(context, "GET", c => WriteJsonAsync(c, 200, w => InspectorJson.WriteDetail(w, entry)));
        }
        return Problem(context, 404, $"no such path: {path}; the API is GET /api/requests, GET /api/requests/ID, POST /api/requests/ID/replay, DELETE /api/requests, GET /api/events");
    }

    private async Task ReplayAsync(HttpContext context, CapturedExchange original)
    {
        var body = await ReadSmallBodyAsync(context.Request, store.Options.BodyLimit * 2L);
        if (body is null)
        {
            await Problem(context, 413, $"a replay's edits may be at most {store.Options.BodyLimit * 2} bytes of JSON");
            return;
        }
        if (ReplayEdits.Parse(body, out var parseError) is not { } edits)
        {
            await Problem(context, 400, parseError);
            return;
        }
        var (entry, error) = await replayer.ReplayAsync(original, edits, context.RequestAborted);
        if (entry is null)
        {
            await Problem(context, 409, error!);
            return;
        }
        await WriteJsonAsync(context, 201, w => InspectorJson.WriteDetail(w, entry));
    }

    private async Task StreamEventsAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        using var subscription = store.Subscribe();
        // Ends with the page or with the agent; without the latter a page left open would hold
        // the agent's shutdown for Kestrel's whole drain timeout.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var ct = stop.Token;
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            // The first bytes make the browser (and a test's client) see the stream as open.
            await response.WriteAsync(": portway inspector\n\n", ct);
            await response.Body.FlushAsync(ct);
            var waiting = subscription.Reader.WaitToReadAsync(ct).AsTask();
            var beat = Task.Delay(Heartbeat, time, ct);
            while (true)
            {
                if (await Task.WhenAny(waiting, beat) == beat)
                {
                    ct.ThrowIfCancellationRequested();
                    await response.WriteAsync(": ping\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    beat = Task.Delay(Heartbeat, time, ct);
                    continue;
                }
                if (!await waiting) return;
                while (subscription.Reader.TryRead(out var e))
                {
                    buffer.ResetWrittenCount();
                    WriteEvent(buffer, e);
                    await response.Body.WriteAsync(buffer.WrittenMemory, ct);
                }
                await response.Body.FlushAsync(ct);
                waiting = subscription.Reader.WaitToReadAsync(ct).AsTask();
            }
        }
        catch (OperationCanceledException)
        {
            // The page went away or the agent is stopping.
        }
        catch (IOException)
        {
            // The page's connection broke mid-write.
        }
    }

    /// <summary>One SSE event (WHATWG HTML §9.2): "request" with the summary JSON, or "clear".</summary>
    private static void WriteEvent(ArrayBufferWriter<byte> buffer, InspectorEvent e)
    {
        if (e.Entry is not { } entry)
        {
            buffer.Write("event: clear\ndata: {}\n\n"u8);
            return;
        }
        buffer.Write("id: "u8);
        buffer.Write(Encoding.ASCII.GetBytes(entry.Id.ToString(CultureInfo.InvariantCulture)));
        buffer.Write("\nevent: request\ndata: "u8);
        using (var w = new Utf8JsonWriter(buffer)) InspectorJson.WriteSummary(w, entry);
        buffer.Write("\n\n"u8);
    }

    private static Task Only(HttpContext context, string allowed, Func<HttpContext, Task> handler)
    {
        var method = context.Request.Method;
        foreach (var m in allowed.Split(", "))
        {
            if (method == m || (m == "GET" && HttpMethods.IsHead(method))) return handler(context);
        }
        context.Response.Headers.Allow = allowed;
        return Problem(context, 405, $"{method} is not allowed here; use {allowed}");
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false })) write(w);
        context.Response.StatusCode = status;
        context.Response.ContentType = Json;
        context.Response.ContentLength = buffer.WrittenCount;
        if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    private static Task Problem(HttpContext context, int status, string message) =>
        WriteJsonAsync(context, status, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        });

    private static async Task<byte[]?> ReadSmallBodyAsync(HttpRequest request, long limit)
    {
        if (request.ContentLength > limit) return null;
        var output = new MemoryStream();
        var buffer = new byte[8192];
        int n;
        while ((n = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
        {
            if (output.Length + n > limit) return null;
            output.Write(buffer, 0, n);
        }
        return output.ToArray();
    }

    private static bool IsLocalName(HostString host)
    {
        var name = host.Host;
        if (name.Length == 0) return false;
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(name.Trim('[', ']'), out _);
    }

    private static bool SameOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        // Non-browser clients (curl, scripts) send no Origin; browsers always send it on POST and DELETE.
        if (origin.Length == 0) return true;
        return origin.Equals("http://" + request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
