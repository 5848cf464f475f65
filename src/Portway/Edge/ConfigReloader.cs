using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.Metrics;
using Portway.Edge.Routing;
using Portway.Edge.Settings;

namespace Portway.Edge;

/// <summary>
/// Reloads the config file when it changes on disk or on SIGHUP. A valid file replaces routes and
/// clusters atomically (YARP switches between requests, nothing in flight is dropped); an invalid
/// one is logged with every error and the running config stays.
/// </summary>
internal sealed partial class ConfigReloader(string? path, EdgeState state, PortwayProxyConfigProvider proxyConfig, ReloadMetrics metrics, ILogger<ConfigReloader> logger) : IDisposable
{
    // Editors save in several steps (truncate, write, rename); wait for the burst to settle.
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);
    private FileSystemWatcher? _watcher;
    private PosixSignalRegistration? _sighup;
    private Timer? _timer;
    private readonly Lock _lock = new();
    private readonly List<FileSystemWatcher> _geoWatchers = [];

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
        WatchGeoDatabases(state.Current);
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

    /// <summary>
    /// geo.databases: a replaced .mmdb (geoipupdate writes beside it and renames over it) reloads
    /// the config like an edit of the file would. The loader records each file's size and time,
    /// so the reloaded config differs from the running one and is applied; a file caught half
    /// written is rejected, and the last write's event reloads again.
    /// </summary>
    private void WatchGeoDatabases(PortwayConfig config)
    {
        lock (_geoWatchers)
        {
            foreach (var w in _geoWatchers) w.Dispose();
            _geoWatchers.Clear();
            foreach (var database in config.Geo.Databases)
            {
                var full = Path.GetFullPath(database.Path);
                var watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
                {
                    NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
                };
                watcher.Changed += (_, _) => Schedule();
                watcher.Created += (_, _) => Schedule();
                watcher.Renamed += (_, _) => Schedule();
                watcher.EnableRaisingEvents = true;
                _geoWatchers.Add(watcher);
            }
        }
    }

    /// <summary>The errors of the last rejected reload (null after a successful one); for tests and diagnostics.</summary>
    public IReadOnlyList<ConfigError>? LastErrors { get; private set; }

    /// <summary>
    /// Runs on a timer or signal thread, where an escaping exception would end the process and take
    /// every site and tunnel down with it: whatever the file holds, this logs and keeps serving.
    /// </summary>
    public void ReloadFromFile()
    {
        if (path is null) return;
        try
        {
            var text = YamlFile.ReadText(path);
            if (string.IsNullOrWhiteSpace(text))
            {
                // Some editors truncate before they write; applied, it would be "no routes" (404 for all).
                Reject(path, [new ConfigError(path, 1, 1, "", "the file is empty; keeping the running config (an empty config is only accepted at start-up)")]);
                return;
            }
            Apply(ConfigLoader.Parse(text, path));
        }
        catch (ConfigException e)
        {
            Reject(path, e.Errors);
        }
        catch (Exception e)
        {
            // A loader bug, not the user's: still keep serving, and say what to report.
            Reject(path, [new ConfigError(path, 1, 1, "", $"could not be read ({e.GetType().Name}: {e.Message}); please report this with the file")]);
        }
    }

    private void Reject(string file, IReadOnlyList<ConfigError> errors)
    {
        LastErrors = errors;
        metrics.Rejected();
        LogReloadRejected(file, errors.Count, string.Join(Environment.NewLine, errors));
    }

    public void Apply(PortwayConfig next)
    {
        lock (_lock)
        {
            var current = state.Current;
            if (current.Equals(next)) return;
            if (current.Listeners != next.Listeners || current.Admin != next.Admin || current.Limits != next.Limits || current.AccessLog != next.AccessLog || current.Cache != next.Cache)
                LogNeedsRestart(next.Source);
            try
            {
                proxyConfig.Update(ProxyConfigMapper.Map(next, proxyConfig.Settings, proxyConfig.Rules));
            }
            catch (Exception e)
            {
                Reject(next.Source, [new ConfigError(next.Source, 1, 1, "", e.Message)]);
                return;
            }
            state.Set(next);
            if (_timer is not null && current.Geo.Databases.Select(d => d.Path).SequenceEqual(next.Geo.Databases.Select(d => d.Path)) is false)
                WatchGeoDatabases(next);
            LastErrors = null;
            metrics.Applied();
            LogReloaded(next.Source, next.Routes.Length, next.Clusters.Length);
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        lock (_geoWatchers)
        {
            foreach (var w in _geoWatchers) w.Dispose();
            _geoWatchers.Clear();
        }
        _sighup?.Dispose();
        _timer?.Dispose();
    }

    [LoggerMessage(EventId = EventIds.ConfigReloaded, Level = LogLevel.Information, Message = "Reloaded {Path}: {Routes} routes, {Clusters} clusters")]
    private partial void LogReloaded(string path, int routes, int clusters);

    [LoggerMessage(EventId = EventIds.ConfigReloadRejected, Level = LogLevel.Error, Message = "Kept the running config: {Path} has {Count} error(s):\n{Errors}")]
    private partial void LogReloadRejected(string path, int count, string errors);

    [LoggerMessage(EventId = EventIds.ConfigNeedsRestart, Level = LogLevel.Warning, Message = "{Path}: changes to listeners, admin, limits, access_log or cache take effect after a restart; routes and clusters were applied now")]
    private partial void LogNeedsRestart(string path);
}
