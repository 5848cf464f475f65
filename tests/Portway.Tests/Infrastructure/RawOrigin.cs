using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portway.Tests.Infrastructure;

/// <summary>
/// An origin that writes bytes Kestrel would not (repeated or malformed fields, interim 1xx
/// responses, Connection options): a TcpListener on 127.0.0.1 port 0 that reads each request
/// head and answers with the text <c>respond</c> returns for it. Keep-alive: it keeps reading
/// requests on the connection until the edge closes it. Requests must have no body.
/// </summary>
internal sealed class RawOrigin : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<int, string, string> _respond;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _requests;
    private int _disposed;

    private RawOrigin(Func<int, string, string> respond)
    {
        _respond = respond;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri Url { get; }
    public int Requests => Volatile.Read(ref _requests);

    /// <summary><paramref name="respond"/> gets the request number (1-based) and the request head, and returns the whole response text.</summary>
    public static RawOrigin Start(Func<int, string, string> respond) => new(respond);

    /// <summary>Every request gets the same response.</summary>
    public static RawOrigin Start(string response) => new((_, _) => response);

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                connections.Add(ServeAsync(client));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }
        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var buffer = new byte[16 * 1024];
        var pending = new StringBuilder();
        try
        {
            while (true)
            {
                int end;
                while ((end = pending.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
                {
                    var n = await stream.ReadAsync(buffer, _stop.Token);
                    if (n == 0) return;
                    pending.Append(Encoding.ASCII.GetString(buffer, 0, n));
                }
                var head = pending.ToString(0, end + 4);
                pending.Remove(0, end + 4);
                var number = Interlocked.Increment(ref _requests);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(_respond(number, head)), _stop.Token);
                await stream.FlushAsync(_stop.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Disposed by the test and by a harness that owns it: the second call does nothing.
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
