using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Portway.Agent.Inspector;

/// <summary>
/// The response body as seen by everything after the inspector: the same server feature, except
/// that its Stream and Writer pass through a <see cref="BodyCaptureStream"/>. Start, completion and
/// buffering still go to the server's own feature, so an upgraded (WebSocket) response or a
/// streamed one (SSE) behaves exactly as without the inspector.
/// </summary>
internal sealed class CaptureResponseBodyFeature(IHttpResponseBodyFeature prior, int limit) : IHttpResponseBodyFeature
{
    private readonly BodyCaptureStream _stream = new(prior.Stream, limit);
    private PipeWriter? _writer;

    public IHttpResponseBodyFeature Prior => prior;
    public Stream Stream => _stream;

    // Created only if someone writes through the pipe (error pages do; YARP writes to the Stream).
    public PipeWriter Writer => _writer ??= PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));

    public CapturedBody Captured => _stream.Snapshot();

    public void DisableBuffering() => prior.DisableBuffering();

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_writer is not null) await _writer.FlushAsync(cancellationToken);
        await prior.StartAsync(cancellationToken);
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        SendFileFallback.SendFileAsync(_stream, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        await FlushWriterAsync();
        await prior.CompleteAsync();
    }

    /// <summary>Pushes anything still in the pipe through to the server's stream; called before the server's feature is put back.</summary>
    public async Task FlushWriterAsync()
    {
        if (_writer is null) return;
        var writer = _writer;
        _writer = null;
        await writer.CompleteAsync();
    }
}
