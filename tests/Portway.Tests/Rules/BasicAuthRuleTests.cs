using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Portway.Configuration;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Rules;

/// <summary>
/// basic_auth with salted slow hashes through the real edge: bcrypt made by Apache's htpasswd and
/// by portway hash-password, PBKDF2, htpasswd files, the error for the old password_sha256, and
/// the remembered successes never outliving a password change.
/// </summary>
public sealed class BasicAuthRuleTests
{
    private static string Guarded(Uri origin, string basicAuth) => $"""
        routes:
          - id: staff
            cluster: app
            access:
              basic_auth:
        {basicAuth}
        clusters:
          - id: app
            destinations: [{origin}]
        """;

    private static string Users(params (string Name, string Hash)[] users) =>
        "          users:\n" + string.Concat(users.Select(u => $"            - {{ name: {u.Name}, password_hash: '{u.Hash}' }}\n"));

    private static async Task<HttpStatusCode> AsAsync(TestEdge edge, string user, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await edge.Client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>`htpasswd -nbB`: the line Apache's tool writes (user:$2y$…), at a low cost to keep tests quick.</summary>
    private static async Task<string> HtpasswdLineAsync(string user, string password)
    {
        var htpasswd = Tools.Require("htpasswd", "apache2-utils");
        using var process = Process.Start(new ProcessStartInfo(htpasswd, ["-nbB", "-C", "5", user, password]) { RedirectStandardOutput = true })!;
        var line = (await process.StandardOutput.ReadToEndAsync()).Trim();
        await process.WaitForExitAsync();
        return line;
    }

    /// <summary>Runs `portway hash-password ARGS` with <paramref name="stdin"/> piped in.</summary>
    private static async Task<(int Exit, string Stdout, string Stderr)> HashPasswordAsync(string stdin, params string[] args)
    {
        var info = PortwayProcess.Command();
        info.ArgumentList.Add("hash-password");
        foreach (var a in args) info.ArgumentList.Add(a);
        info.RedirectStandardInput = info.RedirectStandardOutput = info.RedirectStandardError = true;
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, (await stdout).Trim(), await stderr);
    }

    [SkippableFact]
    [CoversKey("routes[].access.basic_auth.users[].password_hash")]
    public async Task BcryptFromHtpasswd_RightPasswordPasses_WrongOrUnknownUserIs401()
    {
        var line = await HtpasswdLineAsync("alice", "s3cret");
        Assert.StartsWith("alice:$2y$05$", line);
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Guarded(origin.Url, Users(("alice", line[6..]))));

