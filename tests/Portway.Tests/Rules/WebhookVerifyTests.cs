using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portway.Configuration;
using Portway.Edge.Rules;
using Portway.Edge.Rules.Webhooks;
using Portway.Edge.Tunnels;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Portway.Tests.Tunnels;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary><c>webhook_verify</c> through the real edge: every provider signed as the provider signs (<see cref="WebhookSigner"/>).</summary>
public sealed class WebhookVerifyTests
{
    public static TheoryData<string> Providers => new(WebhookSchemes.Names);

    /// <summary>A server that keeps the last body and verification header it received.</summary>
    private sealed class Receiver
    {
        public byte[]? Body { get; private set; }
        public string Verified { get; private set; } = "";
        public int Status { get; set; } = 200;

        public async Task Handle(HttpContext context)
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            Body = buffer.ToArray();
            Verified = context.Request.Headers[WebhookVerifier.VerifiedHeader].ToString();
            context.Response.StatusCode = Status;
            await context.Response.WriteAsync("received");
        }
    }

    private static string Config(Uri origin, WebhookSigner signer, string extra = "") => $$"""
        routes:
          - id: hook
            match: { path_prefix: /hook }
            cluster: app
            rules:
              - webhook_verify: { provider: {{signer.Provider}}, secret: '{{signer.ConfigSecret}}', tolerance: 5m, enforce: true {{extra}} }
          - id: annotate
            match: { path_prefix: /annotate }
            cluster: app
            rules:
              - webhook_verify: { provider: {{signer.Provider}}, secret: '{{signer.ConfigSecret}}', enforce: false }
        clusters:
          - id: app
            destinations: [{{origin}}]
        """;

    [Theory]
    [MemberData(nameof(Providers))]
    [CoversKey("rules[].webhook_verify.provider", "rules[].webhook_verify.secret", "rules[].webhook_verify.tolerance", "rules[].webhook_verify.enforce")]
    public async Task Provider_SignedDelivery_PassesExactBody_ForgedStaleAndReplayedGet403(string provider)
    {
        var receiver = new Receiver();
        await using var origin = await TestOrigin.StartAsync("app", receiver.Handle);
        var signer = WebhookSigner.For(provider);
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, signer));
        var hook = new Uri(edge.Url, "/hook/events?source=test");

        using var valid = signer.Sign(hook, DateTimeOffset.UtcNow, out var sent);
        using var replay = await WebhookSigner.CopyAsync(valid);
        using (var response = await edge.Client.SendAsync(valid))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(sent, receiver.Body);
            Assert.Equal("true", receiver.Verified);
        }

        using (var replayed = await edge.Client.SendAsync(replay))
        {
            Assert.Equal(HttpStatusCode.Forbidden, replayed.StatusCode);
            Assert.Contains("replayed", await replayed.Content.ReadAsStringAsync());
        }

        using (var forged = await edge.Client.SendAsync(signer.Impostor().Sign(hook, DateTimeOffset.UtcNow, out _)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
            var page = await forged.Content.ReadAsStringAsync();
            Assert.Contains("mismatch", page);
            Assert.DoesNotContain(signer.ConfigSecret, page);
        }

        if (signer.HasTimestamp)
        {
            using var stale = await edge.Client.SendAsync(signer.Sign(hook, DateTimeOffset.UtcNow.AddSeconds(-360), out _));
            Assert.Equal(HttpStatusCode.Forbidden, stale.StatusCode);
            Assert.Contains("stale by 36", await stale.Content.ReadAsStringAsync());
        }
        Assert.Equal(1, origin.Requests);

        // enforce: false never refuses; it tells the server what the edge found.
        using var annotated = await edge.Client.SendAsync(signer.Impostor().Sign(new Uri(edge.Url, "/annotate"), DateTimeOffset.UtcNow, out var forgedBody));
        Assert.Equal(HttpStatusCode.OK, annotated.StatusCode);
        Assert.Equal(forgedBody, receiver.Body);
        Assert.StartsWith("false; reason=\"", receiver.Verified);
        Assert.Contains("mismatch", receiver.Verified);
    }

    [Fact]
    public async Task MissingSignature_403NamesTheHeader_AnnotateStripsAClientsOwnClaim()
    {
        var receiver = new Receiver();
        await using var origin = await TestOrigin.StartAsync("app", receiver.Handle);
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, WebhookSigner.For("github")));

        using var unsigned = await edge.Client.PostAsync("/hook", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.Forbidden, unsigned.StatusCode);
        Assert.Contains("missing header X-Hub-Signature-256", await unsigned.Content.ReadAsStringAsync());

        using var claim = new HttpRequestMessage(HttpMethod.Post, "/annotate") { Content = new StringContent("{}") };
        claim.Headers.Add(WebhookVerifier.VerifiedHeader, "true");
        using var annotated = await edge.Client.SendAsync(claim);
        Assert.Equal(HttpStatusCode.OK, annotated.StatusCode);
        Assert.Equal("false; reason=\"missing header X-Hub-Signature-256\"", receiver.Verified);
    }

    [Fact]
    [CoversKey("rules[].webhook_verify.max_body")]
    public async Task BodyOverMaxBody_413_NothingForwarded_WithOrWithoutContentLength()
    {
        var receiver = new Receiver();
        await using var origin = await TestOrigin.StartAsync("app", receiver.Handle);
        var signer = WebhookSigner.For("github");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, signer, ", max_body: 1k"));

        using var declared = await edge.Client.PostAsync("/hook", new ByteArrayContent(new byte[2048]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/hook") { Content = new StreamContent(new MemoryStream(new byte[4096])) };
        chunked.Headers.TransferEncodingChunked = true;
        using var streamed = await edge.Client.SendAsync(chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Equal(0, origin.Requests);

        // Under the limit, a chunked delivery is read whole and forwarded unchanged.
        using var small = signer.Sign(new Uri(edge.Url, "/hook"), DateTimeOffset.UtcNow, out var sent);
        small.Content = new StreamContent(new MemoryStream(sent)) { Headers = { ContentType = small.Content!.Headers.ContentType } };
        small.Headers.TransferEncodingChunked = true;
        using var passed = await edge.Client.SendAsync(small);
        Assert.Equal(HttpStatusCode.OK, passed.StatusCode);
        Assert.Equal(sent, receiver.Body);
    }

    [Fact]
    public async Task ServerError_DeliveryForgotten_ProvidersRetryPasses()
    {
        var receiver = new Receiver { Status = 500 };
        await using var origin = await TestOrigin.StartAsync("app", receiver.Handle);
        var signer = WebhookSigner.For("standard_webhooks");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, signer));
        using var first = signer.Sign(new Uri(edge.Url, "/hook"), DateTimeOffset.UtcNow, out _);
        using var retry = await WebhookSigner.CopyAsync(first);
        using var again = await WebhookSigner.CopyAsync(first);

        Assert.Equal(HttpStatusCode.InternalServerError, (await edge.Client.SendAsync(first)).StatusCode);
        receiver.Status = 200;
        Assert.Equal(HttpStatusCode.OK, (await edge.Client.SendAsync(retry)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await edge.Client.SendAsync(again)).StatusCode);
        Assert.Equal(2, origin.Requests);
    }

    [Fact]
    public async Task ReplayWindow_ForgetsADeliveryOnceTheToleranceHasPassed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var origin = await TestOrigin.StartAsync("app");
        var signer = WebhookSigner.For("github");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, signer), s => s.AddSingleton<TimeProvider>(time));
        using var first = signer.Sign(new Uri(edge.Url, "/hook"), time.GetUtcNow(), out _);
        using var soon = await WebhookSigner.CopyAsync(first);
        using var later = await WebhookSigner.CopyAsync(first);

        Assert.Equal(HttpStatusCode.OK, (await edge.Client.SendAsync(first)).StatusCode);
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(HttpStatusCode.Forbidden, (await edge.Client.SendAsync(soon)).StatusCode);
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.OK, (await edge.Client.SendAsync(later)).StatusCode);
    }

    [Fact]
    [CoversKey("rules[].webhook_verify.secret_env", "rules[].webhook_verify.secret_file")]
    public async Task SecretFromEnvironmentOrFile_Verifies()
    {
        var receiver = new Receiver();
        await using var origin = await TestOrigin.StartAsync("app", receiver.Handle);
        var fromEnv = WebhookSigner.For("stripe");
        var fromFile = WebhookSigner.For("slack");
        var variable = "PORTWAY_TEST_WEBHOOK_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, fromEnv.Secret);
        var file = Path.Combine(Directory.CreateTempSubdirectory("portway-webhook-").FullName, "slack.secret");
        await File.WriteAllTextAsync(file, fromFile.Secret + "\n");
        try
        {
            await using var edge = await TestEdge.StartAsync($$"""
                routes:
                  - id: stripe
                    match: { path_prefix: /stripe }
                    cluster: app
                    rules: [ { webhook_verify: { provider: stripe, secret_env: {{variable}} } } ]
                  - id: slack
                    match: { path_prefix: /slack }
                    cluster: app
                    rules: [ { webhook_verify: { provider: slack, secret_file: '{{file}}' } } ]
                clusters:
                  - id: app
                    destinations: [{{origin.Url}}]
                """);
            Assert.Equal(HttpStatusCode.OK, (await edge.Client.SendAsync(fromEnv.Sign(new Uri(edge.Url, "/stripe"), DateTimeOffset.UtcNow, out _))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await edge.Client.SendAsync(fromFile.Sign(new Uri(edge.Url, "/slack"), DateTimeOffset.UtcNow, out _))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await edge.Client.SendAsync(fromFile.Sign(new Uri(edge.Url, "/stripe"), DateTimeOffset.UtcNow, out _))).StatusCode);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task TunnelRoute_TokenRuleVerifiesDeliveries()
    {
        var receiver = new Receiver();
        await using var local = await TestOrigin.StartAsync("local", receiver.Handle);
        var signer = WebhookSigner.For("github");
        await using var edge = await TestEdge.StartAsync($$"""
            tunnels:
              tokens:
                - name: dev
                  sha256: {{TokenAuthenticator.Hash("dev-token")}}
                  allowed_patterns: ["*"]
                  rules:
                    - webhook_verify: { provider: github, secret: '{{signer.ConfigSecret}}' }
            """);
        await using var agent = await TestAgent.StartAsync(edge.Url, TestAgent.Http(local.Url, name: "hooks"), token: "dev-token");
        using var client = Portway.Tests.Tls.TlsClient.Create(edge.Url.Port, null);

        using var valid = await client.SendAsync(signer.Sign(new Uri(agent.Url, "/github"), DateTimeOffset.UtcNow, out var sent));
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(sent, receiver.Body);
        using var forged = await client.SendAsync(signer.Impostor().Sign(new Uri(agent.Url, "/github"), DateTimeOffset.UtcNow, out _));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal(1, local.Requests);
    }

    /// <summary>The variants the theory's signer does not send: Twilio's JSON body (signed through bodySHA256 in the URL) and Mailgun's urlencoded and multipart form posts.</summary>
    [Fact]
    public async Task TwilioJsonBodyAndMailgunForms_Verify_TamperedBodyRefused()
    {
        var receiver = new Receiver();
        await using var origin = await TestOrigin.StartAsync("app", receiver.Handle);
        await using var edge = await TestEdge.StartAsync($$"""
            routes:
              - id: twilio
                match: { path_prefix: /twilio }
                cluster: app
                rules: [ { webhook_verify: { provider: twilio, secret: twilio-token } } ]
              - id: mailgun
                match: { path_prefix: /mailgun }
                cluster: app
                rules: [ { webhook_verify: { provider: mailgun, secret: mailgun-key } } ]
            clusters:
              - id: app
                destinations: [{{origin.Url}}]
            """);

        HttpRequestMessage Twilio(string signedBody, string sentBody)
        {
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(signedBody)));
            var url = new Uri(edge.Url, $"/twilio/status?bodySHA256={hash}");
            var mac = System.Security.Cryptography.HMACSHA1.HashData("twilio-token"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes(url.AbsoluteUri));
            var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(sentBody, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Twilio-Signature", Convert.ToBase64String(mac));
            return request;
        }
        Assert.Equal(HttpStatusCode.OK, (await edge.Client.SendAsync(Twilio("{\"a\":1}", "{\"a\":1}"))).StatusCode);
        using var tampered = await edge.Client.SendAsync(Twilio("{\"a\":1}", "{\"a\":2}"));
        Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
        Assert.Contains("bodySHA256", await tampered.Content.ReadAsStringAsync());

        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var signature = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData("mailgun-key"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes(ts + "tok123")));
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["timestamp"] = ts, ["token"] = "tok123", ["signature"] = signature, ["event"] = "delivered" });
        using var mailgun = await edge.Client.PostAsync("/mailgun", form);
        Assert.Equal(HttpStatusCode.OK, mailgun.StatusCode);
        Assert.Equal("true", receiver.Verified);
        var forged = new FormUrlEncodedContent(new Dictionary<string, string> { ["timestamp"] = ts, ["token"] = "tok124", ["signature"] = signature });
        Assert.Equal(HttpStatusCode.Forbidden, (await edge.Client.PostAsync("/mailgun", forged)).StatusCode);

        // An inbound route's post: multipart/form-data with an attachment (whose part must not count as a field).
        MultipartFormDataContent Inbound(string token, string mac)
        {
            var content = new MultipartFormDataContent();
            content.Add(new StringContent(ts), "timestamp");
            content.Add(new StringContent(token), "token");
            content.Add(new StringContent(mac), "signature");
            content.Add(new StringContent("Hello"), "body-plain");
            content.Add(new ByteArrayContent(new byte[20_000]), "attachment-1", "signature");
            return content;
        }
        var inboundMac = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData("mailgun-key"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes(ts + "tok200")));
        using var inbound = await edge.Client.PostAsync("/mailgun/inbound", Inbound("tok200", inboundMac));
        Assert.Equal(HttpStatusCode.OK, inbound.StatusCode);
        Assert.Equal("true", receiver.Verified);
        using var inboundForged = await edge.Client.PostAsync("/mailgun/inbound", Inbound("tok201", inboundMac));
        Assert.Equal(HttpStatusCode.Forbidden, inboundForged.StatusCode);
        Assert.Contains("signature mismatch", await inboundForged.Content.ReadAsStringAsync());
        using var noFields = await edge.Client.PostAsync("/mailgun/inbound", new MultipartFormDataContent { { new StringContent("x"), "event" } });
        Assert.Contains("missing body fields timestamp, token and signature", await noFields.Content.ReadAsStringAsync());
    }

    /// <summary>Discord's Ed25519 covers the timestamp and the body: either changed after signing is a mismatch; a signature that is not 64 bytes of hex is malformed.</summary>
    [Fact]
    public async Task Discord_TimestampOrBodyChangedAfterSigning_Mismatch_BadHexMalformed()
    {
        await using var origin = await TestOrigin.StartAsync("app");
        var signer = WebhookSigner.For("discord");
        await using var edge = await TestEdge.StartAsync(Config(origin.Url, signer));
        var hook = new Uri(edge.Url, "/hook/interactions");

        async Task<string> RefusedAsync(HttpRequestMessage request)
        {
            using var response = await edge.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }
        using var retimed = signer.Sign(hook, DateTimeOffset.UtcNow, out _);
        var ts = long.Parse(retimed.Headers.GetValues("X-Signature-Timestamp").Single(), System.Globalization.CultureInfo.InvariantCulture);
        retimed.Headers.Remove("X-Signature-Timestamp");
        retimed.Headers.Add("X-Signature-Timestamp", (ts - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("signature mismatch", await RefusedAsync(retimed));

        using var rebodied = signer.Sign(hook, DateTimeOffset.UtcNow, out var body);
        body[^2] ^= 1;
        rebodied.Content = new ByteArrayContent(body) { Headers = { ContentType = rebodied.Content!.Headers.ContentType } };
        Assert.Contains("signature mismatch", await RefusedAsync(rebodied));

        using var truncated = signer.Sign(hook, DateTimeOffset.UtcNow, out _);
        var signature = truncated.Headers.GetValues("X-Signature-Ed25519").Single();
        truncated.Headers.Remove("X-Signature-Ed25519");
        truncated.Headers.Add("X-Signature-Ed25519", signature[..^2]);
        Assert.Contains("malformed header X-Signature-Ed25519", await RefusedAsync(truncated));
        Assert.Equal(0, origin.Requests);

        using var genuine = signer.Sign(hook, DateTimeOffset.UtcNow, out _);
        Assert.Equal(HttpStatusCode.OK, (await edge.Client.SendAsync(genuine)).StatusCode);
    }

    /// <summary>docs/webhooks.md's examples load, and its provider table names exactly the providers there are.</summary>
    [Fact]
    public void WebhooksDoc_ExamplesLoad_TableListsEveryProvider()
    {
        var markdown = File.ReadAllText(Path.Combine(Configuration.ValidationGoldenTests.FindRepoRoot(), "docs", "webhooks.md"));
        Environment.SetEnvironmentVariable("GITHUB_WEBHOOK_SECRET", "example");
        try
        {
            var parts = markdown.Split("```");
            var examples = 0;
            for (var i = 1; i < parts.Length; i += 2)
            {
                if (parts[i].StartsWith("yaml\n", StringComparison.Ordinal)) ConfigLoader.Parse(parts[i]["yaml\n".Length..], $"webhooks.md example {++examples}");
            }
            Assert.True(examples >= 1);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GITHUB_WEBHOOK_SECRET", null);
        }
        var table = markdown[markdown.IndexOf("## Providers", StringComparison.Ordinal)..markdown.IndexOf("### Providers that sign", StringComparison.Ordinal)];
        var listed = table.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)).Select(l => l.Split('`')[1]).Skip(1).ToArray();
        Assert.Equal(WebhookSchemes.Names, listed);
    }

    [Theory]
    [InlineData("{ provider: githb, secret: s }", "t.yaml:8:37: routes[0].rules[0].webhook_verify.provider: 'githb' is not allowed (did you mean 'github'?); allowed: github, stripe")]
    [InlineData("{ provider: github }", "t.yaml:8:25: routes[0].rules[0].webhook_verify.secret: is required: give secret, secret_env")]
    [InlineData("{ provider: github, secret: a, secret_env: B }", "t.yaml:8:68: routes[0].rules[0].webhook_verify.secret_env: give only one of secret, secret_env and secret_file (found secret and secret_env)")]
    [InlineData("{ provider: standard_webhooks, secret: 'whsec_not base64!' }", "t.yaml:8:64: routes[0].rules[0].webhook_verify.secret: is not the endpoint's signing secret: whsec_ followed by base64 (the value is not shown here)")]
    [InlineData("{ provider: discord, secret: 'not base64!' }", "t.yaml:8:54: routes[0].rules[0].webhook_verify.secret: is not the application's public key (64 hex digits, General Information → Public Key) (the value is not shown here)")]
    [InlineData("{ provider: github, secret_env: PORTWAY_TEST_NO_SUCH_VARIABLE }", "t.yaml:8:57: routes[0].rules[0].webhook_verify.secret_env: the environment variable PORTWAY_TEST_NO_SUCH_VARIABLE is not set or empty")]
    public void Load_BadWebhookVerify_LocatedErrorWithoutTheSecret(string rule, string expected) =>
        Assert.DoesNotContain("not base64!", RuleConfigErrors.Assert("webhook_verify: " + rule, expected));
}
