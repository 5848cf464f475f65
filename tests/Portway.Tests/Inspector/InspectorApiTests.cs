using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Portway.Agent.Inspector;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Inspector;

public sealed class InspectorApiTests
{
    private static readonly RequestDelegate Echo = async ctx =>
    {
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers["X-Seen-Method"] = ctx.Request.Method;
        ctx.Response.Headers["X-Seen-Header"] = ctx.Request.Headers["X-Test"].ToString();
        using var reader = new StreamReader(ctx.Request.Body);
        var body = await reader.ReadToEndAsync();
        await ctx.Response.WriteAsync($"{{\"echo\":{JsonSerializer.Serialize(body)},\"path\":{JsonSerializer.Serialize(ctx.Request.Path + ctx.Request.QueryString)}}}");
    };

    [Fact]
    public async Task Request_ThroughTunnel_AppearsWithHeadersBodyAndResponse()
    {
        await using var f = await InspectorFixture.StartAsync(Echo);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(f.PublicUrl, "/orders?x=1")) { Content = new StringContent("{\"item\":42}", Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Test", "hello");
        using var response = await f.Visitor.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var list = await f.WaitForRequestsAsync(1);
        var summary = list[0];
        Assert.Equal("POST", summary.GetProperty("method").GetString());
        Assert.Equal("/orders?x=1", summary.GetProperty("path").GetString());
        Assert.Equal(200, summary.GetProperty("status").GetInt32());
        Assert.Equal("127.0.0.1", summary.GetProperty("client_ip").GetString());
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("replay_of").ValueKind);

        var detail = await f.GetJsonAsync($"/api/requests/{summary.GetProperty("id").GetInt64()}");
        var req = detail.GetProperty("request");
        Assert.Equal("hello", InspectorFixture.Header(req.GetProperty("headers"), "X-Test"));
        Assert.Equal(f.PublicUrl.Authority, InspectorFixture.Header(req.GetProperty("headers"), "Host"));
        Assert.Null(InspectorFixture.Header(req.GetProperty("headers"), "portway-tunnel"));
        Assert.Equal("{\"item\":42}", req.GetProperty("body").GetProperty("text").GetString());
        Assert.False(req.GetProperty("body").GetProperty("truncated").GetBoolean());
        var resp = detail.GetProperty("response");
        Assert.Equal("POST", InspectorFixture.Header(resp.GetProperty("headers"), "X-Seen-Method"));
        Assert.Equal("{\"echo\":\"{\\u0022item\\u0022:42}\",\"path\":\"/orders?x=1\"}", resp.GetProperty("body").GetProperty("text").GetString());
    }

