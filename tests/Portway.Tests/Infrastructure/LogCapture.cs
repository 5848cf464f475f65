using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Portway.Tests.Infrastructure;

/// <summary>Every log line an edge writes (after its level filters), for tests that count them.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Message, Exception? Exception)> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public IReadOnlyList<string> AtLeast(LogLevel level) =>
        Lines.Where(l => l.Level >= level).Select(l => $"{l.Level} {l.Category}: {l.Message}{(l.Exception is null ? "" : " | " + l.Exception.GetType().Name)}").ToList();

    public void Dispose() { }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue((logLevel, category, formatter(state, exception), exception));
    }
}
