using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Portway.Tests.Infrastructure;
using Xunit;
using Portway.Tests.Configuration.DocumentedKeys;

namespace Portway.Tests.Edge;

/// <summary>What passes through the edge: headers, streamed bodies both ways, WebSockets, HTTP/2, trailers.</summary>
public sealed class ForwardingTests
{
    private static string Config(Uri origin, string extra = "") => $"""
        {extra}
        {TestEdge.OneRoute(origin)}
        """;

    private static Task<TestOrigin> EchoHeadersOrigin() => TestOrigin.StartAsync("echo", ctx =>
    {
        var sb = new StringBuilder();
        foreach (var h in ctx.Request.Headers) sb.Append(h.Key).Append(": ").Append(h.Value.ToString()).Append('\n');
        return ctx.Response.WriteAsync(sb.ToString());
    });

    private static Dictionary<string, string> ParseHeaders(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(": ", 2)).ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);

    [Fact]
    public async Task ForwardedHeaders_UntrustedClient_SpoofedValuesReplaced()
    {
        await using var origin = await EchoHeadersOrigin();
        await using var edge = await TestEdge.StartAsync(Config(origin.Url));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
        request.Headers.Host = "shop.test";
        request.Headers.Add("X-Forwarded-For", "6.6.6.6");
        request.Headers.Add("Forwarded", "for=6.6.6.6");
        request.Headers.Add("X-Request-Id", "abc-123");
        var headers = ParseHeaders(await (await edge.Client.SendAsync(request)).Content.ReadAsStringAsync());
        Assert.Equal("127.0.0.1", headers["X-Forwarded-For"]);
        Assert.Equal("http", headers["X-Forwarded-Proto"]);
        Assert.Equal("shop.test", headers["X-Forwarded-Host"]);
        Assert.Equal("for=127.0.0.1;host=\"shop.test\";proto=http", headers["Forwarded"]);
        Assert.Equal("abc-123", headers["X-Request-Id"]);
    }

    [Fact]
    [CoversKey("forwarded.trusted_proxies")]
    public async Task ForwardedHeaders_TrustedProxy_ChainAppended()
    {
        await using var origin = await EchoHeadersOrigin();
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "forwarded:\n  trusted_proxies: [127.0.0.1]"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        request.Headers.Add("X-Forwarded-Proto", "https");
        var response = await edge.Client.SendAsync(request);
        var headers = ParseHeaders(await response.Content.ReadAsStringAsync());
        Assert.Equal("203.0.113.9, 127.0.0.1", headers["X-Forwarded-For"]);
        Assert.Equal("https", headers["X-Forwarded-Proto"]);
        // A request id is generated when the client sends none, and returned to it.
        var id = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.Equal(id, headers["X-Request-Id"]);
    }

    [Fact]
    public async Task ErrorPage_NamesTheRequestIdTheResponseCarries()
    {
        // A port handed out once per run and never bound: no other test's server can answer on it.
        var gone = new Uri($"http://127.0.0.1:{FreePorts.Tcp()}");
        await using var edge = await TestEdge.StartAsync(Config(gone));

        var made = await edge.Client.GetAsync("/x");
        Assert.Equal(HttpStatusCode.BadGateway, made.StatusCode);
        var id = Assert.Single(made.Headers.GetValues("X-Request-Id"));
        Assert.Contains($"request id: {id}\n", await made.Content.ReadAsStringAsync());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
        request.Headers.Add("X-Request-Id", "abc-123");
        request.Headers.Accept.ParseAdd("text/html");
        var sent = await edge.Client.SendAsync(request);
        Assert.Equal("abc-123", Assert.Single(sent.Headers.GetValues("X-Request-Id")));
        Assert.Contains("request id abc-123", await sent.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Upload100MB_StreamedWithChecksum()
    {
        await using var origin = await TestOrigin.StartAsync("sink", async ctx =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int n;
            while ((n = await ctx.Request.Body.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                total += n;
            }
            await ctx.Response.WriteAsync($"{total} {Convert.ToHexString(sha.GetHashAndReset())}");
        });
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, "limits:\n  max_request_body_bytes: 200m"));
        const long size = 100L * 1024 * 1024;
        var content = new PatternStream(size);
        var response = await edge.Client.PostAsync("/upload", new StreamContent(content, 64 * 1024));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{size} {PatternStream.Sha256Hex(size)}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Download100MB_StreamedWithChecksum()
    {
        const long size = 100L * 1024 * 1024;
        await using var origin = await TestOrigin.StartAsync("source", async ctx =>
        {
            ctx.Response.ContentLength = size;
            await new PatternStream(size).CopyToAsync(ctx.Response.Body, 64 * 1024);
        });
        await using var edge = await TestEdge.StartAsync(Config(origin.Url));
        using var response = await edge.Client.GetAsync("/big", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }
        Assert.Equal(size, total);
        Assert.Equal(PatternStream.Sha256Hex(size), Convert.ToHexString(sha.GetHashAndReset()));
    }

    [Fact]
    public async Task WebSocket_Echo_ThroughEdge()
    {
        await using var origin = await TestOrigin.StartAsync("ws", async ctx =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest)
            {
                ctx.Response.StatusCode = 400;
                return;
            }
            using var socket = await ctx.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var r = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }
                await socket.SendAsync(buffer.AsMemory(0, r.Count), r.MessageType, r.EndOfMessage, CancellationToken.None);
            }
        }, configure: app => app.UseWebSockets());
        await using var edge = await TestEdge.StartAsync(Config(origin.Url));
        using var client = new ClientWebSocket();
        await client.ConnectAsync(new Uri($"ws://{edge.Url.Authority}/ws"), CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            var message = Encoding.UTF8.GetBytes($"hello {i}");
            await client.SendAsync(message, WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[100];
            var r = await client.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal($"hello {i}", Encoding.UTF8.GetString(buffer, 0, r.Count));
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
    }

    [Fact]
    public async Task Http2Cleartext_WithTrailers_PassThrough()
    {
        // gRPC's shape: HTTP/2 end to end, status in trailers.
        await using var origin = await TestOrigin.StartAsync("h2", async ctx =>
        {
            ctx.Response.DeclareTrailer("grpc-status");
            await ctx.Response.WriteAsync($"proto={ctx.Request.Protocol}");
            ctx.Response.AppendTrailer("grpc-status", "0");
        }, protocols: HttpProtocols.Http2);
        await using var edge = await TestEdge.StartAsync($"""
            listeners:
              - url: http://127.0.0.1:0
                protocols: http2
            routes:
              - id: grpc
                cluster: app
            clusters:
              - id: app
                http2: true
                destinations: [{origin.Url}]
            """);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/svc/Method")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        var response = await edge.Client.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("proto=HTTP/2", await response.Content.ReadAsStringAsync());
        Assert.Equal("0", Assert.Single(response.TrailingHeaders.GetValues("grpc-status")));
    }

    [Fact]
    public async Task DeadDestination_502PageNamesCluster()
    {
        var origin = await TestOrigin.StartAsync("gone");
        var url = origin.Url;
        await origin.DisposeAsync();
        await using var edge = await TestEdge.StartAsync(Config(url));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/x") { Content = new StringContent("x") };
        var response = await edge.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("cluster 'app'", body);
        Assert.Contains("connection refused", body);
    }
}
