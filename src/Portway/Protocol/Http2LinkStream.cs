namespace Portway.Protocol;

/// <summary>
/// One HTTP/2 extended CONNECT stream (RFC 8441) as the link. SocketsHttpHandler already hands out
/// the response body of an extended CONNECT as a read/write stream (reads = the edge's DATA frames,
/// writes = ours); this wrapper only ties the connection's lifetime to it: disposing the link ends
/// the stream, the response, and the connection (one per link).
/// </summary>
internal sealed class Http2LinkStream(Stream inner, HttpResponseMessage response, HttpMessageInvoker invoker) : DelegatingStream(inner)
{
    private int _disposed;

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0) Close(Inner, response, invoker);
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private static void Close(Stream inner, HttpResponseMessage response, HttpMessageInvoker invoker)
    {
        inner.Dispose();
        response.Dispose();
        invoker.Dispose();
    }
}
