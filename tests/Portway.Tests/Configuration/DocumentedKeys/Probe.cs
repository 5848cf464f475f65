using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Portway.Tests.Infrastructure;

namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>What an echo origin saw of a request.</summary>
internal sealed record Seen(string Method, string Path, string Query, string Protocol, Dictionary<string, string> Headers)
{
    /// <summary>Header names are case-insensitive (RFC 9110 §5.1); the dictionary came back from JSON case-sensitive.</summary>
    public string? Header(string name)
    {
        foreach (var (key, value) in Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase)) return value;
        }
        return null;
    }
}

/// <summary>Helpers for the documented-keys tests: an echo origin, requests written as one line, clients from other loopback addresses.</summary>
internal static class Probe
{
    /// <summary>An origin that answers every request with JSON of what it received.</summary>
    public static Task<TestOrigin> StartEchoAsync(string name = "echo", HttpProtocols protocols = HttpProtocols.Http1) =>
        TestOrigin.StartAsync(name, ctx =>
        {
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var h in ctx.Request.Headers) headers[h.Key] = h.Value.ToString();
            var seen = new Seen(ctx.Request.Method, ctx.Request.Path.Value ?? "", ctx.Request.QueryString.Value ?? "", ctx.Request.Protocol, headers);
            ctx.Response.ContentType = "application/json";
            return ctx.Response.WriteAsync(JsonSerializer.Serialize(seen));
        }, protocols);

    public static async Task<Seen> SeenAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"expected 200 from the echo origin, got {(int)response.StatusCode}: {text}");
        return JsonSerializer.Deserialize<Seen>(text)!;
    }

    /// <summary>
    /// A request written as "METHOD /target Name=value Name2=value2" (Host=… sets the Host header).
    /// </summary>
    public static HttpRequestMessage Request(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var request = new HttpRequestMessage(new HttpMethod(parts[0]), parts[1]);
        foreach (var header in parts.Skip(2))
        {
            var (name, value) = (header[..header.IndexOf('=')], header[(header.IndexOf('=') + 1)..]);
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase)) request.Headers.Host = value;
            else request.Headers.TryAddWithoutValidation(name, value);
        }
        return request;
    }

    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, string line)
    {
        using var request = Request(line);
        return await client.SendAsync(request);
    }

    /// <summary>
    /// A client whose connections come from <paramref name="localAddress"/> (any 127.x.y.z: Linux
    /// routes all of 127.0.0.0/8 to loopback), so one test can be several visitors.
    /// </summary>
    public static HttpClient From(string localAddress, Uri baseAddress) =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (context, token) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                    await socket.ConnectAsync(context.DnsEndPoint.Host == "localhost" ? new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port) : context.DnsEndPoint, token);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = baseAddress };

    /// <summary>A loopback port that was free a moment ago, for keys that need a fixed port in the file.</summary>
    public static int FreePort() => LoadBalancing.Cluster.DeadPort();
}
