namespace Portway.Edge.AccessLog;

/// <summary>One line of the access log, captured on the request path and written off it.</summary>
internal readonly record struct AccessLogEntry(
    DateTimeOffset Time,
    string? Client,
    string Host,
    string Method,
    string Path,
    string? Query,
    int Status,
    long? Bytes,
    double DurationMs,
    string? Route,
    string? Destination,
    string? RequestId,
    string Protocol);
