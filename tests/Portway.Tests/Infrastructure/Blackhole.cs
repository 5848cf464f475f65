using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Portway.Tests.Infrastructure;

/// <summary>
/// A port on 127.0.0.1 where a connect never completes, without root, a firewall rule or a
/// foreign host: a listener that never accepts, with its accept queue filled. Linux then drops
/// every further SYN (tcp_conn_request: a full accept queue counts ListenOverflows and drops; it
/// does not refuse), so the connecting side retransmits until its own connect timeout.
/// </summary>
internal sealed class Blackhole : IDisposable
{
    // The queue is full when it holds more than the listen(2) backlog (sk_acceptq_is_full), so
    // backlog 1 takes two connections.
    private const int Backlog = 1;
    private const int QueueCapacity = Backlog + 1;

    private readonly Socket _listener;
    private readonly List<Socket> _fillers = [];

    private Blackhole(Socket listener) => _listener = listener;

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public static async Task<Blackhole> StartAsync()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("Blackhole relies on Linux dropping SYNs to a full accept queue and reads /proc/net/tcp");
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(Backlog);
        var hole = new Blackhole(listener);
        try
        {
            for (var queued = 1; queued <= QueueCapacity; queued++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                hole._fillers.Add(filler);
                // A slot is free, so this completes at once; the timeout only bounds a broken kernel.
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await filler.ConnectAsync(new IPEndPoint(IPAddress.Loopback, hole.Port), attempt.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new InvalidOperationException($"connect {queued} of {QueueCapacity} to a listener with backlog {Backlog} did not complete; this kernel queues fewer connections than Linux does");
                }
                // The client is connected once the SYN-ACK arrives; the connection joins the queue
                // when the listener has the final ACK. Wait for the kernel to show it there, so the
                // next SYN (the next filler's, or the one under test) meets the queue as counted.
                await Wait.UntilAsync(() => AcceptQueueLength(hole.Port) == queued, TimeSpan.FromSeconds(10),
                    because: $"{queued} connection(s) in the accept queue of 127.0.0.1:{hole.Port} (/proc/net/tcp)");
            }
            return hole;
        }
        catch
        {
            hole.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connections waiting to be accepted by the listener on 127.0.0.1:<paramref name="port"/>: for a
    /// socket in LISTEN (state 0A) the rx_queue column of /proc/net/tcp is its accept-queue length.
    /// </summary>
    private static int AcceptQueueLength(int port)
    {
        var local = $"0100007F:{port:X4}"; // 127.0.0.1 as the kernel prints it on a little-endian machine
        if (!BitConverter.IsLittleEndian) local = $"7F000001:{port:X4}";
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 4 && fields[1] == local && fields[3] == "0A")
                return int.Parse(fields[4].AsSpan(fields[4].IndexOf(':') + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        return -1;
    }

    public void Dispose()
    {
        foreach (var s in _fillers) s.Dispose();
        _listener.Dispose();
    }
}
