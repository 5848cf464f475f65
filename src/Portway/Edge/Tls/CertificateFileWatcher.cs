using System.Collections.Immutable;
using Portway.Configuration;

namespace Portway.Edge.Tls;

/// <summary>
/// Watches the directories holding certificate files. Any change there (write, atomic rename,
/// Kubernetes' ..data symlink swap) schedules one reload after the burst settles; the reload itself
/// compares thumbprints, so unrelated files in the directory cost one parse, nothing else.
/// </summary>
internal sealed class CertificateFileWatcher : IDisposable
{
    // Tools write a certificate and its key in separate steps; wait for both (same as the config reloader).
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(250);
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Timer _timer;

    public CertificateFileWatcher(ImmutableArray<TlsSiteConfig> sites, Action reload)
    {
        _timer = new Timer(_ => reload(), null, Timeout.Infinite, Timeout.Infinite);
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var site in sites)
        {
            foreach (var file in new[] { site.CertFile, site.KeyFile, site.Pkcs12File })
            {
                if (file is null) continue;
                var dir = Path.GetDirectoryName(Path.GetFullPath(file));
                if (dir is null || !dirs.Add(dir) || !Directory.Exists(dir)) continue;
                var watcher = new FileSystemWatcher(dir)
                {
                    NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
                };
                watcher.Changed += (_, _) => Schedule();
                watcher.Created += (_, _) => Schedule();
                watcher.Renamed += (_, _) => Schedule();
                watcher.Deleted += (_, _) => Schedule();
                watcher.EnableRaisingEvents = true;
                _watchers.Add(watcher);
            }
        }
    }

    private void Schedule() => _timer.Change(Debounce, Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        foreach (var w in _watchers) w.Dispose();
        _timer.Dispose();
    }
}
