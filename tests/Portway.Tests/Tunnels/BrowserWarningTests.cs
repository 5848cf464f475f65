using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Portway.Edge.Tunnels;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Tunnels;

/// <summary>tunnels.browser_warning (docs/tunnels.md#browser-warning) through real agents.</summary>
public sealed class BrowserWarningTests
{
    private static string Edge(string tunnelsExtra = "", string aliceExtra = "") => $$"""
        tunnels:
        {{tunnelsExtra}}
          tokens:
            - name: alice
              sha256: {{TokenAuthenticator.Hash("alice-token")}}
              allowed_patterns: ["*"]
        {{aliceExtra}}
            - name: staff
              sha256: {{TokenAuthenticator.Hash("staff-token")}}
              allowed_patterns: ["*"]
              browser_warning: false
        """;

    private static HttpRequestMessage Navigation(Uri url, string? cookie = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        request.Headers.TryAddWithoutValidation("Sec-Fetch-Mode", "navigate");
        request.Headers.TryAddWithoutValidation("Sec-Fetch-Dest", "document");
        request.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0");
        if (cookie is not null) request.Headers.TryAddWithoutValidation("Cookie", cookie);
        return request;
    }

    [Fact]
    [CoversKey("tunnels.browser_warning", "tunnels.tokens[].browser_warning")]
    public async Task Navigation_GetsThePageOnce_ContinueSetsTheCookie_ThenItPasses_TrustedTokenNever()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Edge("  browser_warning: true"));
        await using var alice = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-app"), token: "alice-token");
        await using var staff = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "staff-app"), token: "staff-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        using (var page = await client.SendAsync(Navigation(new Uri(alice.Url, "/docs?x=1"))))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains($"You are about to visit {alice.Url.Host}", html);
            Assert.Contains("served from a developer's machine through a Portway tunnel", html);
            Assert.Contains("value=\"/docs?x=1\"", html);
        }
        Assert.Equal(0, local.Requests);

        // The page's button: a same-origin form post; the cookie is for this host, then back to the page.
        using var post = new HttpRequestMessage(HttpMethod.Post, new Uri(alice.Url, BrowserWarningStep.ContinuePath))
        {
            Content = new FormUrlEncodedContent([new("to", "/docs?x=1")]),
        };
        post.Headers.TryAddWithoutValidation("Origin", alice.Url.GetLeftPart(UriPartial.Authority));
        post.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "same-origin");
        using var continued = await client.SendAsync(post);
        Assert.Equal(HttpStatusCode.SeeOther, continued.StatusCode);
        Assert.Equal("/docs?x=1", continued.Headers.Location?.OriginalString);
        var setCookie = Assert.Single(continued.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith(BrowserWarningStep.CookieName + "=1;", setCookie);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain=", setCookie, StringComparison.OrdinalIgnoreCase);

        using (var passed = await client.SendAsync(Navigation(new Uri(alice.Url, "/docs?x=1"), BrowserWarningStep.CookieName + "=1")))
            Assert.Equal("local", await passed.Content.ReadAsStringAsync());
        Assert.Equal(1, local.Requests);

        // A token marked browser_warning: false is trusted: no page for its tunnels.
        using (var trusted = await client.SendAsync(Navigation(staff.Url)))
            Assert.Equal("local", await trusted.Content.ReadAsStringAsync());
        Assert.Equal(2, local.Requests);
    }

    [Fact]
    public async Task ApiClients_TheSkipHeader_AndACrossSiteContinue_NeverSkipOrSeeThePage()
    {
        await using var local = await TestOrigin.StartAsync("local");
        await using var edge = await TestEdge.StartAsync(Edge(aliceExtra: "      browser_warning: true"));
        await using var alice = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-app"), token: "alice-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        // curl (Accept: */*), a script's fetch (Sec-Fetch-Mode: cors), an image: straight through.
        using (var curl = new HttpRequestMessage(HttpMethod.Get, alice.Url))
        {
            curl.Headers.TryAddWithoutValidation("Accept", "*/*");
            curl.Headers.TryAddWithoutValidation("User-Agent", "curl/8.5.0");
            using var response = await client.SendAsync(curl);
            Assert.Equal("local", await response.Content.ReadAsStringAsync());
        }
        using (var fetch = Navigation(alice.Url))
        {
            fetch.Headers.Remove("Sec-Fetch-Mode");
            fetch.Headers.TryAddWithoutValidation("Sec-Fetch-Mode", "cors");
            using var response = await client.SendAsync(fetch);
            Assert.Equal("local", await response.Content.ReadAsStringAsync());
        }
        using (var skip = Navigation(alice.Url))
        {
            skip.Headers.TryAddWithoutValidation(BrowserWarningStep.SkipHeader, "1");
            using var response = await client.SendAsync(skip);
            Assert.Equal("local", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(3, local.Requests);

        // Another site's form posting the continue: no cookie, the page again.
        using var forged = new HttpRequestMessage(HttpMethod.Post, new Uri(alice.Url, BrowserWarningStep.ContinuePath))
        {
            Content = new FormUrlEncodedContent([new("to", "/")]),
        };
        forged.Headers.TryAddWithoutValidation("Origin", "https://evil.example");
        forged.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "cross-site");
        using var refused = await client.SendAsync(forged);
        Assert.False(refused.Headers.Contains("Set-Cookie"));
        Assert.Contains("You are about to visit", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WebSocket_FromABrowser_PassesUntouched()
    {
        await using var local = await TestOrigin.StartAsync("local", async ctx =>
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1024];
            var result = await ws.ReceiveAsync(buffer, ctx.RequestAborted);
            await ws.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, true, ctx.RequestAborted);
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", ctx.RequestAborted);
        }, configure: app => app.UseWebSockets());
        await using var edge = await TestEdge.StartAsync(Edge("  browser_warning: true"));
        await using var alice = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "alice-app"), token: "alice-token");

        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, edge.Url.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var ws = new ClientWebSocket();
        // What a browser page's new WebSocket(...) sends, Accept included as some extensions add it.
        ws.Options.SetRequestHeader("Accept", "text/html");
        ws.Options.SetRequestHeader("Sec-Fetch-Mode", "websocket");
        ws.Options.SetRequestHeader("Sec-Fetch-Dest", "websocket");
        await ws.ConnectAsync(new Uri($"ws://{alice.Url.Authority}/socket"), new HttpMessageInvoker(handler), CancellationToken.None);
        await ws.SendAsync(Encoding.UTF8.GetBytes("hello"), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[64];
        var received = await ws.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("hello", Encoding.UTF8.GetString(buffer, 0, received.Count));
    }
}
