using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Portway.Edge.Caching;

/// <summary>
/// The optional disk tier: every stored entry is also written to a file (write-behind, one
/// writer task, temp file + rename so a crash never leaves half an entry), indexed at start-up
/// from the files' metadata blocks, so the cache survives a restart. A memory miss that the disk
/// has is read back and promoted to memory. Its own byte budget, LRU by last use.
/// </summary>
internal sealed class DiskTier : IDisposable
{
    private readonly string _path;
    private readonly long _budget;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<DiskRecord>> _index = new(StringComparer.Ordinal);
    private readonly LinkedList<DiskRecord> _lru = new();
    private readonly Channel<CacheEntry> _writes = Channel.CreateUnbounded<CacheEntry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private long _used;
    private int _pending;

    public DiskTier(string path, long budget, ILogger logger)
    {
        _path = Path.GetFullPath(path);
        _budget = budget;
        _logger = logger;
        Directory.CreateDirectory(_path);
        LoadIndex();
        _writer = Task.Run(WriteLoopAsync);
    }

    public long Used => Volatile.Read(ref _used);
    public int Count
    {
        get
        {
            lock (_lock) return _lru.Count;
        }
    }

    /// <summary>Entries queued but not yet on disk (tests wait for 0).</summary>
    public int Pending => Volatile.Read(ref _pending);

    public void Write(CacheEntry entry)
    {
        Interlocked.Increment(ref _pending);
        if (!_writes.Writer.TryWrite(entry)) Interlocked.Decrement(ref _pending);
    }