    [Fact]
    public async Task Replay_CapturedRequest_ReachesLocalServerAgainAndIsANewEntry()
    {
        var bodies = new List<string>();
        await using var f = await InspectorFixture.StartAsync(async ctx =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            var body = await reader.ReadToEndAsync();
            lock (bodies) bodies.Add($"{ctx.Request.Method} {ctx.Request.Path} {ctx.Request.Headers["X-Test"]} {body}");
            await ctx.Response.WriteAsync("seen " + body);
        });
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(f.PublicUrl, "/things/7")) { Content = new StringContent("payload") };
        request.Headers.Add("X-Test", "one");
        await f.VisitAsync(request);
        var id = (await f.WaitForRequestsAsync(1))[0].GetProperty("id").GetInt64();

        using var replay = await f.Inspector.PostAsync($"/api/requests/{id}/replay", null);

        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        var entry = JsonDocument.Parse(await replay.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(id, entry.GetProperty("replay_of").GetInt64());
        Assert.Equal("seen payload", entry.GetProperty("response").GetProperty("body").GetProperty("text").GetString());
        Assert.Equal(2, f.Origin.Requests);
        lock (bodies) Assert.Equal(["PUT /things/7 one payload", "PUT /things/7 one payload"], bodies);
        var list = await f.WaitForRequestsAsync(2);
        Assert.Equal(entry.GetProperty("id").GetInt64(), list[0].GetProperty("id").GetInt64());
        Assert.Equal(id, list[0].GetProperty("replay_of").GetInt64());
    }

    [Fact]
    public async Task Replay_WithEdits_SendsTheEditedRequest()
    {
        await using var f = await InspectorFixture.StartAsync(Echo);
        await f.VisitAsync("/a");
        var id = (await f.WaitForRequestsAsync(1))[0].GetProperty("id").GetInt64();

        var edits = """{"method": "patch", "path": "/b?c=d", "headers": [["X-Test", "edited"]], "body": "new body"}""";
        using var replay = await f.Inspector.PostAsync($"/api/requests/{id}/replay", new StringContent(edits, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        var entry = JsonDocument.Parse(await replay.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("PATCH", entry.GetProperty("method").GetString());
        var response = entry.GetProperty("response");
        Assert.Equal("PATCH", InspectorFixture.Header(response.GetProperty("headers"), "X-Seen-Method"));
        Assert.Equal("edited", InspectorFixture.Header(response.GetProperty("headers"), "X-Seen-Header"));
        Assert.Equal("{\"echo\":\"new body\",\"path\":\"/b?c=d\"}", response.GetProperty("body").GetProperty("text").GetString());
    }

    [Fact]
    public async Task Ring_MoreRequestsThanCapacity_KeepsOnlyTheNewest()
    {
        await using var f = await InspectorFixture.StartAsync(Echo, new InspectorOptions { Capacity = 3 });
        for (var i = 1; i <= 5; i++) await f.VisitAsync($"/n{i}");

        await Wait.UntilAsync(async () => (await f.GetJsonAsync("/api/requests")).GetProperty("requests")[0].GetProperty("path").GetString() == "/n5");
        var list = (await f.GetJsonAsync("/api/requests")).GetProperty("requests").EnumerateArray().ToArray();

        Assert.Equal(["/n5", "/n4", "/n3"], list.Select(e => e.GetProperty("path").GetString()));
        var oldest = list[2].GetProperty("id").GetInt64() - 1;
        using var gone = await f.Inspector.GetAsync($"/api/requests/{oldest}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Body_LargerThanLimit_KeptUpToLimitAndMarkedTruncated()
    {
        await using var f = await InspectorFixture.StartAsync(Echo, new InspectorOptions { BodyLimit = 1000 });
        await f.VisitAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(f.PublicUrl, "/big")) { Content = new StringContent(new string('x', 5000)) });
        var id = (await f.WaitForRequestsAsync(1))[0].GetProperty("id").GetInt64();

        var body = (await f.GetJsonAsync($"/api/requests/{id}")).GetProperty("request").GetProperty("body");

        Assert.Equal(5000, body.GetProperty("size").GetInt64());
        Assert.Equal(1000, body.GetProperty("kept").GetInt64());
        Assert.True(body.GetProperty("truncated").GetBoolean());
        Assert.Equal(new string('x', 1000), body.GetProperty("text").GetString());
        using var replay = await f.Inspector.PostAsync($"/api/requests/{id}/replay", null);
        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode);
    }

    [Fact]
    public async Task Events_NewRequest_DeliveredOverServerSentEvents()
    {
        await using var f = await InspectorFixture.StartAsync(Echo);
        using var events = await f.Inspector.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());

        await f.VisitAsync("/live");

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        string? line;
        while ((line = await reader.ReadLineAsync(timeout.Token)) is not null && line != "event: request") { }
        Assert.Equal("event: request", line);
        var data = await reader.ReadLineAsync(timeout.Token);
        Assert.StartsWith("data: ", data);
        var summary = JsonDocument.Parse(data!["data: ".Length..]).RootElement;
        Assert.Equal("/live", summary.GetProperty("path").GetString());
        Assert.Equal(200, summary.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Delete_Requests_ClearsTheList()
    {
        await using var f = await InspectorFixture.StartAsync(Echo);
        await f.VisitAsync("/x");
        await f.WaitForRequestsAsync(1);

        using var deleted = await f.Inspector.DeleteAsync("/api/requests");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(0, (await f.GetJsonAsync("/api/requests")).GetProperty("requests").GetArrayLength());
    }

    [Fact]
    public async Task Api_ForeignHostOrCrossOriginPost_Refused()
    {
        await using var f = await InspectorFixture.StartAsync(Echo);
        await f.VisitAsync("/x");
        var id = (await f.WaitForRequestsAsync(1))[0].GetProperty("id").GetInt64();

        using var rebinding = new HttpRequestMessage(HttpMethod.Get, "/api/requests");
        rebinding.Headers.Host = $"attacker.example:{f.Agent.Host.InspectorUrl!.Port}";
        using var rebound = await f.Inspector.SendAsync(rebinding);
        using var crossSite = new HttpRequestMessage(HttpMethod.Post, $"/api/requests/{id}/replay");
        crossSite.Headers.Add("Origin", "https://attacker.example");
        using var forged = await f.Inspector.SendAsync(crossSite);

        Assert.Equal(HttpStatusCode.Forbidden, rebound.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal(1, f.Origin.Requests);
    }

    [Fact]
    public async Task Inspector_NotReachableThroughTheTunnel()
    {
        await using var f = await InspectorFixture.StartAsync(ctx => ctx.Response.WriteAsync("local server"));

        var body = await f.Visitor.GetStringAsync(new Uri(f.PublicUrl, "/api/requests"));

        Assert.Equal("local server", body);
    }

    [Fact]
    public async Task LocalServerDown_AgentsErrorPageRecordedAndReplaySaysWhy()
    {
        await using var f = await InspectorFixture.StartAsync(Echo);
        await f.Origin.StopAsync();
        using var response = await f.Visitor.GetAsync(new Uri(f.PublicUrl, "/down"));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var id = (await f.WaitForRequestsAsync(1))[0].GetProperty("id").GetInt64();

        var detail = await f.GetJsonAsync($"/api/requests/{id}");
        using var replay = await f.Inspector.PostAsync($"/api/requests/{id}/replay", null);
        var replayed = JsonDocument.Parse(await replay.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(502, detail.GetProperty("status").GetInt32());
        Assert.Contains("could not connect to", detail.GetProperty("response").GetProperty("body").GetProperty("text").GetString());
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal(502, replayed.GetProperty("status").GetInt32());
        Assert.Matches("^could not connect to .+ \\(connection refused\\)$", replayed.GetProperty("error").GetString());
    }
}
