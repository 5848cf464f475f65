using System.Collections.Immutable;
using System.Net;
using Portway.Agent;
using Portway.Configuration;

namespace Portway.Cli;

/// <summary>
/// Runs an agent for the CLI: resolves edge, token and inspector from flags, environment and the
/// user config file, starts it, shows the status screen, and maps outcomes to exit codes:
/// 0 stopped by the user, 1 could not start, 2 bad flags or config, 3 refused by the edge.
/// </summary>
internal static class AgentRunner
{
    public const int ExitRefused = 3;

    /// <summary>Connection flags; null/false = take the user config's value or the default.</summary>
    public sealed record Connection(string? Edge, string? Token, string? Inspect, string? EdgeCa, bool Insecure, string? Link = null, bool AllowPlainHttp = false);

    public static async Task<int> RunAsync(Connection flags, ImmutableArray<AgentTunnelOptions> tunnels, List<string> errors, CancellationToken cancellationToken, AgentConfigLoader.AgentFile? file = null)
    {
        var (edgeFlag, tokenFlag, inspectFlag) = (flags.Edge, flags.Token, flags.Inspect);
        if (file is null)
        {
            try
            {
                file = File.Exists(UserConfig.DefaultPath) ? AgentConfigLoader.Load(UserConfig.DefaultPath) : AgentConfigLoader.AgentFile.Empty;
            }
            catch (ConfigException e)
            {
                foreach (var error in e.Errors) Console.Error.WriteLine(error);
                return 2;
            }
        }
        var edge = file.Edge ?? AgentOptions.DefaultEdge;
        if (edgeFlag is not null)
        {
            var text = edgeFlag.Contains("://", StringComparison.Ordinal) ? edgeFlag : "http://" + edgeFlag;
            if (Uri.TryCreate(text, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" && u.AbsolutePath == "/") edge = u;
            else errors.Add($"--edge: '{edgeFlag}' is not an edge URL; write it like https://edge.example.com or http://localhost:8080");
        }
        // The inspector defaults to ngrok's 127.0.0.1:4040; only an address asked for explicitly
        // is an error when taken (a second agent on the machine just goes without).
        var inspectExplicit = inspectFlag ?? file.Inspect;
        if (!AgentTunnelSpec.TryParseInspect(inspectExplicit ?? DefaultInspect, out var inspect, out var inspectError)) errors.Add("--inspect: " + inspectError);
        var edgeCa = flags.EdgeCa ?? file.EdgeCa;
        var insecure = flags.Insecure || file.Insecure;
        var link = (flags.Link ?? file.Link) switch
        {
            null or "auto" => LinkTransport.Auto,
            "http1" => LinkTransport.Http1,
            "http2" => LinkTransport.Http2,
            _ => (LinkTransport?)null,
        };
        if (link is null) errors.Add($"--link: '{flags.Link}' is not a link mode; use auto, http1 or http2");
        if (edge.Scheme == "https")
        {
            try
            {
                Portway.Protocol.LinkTls.ClientOptions(edge.IdnHost, edgeCa, insecure);
            }
            catch (Portway.Protocol.LinkTlsException e)
            {
                errors.Add("--edge-ca: " + e.Message);
            }
        }
        var token = tokenFlag ?? NullIfEmpty(Environment.GetEnvironmentVariable("PORTWAY_TOKEN")) ?? file.Token;
        var allowPlainHttp = flags.AllowPlainHttp || file.AllowPlainHttp;
        // A bearer token over plain http to another machine can be read and replayed by anyone on the
        // path (RFC 6750 §5.3: bearer tokens only over TLS). Loopback never leaves the machine.
        if (token is not null && edge.Scheme == "http" && !edge.IsLoopback)
        {
            if (!allowPlainHttp)
                errors.Add($"--edge: {edge} is plain http to another machine, so the token would cross the network in clear text and anyone on the path could copy it and take your tunnels. "
                    + $"Use the edge's https listener (https://{edge.Host}), or for a lab network add --allow-plain-http.");
            else Console.Error.WriteLine($"portway: WARNING: --allow-plain-http: the token goes to {edge} unencrypted; anyone on the network path can copy it.");
        }
        if (errors.Count > 0)
        {
            foreach (var e in errors) Console.Error.WriteLine("portway: " + e);
            return 2;
        }
        if (token is null && !edge.IsLoopback)
            Console.Error.WriteLine($"portway: no token given for {edge}; an edge on another machine requires one (--token, $PORTWAY_TOKEN, or `portway token add TOKEN`).");

        if (insecure) Console.Error.WriteLine("portway: WARNING: --insecure: the edge's certificate is not checked; anyone on the network path can read and change this tunnel's traffic.");
        var options = new AgentOptions { Edge = edge, Token = token, Tunnels = tunnels, Inspect = inspect, EdgeCaFile = edgeCa, Insecure = insecure, Link = link ?? LinkTransport.Auto };
        if (inspectExplicit is null && inspect is not null) options = options with { Inspect = Agent.Inspector.InspectorAddress.FirstFree(inspect) };
        await using var agent = AgentHost.Create(options);
        using var screen = new StatusScreen(agent, Console.Out, interactive: !Console.IsOutputRedirected);
        try
        {
            await agent.StartAsync(cancellationToken);
        }
        catch (LinkRefusedException e)
        {
            Console.Error.WriteLine($"portway: the edge at {edge} refused the tunnel: {e.Message}");
            return ExitRefused;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine("portway: " + e.Message);
            return 1;
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        try
        {
            await agent.Links.Stopped.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
        catch (LinkRefusedException e)
        {
            screen.Render();
            Console.Error.WriteLine($"portway: the edge at {edge} refused the tunnel: {e.Message}");
            return ExitRefused;
        }
        return 0;
    }

    private const string DefaultInspect = "127.0.0.1:4040";

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