        Assert.Equal(HttpStatusCode.Unauthorized, await AsAsync(edge, "alice", "wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, await AsAsync(edge, "mallory", "s3cret"));
        Assert.Equal(HttpStatusCode.OK, await AsAsync(edge, "alice", "s3cret"));
        // Remembered: the second request takes the cache's path, which must still check the password.
        Assert.Equal(HttpStatusCode.OK, await AsAsync(edge, "alice", "s3cret"));
        Assert.Equal(HttpStatusCode.Unauthorized, await AsAsync(edge, "alice", "s3cret "));
        Assert.Equal(HttpStatusCode.Unauthorized, await AsAsync(edge, "alice", ""));
        Assert.Equal(2, origin.Requests);
    }

    [SkippableFact]
    [CoversKey("routes[].access.basic_auth.htpasswd")]
    public async Task Htpasswd_FileOfBcryptLines_ItsUsersLogIn()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("portway-htpasswd-").FullName, "users");
        await File.WriteAllTextAsync(file, $"# staff\n{await HtpasswdLineAsync("alice", "pw-a")}\n{await HtpasswdLineAsync("bob", "pw-b")}\n");
        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Guarded(origin.Url, $"          htpasswd: {file}"));

        Assert.Equal(HttpStatusCode.OK, await AsAsync(edge, "alice", "pw-a"));
        Assert.Equal(HttpStatusCode.OK, await AsAsync(edge, "bob", "pw-b"));
        Assert.Equal(HttpStatusCode.Unauthorized, await AsAsync(edge, "bob", "pw-a"));
    }

    [Fact]
    public void Htpasswd_Md5LineOrMissingFile_LocatedErrorNamingTheLine()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("portway-htpasswd-").FullName, "users");
        File.WriteAllText(file, "alice:$apr1$Bn0s8rVE$3Po9lYPB6Ye5hbtzhkeRw/\n");
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Guarded(new Uri("http://127.0.0.1:1"), $"          htpasswd: {file}"), "t.yaml"));
        Assert.Equal($"t.yaml:6:21: routes[0].access.basic_auth.htpasswd: {file}:1: user 'alice': the hash is an MD5 crypt hash, which is fast to guess and not accepted; re-hash with: htpasswd -B or portway hash-password",
            Assert.Single(error.Errors).ToString());

        error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Guarded(new Uri("http://127.0.0.1:1"), $"          htpasswd: {file}.missing"), "t.yaml"));
        Assert.StartsWith($"t.yaml:6:21: routes[0].access.basic_auth.htpasswd: '{file}.missing' cannot be read", Assert.Single(error.Errors).ToString());
    }

    [Fact]
    public void PasswordSha256_IsAConfigErrorSayingHowToRehash()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Guarded(new Uri("http://127.0.0.1:1"),
            "          users: [{ name: alice, password_sha256: 4e738ca5563c06cfd0018299933d58db1dd8bf97f6973dc99bf6cdc64b5550d7 }]"), "t.yaml"));
        Assert.Equal("t.yaml:6:51: routes[0].access.basic_auth.users[0].password_sha256: is no longer accepted: an unsalted SHA-256 is guessed quickly "
            + "from a leaked config; write password_hash: with the output of `portway hash-password` (bcrypt) instead", Assert.Single(error.Errors).ToString());
    }

    [Theory]
    [InlineData("not-a-hash", "is not a bcrypt ($2a$, $2b$, $2y$) or pbkdf2-sha256$… hash; make one with: portway hash-password")]
    [InlineData("pbkdf2-sha256$1000$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==", "1000 PBKDF2 iterations are too few; at least 100000")]
    [InlineData("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", "is an unsalted SHA-1 hash, which is not accepted")]
    public void PasswordHash_NotAcceptedKind_LocatedError(string hash, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Guarded(new Uri("http://127.0.0.1:1"), Users(("alice", hash))), "t.yaml"));
        Assert.Contains("routes[0].access.basic_auth.users[0].password_hash: " + expected, Assert.Single(error.Errors).ToString());
    }

    [Fact]
    public async Task CachedRoute_CredentialsNotForwarded_ResponseStoredAndServedOnlyToSignedInClients()
    {
        var sawAuthorization = 0;
        await using var origin = await TestOrigin.StartAsync("a", ctx =>
        {
            if (ctx.Request.Headers.ContainsKey("Authorization")) Interlocked.Increment(ref sawAuthorization);
            ctx.Response.Headers.CacheControl = "max-age=60";
            return ctx.Response.WriteAsync("page");
        });
        var yaml = Guarded(origin.Url, Users(("alice", BCrypt.Net.BCrypt.HashPassword("pw", 4)))).Replace("    access:", "    cache: true\n    access:");
        await using var edge = await TestEdge.StartAsync(yaml);

        Assert.Equal(HttpStatusCode.OK, await AsAsync(edge, "alice", "pw"));
        // The server never saw the credentials, so its answer is not one user's (RFC 9111 §3.5 is
        // about requests the server answers): stored, and the second request is a hit.
        Assert.Equal(HttpStatusCode.OK, await AsAsync(edge, "alice", "pw"));
        Assert.Equal(1, origin.Requests);
        Assert.Equal(0, Volatile.Read(ref sawAuthorization));
        // The rule runs before the cache: a stored page is no way around the password.
        Assert.Equal(HttpStatusCode.Unauthorized, await AsAsync(edge, "alice", "wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await edge.Client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Reload_PasswordChanged_OldPasswordRefusedThoughItWasRemembered()
    {
        await using var origin = await TestOrigin.StartAsync("a");
        var config = (string hash) => Guarded(origin.Url, Users(("alice", hash)));
        await using var edge = await TestEdge.StartAsync(config(BCrypt.Net.BCrypt.HashPassword("old", 4)));
        Assert.Equal(HttpStatusCode.OK, await AsAsync(edge, "alice", "old"));

        await edge.RewriteAsync(config(BCrypt.Net.BCrypt.HashPassword("new", 4)));
        await Wait.UntilAsync(async () => await AsAsync(edge, "alice", "new") == HttpStatusCode.OK, because: "the reload to apply");
        Assert.Equal(HttpStatusCode.Unauthorized, await AsAsync(edge, "alice", "old"));
    }

    [Fact]
    public async Task HashPassword_FromStdin_BcryptAtTheCostTheEdgeAccepts()
    {
        var (exit, hash, stderr) = await HashPasswordAsync("correct horse\n", "--cost", "5");
        Assert.True(exit == 0, stderr);
        Assert.Matches(@"^\$2[aby]\$05\$[./A-Za-z0-9]{53}$", hash);

        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Guarded(origin.Url, Users(("alice", hash))));
        Assert.Equal(HttpStatusCode.OK, await AsAsync(edge, "alice", "correct horse"));
        Assert.Equal(HttpStatusCode.Unauthorized, await AsAsync(edge, "alice", "correct horse\n"));
    }

    [Fact]
    public async Task HashPassword_Pbkdf2_TheEdgeAcceptsIt()
    {
        var (exit, hash, stderr) = await HashPasswordAsync("pw", "--algorithm", "pbkdf2-sha256");
        Assert.True(exit == 0, stderr);
        Assert.StartsWith("pbkdf2-sha256$600000$", hash);

        await using var origin = await TestOrigin.StartAsync("a");
        await using var edge = await TestEdge.StartAsync(Guarded(origin.Url, Users(("alice", hash))));
        Assert.Equal(HttpStatusCode.OK, await AsAsync(edge, "alice", "pw"));
        Assert.Equal(HttpStatusCode.Unauthorized, await AsAsync(edge, "alice", "pw2"));
    }

    [Theory]
    [InlineData("pw\n", new[] { "--cost", "3" }, "portway hash-password: --cost: 3 is out of range; allowed: 4 to 31")]
    [InlineData("\n", new string[0], "portway hash-password: the password is empty")]
    public async Task HashPassword_BadInput_Exit2WithTheReason(string stdin, string[] args, string expected)
    {
        var (exit, stdout, stderr) = await HashPasswordAsync(stdin, args);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith(expected, stderr);
    }
}
