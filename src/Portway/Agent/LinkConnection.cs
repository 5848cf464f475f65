using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Portway.Agent;

/// <summary>
/// An activated link as a Kestrel connection: the edge's HTTP/2 client is on the other end, so
/// to Kestrel it looks like any accepted client connection. Disposed exactly once (by Kestrel when
/// the HTTP/2 connection ends, or by the agent on shutdown); disposal closes the link.
/// </summary>
internal sealed class LinkConnection : ConnectionContext, IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature, IConnectionEndPointFeature
{
    private readonly Stream _stream;
    private readonly Action<LinkConnection> _onClosed;
    private readonly CancellationTokenSource _closed = new();
    private int _disposed;

    public LinkConnection(Stream stream, EndPoint edge, Action<LinkConnection> onClosed)
    {
        _stream = stream;
        _onClosed = onClosed;
        // Large reads and writes: the prototype found bulk throughput bound by the number of
        // wake-ups per byte, so the link moves 64 KiB at a time where it can.
        var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
        Transport = new DuplexPipe(input, output);
        RemoteEndPoint = edge;
        LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0);
        ConnectionClosed = _closed.Token;
        Features.Set<IConnectionIdFeature>(this);
        Features.Set<IConnectionTransportFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IConnectionEndPointFeature>(this);
    }

    public override string ConnectionId { get; set; } = "link-" + Guid.NewGuid().ToString("N")[..12];
    public override IFeatureCollection Features { get; } = new FeatureCollection();
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    public override IDuplexPipe Transport { get; set; }
    public override EndPoint? LocalEndPoint { get; set; }
    public override EndPoint? RemoteEndPoint { get; set; }
    public override CancellationToken ConnectionClosed { get; set; }

    public override void Abort(ConnectionAbortedException abortReason) => _ = DisposeAsync();

    public override ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return ValueTask.CompletedTask;
        Transport.Input.CancelPendingRead();
        Transport.Output.CancelPendingFlush();
        _stream.Dispose();
        _closed.Cancel();
        _onClosed(this);
        return ValueTask.CompletedTask;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