    /// <summary>Reads the variant the request selects, if the disk has it, and promotes it to memory.</summary>
    public async Task<CacheEntry?> LoadAsync(string key, IHeaderDictionary request, CacheStore store)
    {
        DiskRecord? record = null;
        lock (_lock)
        {
            if (!_index.TryGetValue(key, out var records)) return null;
            for (var i = records.Count - 1; i >= 0 && record is null; i--)
            {
                if (Matches(records[i], request)) record = records[i];
            }
            if (record is null) return null;
            _lru.Remove(record.Node);
            _lru.AddFirst(record.Node);
        }
        CacheEntry? entry;
        try
        {
            await using var file = new FileStream(Path.Combine(_path, record.File), FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
            entry = await DiskFormat.ReadAsync(file, withBody: true);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException or UnauthorizedAccessException)
        {
            HttpCache.LogDiskError(_logger, record.File, e.Message);
            RemoveRecord(record);
            return null;
        }
        if (entry is null) return null;
        if (store.TryReserve(entry.Size)) store.Commit(entry, entry.Size);
        return entry;
    }

    public int RemoveKey(string key)
    {
        List<DiskRecord>? records;
        lock (_lock)
        {
            if (!_index.Remove(key, out records)) return 0;
            foreach (var r in records) Forget(r);
        }
        foreach (var r in records) Delete(r.File);
        return records.Count;
    }

    public int RemoveWhere(string? prefix, string? tag)
    {
        var hits = new List<DiskRecord>();
        lock (_lock)
        {
            foreach (var r in _lru)
            {
                if ((prefix is not null && r.Key.StartsWith(prefix, StringComparison.Ordinal)) || (tag is not null && r.Tags is not null && Array.IndexOf(r.Tags, tag) >= 0)) hits.Add(r);
            }
        }
        foreach (var r in hits) RemoveRecord(r);
        return hits.Count;
    }

    private static bool Matches(DiskRecord r, IHeaderDictionary request)
    {
        if (r.VaryNames is null) return true;
        if (VaryKey.IsStar(r.VaryNames)) return false;
        for (var i = 0; i < r.VaryNames.Length; i++)
        {
            if (!string.Equals(VaryKey.Normalise(r.VaryNames[i], request[r.VaryNames[i]]), r.VaryValues![i], StringComparison.Ordinal)) return false;
        }
        return true;
    }

    private async Task WriteLoopAsync()
    {
        await foreach (var entry in _writes.Reader.ReadAllAsync())
        {
            try
            {
                await WriteOneAsync(entry);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                HttpCache.LogDiskError(_logger, _path, e.Message);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }

    private async Task WriteOneAsync(CacheEntry entry)
    {
        if (entry.BodyLength + 64 * 1024 > _budget) return;
        var name = FileName(entry);
        var temp = Path.Combine(_path, name + ".tmp");
        await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
        {
            await DiskFormat.WriteAsync(file, entry);
        }
        var size = new FileInfo(temp).Length;
        File.Move(temp, Path.Combine(_path, name), overwrite: true);
        var evicted = new List<string>();
        lock (_lock)
        {
            if (!_index.TryGetValue(entry.Key, out var records)) _index[entry.Key] = records = [];
            var existing = records.FindIndex(r => r.File == name);
            if (existing >= 0)
            {
                Forget(records[existing]);
                records.RemoveAt(existing);
            }
            var record = new DiskRecord(entry.Key, name, entry.VaryNames, entry.VaryValues, entry.Tags, size);
            records.Add(record);
            record.Node = _lru.AddFirst(record);
            _used += size;
            while (_used > _budget && _lru.Last is { } last && last.Value != record)
            {
                var victim = last.Value;
                Forget(victim);
                if (_index.TryGetValue(victim.Key, out var list))
                {
                    list.Remove(victim);
                    if (list.Count == 0) _index.Remove(victim.Key);
                }
                evicted.Add(victim.File);
            }
        }
        foreach (var f in evicted) Delete(f);
    }

    private void RemoveRecord(DiskRecord r)
    {
        lock (_lock)
        {
            if (r.Node.List is null) return;
            Forget(r);
            if (_index.TryGetValue(r.Key, out var list))
            {
                list.Remove(r);
                if (list.Count == 0) _index.Remove(r.Key);
            }
        }
        Delete(r.File);
    }

    /// <summary>Drops a record from the LRU and the byte count. Caller holds the lock.</summary>
    private void Forget(DiskRecord r)
    {
        if (r.Node.List is null) return;
        _lru.Remove(r.Node);
        _used -= r.Size;
    }

    private void Delete(string file)
    {
        try
        {
            File.Delete(Path.Combine(_path, file));
        }
        catch (IOException e)
        {
            HttpCache.LogDiskError(_logger, file, e.Message);
        }
    }

    private void LoadIndex()
    {
        var loaded = new List<(DiskRecord Record, DateTime Used)>();
        foreach (var file in Directory.EnumerateFiles(_path))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                Delete(name);
                continue;
            }
            if (!name.EndsWith(".pwc", StringComparison.Ordinal)) continue;
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
                var entry = DiskFormat.ReadAsync(stream, withBody: false).GetAwaiter().GetResult();
                if (entry is null)
                {
                    Delete(name);
                    continue;
                }
                var info = new FileInfo(file);
                loaded.Add((new DiskRecord(entry.Key, name, entry.VaryNames, entry.VaryValues, entry.Tags, info.Length), info.LastWriteTimeUtc));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException)
            {
                HttpCache.LogDiskError(_logger, name, e.Message);
                Delete(name);
            }
        }
        // Oldest first, so the most recently written end up at the LRU head.
        loaded.Sort((a, b) => a.Used.CompareTo(b.Used));
        foreach (var (record, _) in loaded)
        {
            if (!_index.TryGetValue(record.Key, out var list)) _index[record.Key] = list = [];
            list.Add(record);
            record.Node = _lru.AddFirst(record);
            _used += record.Size;
        }
        if (loaded.Count > 0) HttpCache.LogDiskLoaded(_logger, _path, loaded.Count, _used);
    }

    private static string FileName(CacheEntry entry)
    {
        var sb = new StringBuilder(entry.Key);
        if (entry.VaryValues is not null)
        {
            foreach (var v in entry.VaryValues) sb.Append('\n').Append(v ?? "\0");
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString()))) + ".pwc";
    }

    public void Dispose()
    {
        _writes.Writer.TryComplete();
        // Let queued writes finish so what was stored before a restart is there after it.
        _writer.Wait(TimeSpan.FromSeconds(10));
    }

    private sealed class DiskRecord(string key, string file, string[]? varyNames, string?[]? varyValues, string[]? tags, long size)
    {
        public string Key { get; } = key;
        public string File { get; } = file;
        public string[]? VaryNames { get; } = varyNames;
        public string?[]? VaryValues { get; } = varyValues;
        public string[]? Tags { get; } = tags;
        public long Size { get; } = size;
        public LinkedListNode<DiskRecord> Node { get; set; } = null!;
    }
}
