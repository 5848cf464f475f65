using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Edge.Routing;

namespace Portway.Edge;

/// <summary>
/// Reloads the config file when it changes on disk or on SIGHUP. A valid file replaces routes and
/// clusters atomically (YARP switches between requests, nothing in flight is dropped); an invalid
/// one is logged with every error and the running config stays.
/// </summary>
internal sealed partial class ConfigReloader(string? path, EdgeState state, PortwayProxyConfigProvider proxyConfig, ILogger<ConfigReloader> logger) : IDisposable
{
    // Editors save in several steps (truncate, write, rename); wait for the burst to settle.
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);
    private FileSystemWatcher? _watcher;
    private PosixSignalRegistration? _sighup;
    private Timer? _timer;
    private readonly Lock _lock = new();

    public void Start()
    {
        if (path is null) return;
        var full = Path.GetFullPath(path);
        _timer = new Timer(_ => ReloadFromFile(), null, Timeout.Infinite, Timeout.Infinite);
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        _watcher.Changed += (_, _) => Schedule();
        _watcher.Created += (_, _) => Schedule();
        _watcher.Renamed += (_, _) => Schedule();
        _watcher.EnableRaisingEvents = true;
        if (!OperatingSystem.IsWindows())
        {
            _sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
            {
                ctx.Cancel = true; // SIGHUP means reload, not exit.
                ReloadFromFile();
            });
        }
    }

    private void Schedule() => _timer?.Change(Debounce, Timeout.InfiniteTimeSpan);

    public void ReloadFromFile()
    {
        if (path is null) return;
        PortwayConfig next;
        try
        {
            next = ConfigLoader.LoadFile(path);
        }
        catch (ConfigException e)
        {
            LogReloadRejected(path, e.Errors.Count, string.Join(Environment.NewLine, e.Errors));
            return;
        }
        Apply(next);
    }

    public void Apply(PortwayConfig next)
    {
        lock (_lock)
        {
            var current = state.Current;
            if (current.Equals(next)) return;
            if (!current.Listeners.SequenceEqual(next.Listeners) || current.Admin != next.Admin || current.Limits != next.Limits || current.AccessLog != next.AccessLog || current.Cache != next.Cache)
                LogNeedsRestart(next.Source);
            try
            {
                proxyConfig.Update(next);
            }
            catch (Exception e)
            {
                LogReloadRejected(next.Source, 1, e.Message);
                return;
            }
            state.Set(next);
            LogReloaded(next.Source, next.Routes.Length, next.Clusters.Length);
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _sighup?.Dispose();
        _timer?.Dispose();
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Reloaded {Path}: {Routes} routes, {Clusters} clusters")]
    private partial void LogReloaded(string path, int routes, int clusters);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "Kept the running config: {Path} has {Count} error(s):\n{Errors}")]
    private partial void LogReloadRejected(string path, int count, string errors);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "{Path}: changes to listeners, admin, limits, access_log or cache take effect after a restart; routes and clusters were applied now")]
    private partial void LogNeedsRestart(string path);
}
