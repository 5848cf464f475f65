using System.Net.Sockets;
using System.Text;

namespace Portway.Tests.Infrastructure;

/// <summary>Sends bytes HttpClient would refuse to send (smuggling shapes, absolute-form, CONNECT).</summary>
internal static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> and returns what came back until the server closed or went quiet.</summary>
    public static async Task<string> SendAsync(Uri server, string request, TimeSpan? quiet = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[64 * 1024];
        var result = new StringBuilder();
        using var cts = new CancellationTokenSource(quiet ?? TimeSpan.FromSeconds(5));
        try
        {
            while (true)
            {
                var n = await stream.ReadAsync(buffer, cts.Token);
                if (n == 0) break;
                result.Append(Encoding.ASCII.GetString(buffer, 0, n));
                // One complete response is enough once its headers and (short) body are in.
                if (result.ToString().Contains("\r\n\r\n", StringComparison.Ordinal)) cts.CancelAfter(TimeSpan.FromMilliseconds(300));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        return result.ToString();
    }

    public static int Status(string response) =>
        response.Length >= 12 && int.TryParse(response.AsSpan(9, 3), out var s) ? s : 0;
}
