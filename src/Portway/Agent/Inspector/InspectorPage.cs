using Microsoft.AspNetCore.Http;

namespace Portway.Agent.Inspector;

/// <summary>
/// The inspector's one page (inspector.html beside this file, embedded in the binary): plain
/// HTML, CSS and JavaScript with no CDN or build step, so it works offline and in an air-gapped
/// lab. It renders from the JSON API and follows /api/events.
/// </summary>
internal static class InspectorPage
{
    private static readonly Lazy<byte[]> Html = new(Load);

    // Everything is inline and talks only to this origin; captured bodies are inserted as text,
    // and the policy is the second fence should one ever be inserted as markup. frame-ancestors
    // stops another site from framing the Replay button (clickjacking).
    private const string Policy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    public static Task WriteAsync(HttpContext context)
    {
        var response = context.Response;
        var body = Html.Value;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.ContentSecurityPolicy = Policy;
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static byte[] Load()
    {
        using var stream = typeof(InspectorPage).Assembly.GetManifestResourceStream("Portway.Agent.Inspector.inspector.html")
            ?? throw new InvalidOperationException("the inspector page is missing from the build (EmbeddedResource in Portway.csproj)");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
