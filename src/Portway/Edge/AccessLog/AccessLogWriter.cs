using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;

namespace Portway.Edge.AccessLog;

/// <summary>
/// Writes the access log as JSON lines on a background task. The request path only enqueues a
/// struct; when the queue is full (a disk slower than the traffic) lines are dropped and counted
/// rather than slowing requests down, as nginx's buffered access_log also trades completeness for latency.
/// </summary>
internal sealed partial class AccessLogWriter : BackgroundService
{
    // Enough to absorb a burst of ~1 s at 64k req/s without blocking anyone.
    private const int QueueCapacity = 64 * 1024;
    private readonly Channel<AccessLogEntry> _queue = Channel.CreateBounded<AccessLogEntry>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly AccessLogConfig _config;
    private readonly ILogger<AccessLogWriter> _logger;
    private long _dropped;

    public AccessLogWriter(AccessLogConfig config, ILogger<AccessLogWriter> logger)
    {
        _config = config;
        _logger = logger;
    }

    public bool Enabled => _config.Enabled;

    public void Enqueue(in AccessLogEntry entry)
    {
        if (!_queue.Writer.TryWrite(entry)) Interlocked.Increment(ref _dropped);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_config.Enabled) return;
        Stream output;
        try
        {
            output = _config.Target == "stdout"
                ? Console.OpenStandardOutput()
                : new FileStream(_config.Target, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 64 * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCannotOpen(_config.Target, e.Message);
            return;
        }
        await using var _ = output;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64 * 1024);
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, SkipValidation = true });
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(CancellationToken.None))
            {
                while (reader.TryRead(out var e))
                {
                    Write(json, e);
                    json.Flush();
                    json.Reset();
                    buffer.Write("\n"u8);
                    if (buffer.WrittenCount > 60 * 1024) await FlushAsync(output, buffer);
                }
                await FlushAsync(output, buffer);
                var dropped = Interlocked.Exchange(ref _dropped, 0);
                if (dropped > 0) LogDropped(dropped);
                if (stoppingToken.IsCancellationRequested && reader.Count == 0) break;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        // Requests have drained by the time hosted services stop; let the writer finish the queue.
        _queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    private static async Task FlushAsync(Stream output, System.Buffers.ArrayBufferWriter<byte> buffer)
    {
        if (buffer.WrittenCount == 0) return;
        await output.WriteAsync(buffer.WrittenMemory);
        await output.FlushAsync();
        buffer.ResetWrittenCount();
    }

    private static void Write(Utf8JsonWriter w, in AccessLogEntry e)
    {
        w.WriteStartObject();
        w.WriteString("time"u8, e.Time);
        w.WriteString("client"u8, e.Client);
        w.WriteString("host"u8, e.Host);
        w.WriteString("method"u8, e.Method);
        w.WriteString("path"u8, e.Path);
        if (e.Query is { Length: > 0 }) w.WriteString("query"u8, e.Query);
        w.WriteString("protocol"u8, e.Protocol);
        w.WriteNumber("status"u8, e.Status);
        if (e.Bytes is { } b) w.WriteNumber("bytes"u8, b);
        else w.WriteNull("bytes"u8);
        w.WriteNumber("duration_ms"u8, Math.Round(e.DurationMs, 3));
        w.WriteString("route"u8, e.Route);
        w.WriteString("destination"u8, e.Destination);
        w.WriteString("request_id"u8, e.RequestId);
        w.WriteEndObject();
    }

    [LoggerMessage(EventId = EventIds.AccessLogCannotOpen, Level = LogLevel.Error, Message = "Cannot open the access log {Target}: {Reason}. Requests are served without an access log.")]
    private partial void LogCannotOpen(string target, string reason);

    [LoggerMessage(EventId = EventIds.AccessLogDropped, Level = LogLevel.Warning, Message = "Access log fell behind and dropped {Count} lines; write it to a faster disk or turn it off.")]
    private partial void LogDropped(long count);
}
