using System.Collections.Immutable;
using System.CommandLine;
using Portway.Agent;
using Portway.Protocol;

namespace Portway.Cli;

/// <summary>
/// The flags shared by `portway http` and `portway tcp`, bound to <see cref="AgentTunnelOptions"/>
/// through the same parsers the agent config file uses.
/// </summary>
internal sealed class AgentFlags
{
    public Option<string?> Edge { get; } = new("--edge") { Description = "The edge to connect to (default: the user config's edge, else http://localhost:8080)." };
    public Option<string?> Token { get; } = new("--token") { Description = "Tunnel token (default: $PORTWAY_TOKEN, else the one stored by `portway token add`). Not needed for an edge on this machine in dev mode." };
    public Option<string?> EdgeCa { get; } = new("--edge-ca") { Description = "PEM file of the CA that signed the edge's certificate (a private CA). Default: the system's roots." };
    public Option<bool> Insecure { get; } = new("--insecure") { Description = "Do not check the edge's certificate (labs only: anyone on the path can read the tunnel)." };
    public Option<bool> AllowPlainHttp { get; } = new("--allow-plain-http") { Description = "Send the token to an http:// edge on another machine (labs only: the token crosses the network readable by anyone on the path). Default: refused; use https://." };
    public Option<string?> Link { get; } = new("--link") { Description = "How links are opened: auto (default: HTTP/1.1 upgrade, HTTP/2 extended CONNECT when the edge's listener speaks only HTTP/2), http1, http2." };
    public Option<string?> Name { get; } = new("--name") { Description = "Ask for this name (NAME.DOMAIN); the token must allow it. Default: a random name like quiet-otter-3f9a." };
    public Option<int?> RemotePort { get; } = new("--remote-port") { Description = "Ask for this public port (TCP tunnels); default: any free port in the edge's range." };
    public Option<string?> HostHeader { get; } = new("--host-header") { Description = "Host header sent to the local server: 'rewrite' (the local address) or a value. Default: the visitor's." };
    public Option<string[]> BasicAuth { get; } = new("--basic-auth") { Description = "Require USER:PASSWORD from visitors (repeatable)." };
    public Option<string[]> AllowCidr { get; } = new("--allow-cidr") { Description = "Only visitors from this network (repeatable), e.g. 203.0.113.0/24." };
    public Option<string[]> DenyCidr { get; } = new("--deny-cidr") { Description = "Refuse visitors from this network (repeatable); checked before --allow-cidr." };
    public Option<string[]> RequestHeaderAdd { get; } = new("--request-header-add") { Description = "Add a header to requests, \"Name: value\" (repeatable)." };
    public Option<string[]> ResponseHeaderRemove { get; } = new("--response-header-remove") { Description = "Remove a header from responses (repeatable)." };
    public Option<string?> Policy { get; } = new("--policy") { Description = "A YAML file with a rules: list (the edge's rule kinds and syntax) the edge applies to this tunnel's requests after its own rules." };
    public Option<string?> Inspect { get; } = new("--inspect") { Description = "Address of the web inspector (page, JSON API, replay), or false. Default: 127.0.0.1:4040, else the next free port up to 4049." };

    public void AddTo(Command command, TunnelKind kind)
    {
        command.Options.Add(Edge);
        command.Options.Add(Token);
        command.Options.Add(EdgeCa);
        command.Options.Add(Insecure);
        command.Options.Add(AllowPlainHttp);
        command.Options.Add(Link);
        if (kind == TunnelKind.Http)
        {
            command.Options.Add(Name);
            command.Options.Add(HostHeader);
            command.Options.Add(BasicAuth);
            command.Options.Add(RequestHeaderAdd);
            command.Options.Add(ResponseHeaderRemove);
            command.Options.Add(Policy);
        }
        else command.Options.Add(RemotePort);
        command.Options.Add(AllowCidr);
        command.Options.Add(DenyCidr);
        command.Options.Add(Inspect);
    }

    /// <summary>The connection settings from the flags (the rest come from the user config in <see cref="AgentRunner"/>).</summary>
    public AgentRunner.Connection Connection(ParseResult parse) =>
        new(parse.GetValue(Edge), parse.GetValue(Token), parse.GetValue(Inspect), parse.GetValue(EdgeCa), parse.GetValue(Insecure), parse.GetValue(Link), parse.GetValue(AllowPlainHttp));

    /// <summary>Builds the tunnel from the flags; every problem goes to <paramref name="errors"/> as "--flag: what is wrong".</summary>
    public AgentTunnelOptions? BuildTunnel(ParseResult parse, TunnelKind kind, string target, List<string> errors)
    {
        var uri = AgentTunnelSpec.ParseTarget(kind, target, out var targetError);
        if (uri is null) errors.Add($"{(kind == TunnelKind.Http ? "http" : "tcp")} TARGET: {targetError}");
        string? name = null, hostHeader = null;
        if (kind == TunnelKind.Http && parse.GetValue(Name) is { } n && (name = AgentTunnelSpec.ParseName(n, out var e1)) is null) errors.Add("--name: " + e1);
        if (kind == TunnelKind.Http && parse.GetValue(HostHeader) is { } h && (hostHeader = AgentTunnelSpec.ParseHostHeader(h, out var e2)) is null) errors.Add("--host-header: " + e2);
        var remotePort = kind == TunnelKind.Tcp ? parse.GetValue(RemotePort) : null;
        if (remotePort is < 1 or > 65535) errors.Add($"--remote-port: {remotePort} is not a port (1-65535)");
        var auth = Collect(parse, BasicAuth, "--basic-auth", errors, t => (AgentTunnelSpec.ParseBasicAuth(t, out var e), e));
        var allow = Collect(parse, AllowCidr, "--allow-cidr", errors, t => ((System.Net.IPNetwork?)AgentTunnelSpec.ParseCidr(t, out var e), e));
        var deny = Collect(parse, DenyCidr, "--deny-cidr", errors, t => ((System.Net.IPNetwork?)AgentTunnelSpec.ParseCidr(t, out var e), e));
        var add = Collect(parse, RequestHeaderAdd, "--request-header-add", errors, t => (AgentTunnelSpec.ParseHeader(t, out var e), e));
        var remove = ImmutableArray.CreateBuilder<string>();
        foreach (var r in parse.GetValue(ResponseHeaderRemove) ?? [])
        {
            if (AgentTunnelSpec.ParseHeaderName(r, out var e) is { } headerName) remove.Add(headerName);
            else errors.Add("--response-header-remove: " + e);
        }
        string? policy = null;
        if (kind == TunnelKind.Http && parse.GetValue(Policy) is { } policyPath)
        {
            var policyErrors = new List<Portway.Configuration.ConfigError>();
            policy = AgentTunnelSpec.ReadPolicy(policyPath, policyErrors);
            foreach (var e in policyErrors) errors.Add("--policy: " + e);
        }
        if (uri is null) return null;
        return new AgentTunnelOptions
        {
            Id = kind == TunnelKind.Http ? "http" : "tcp",
            Policy = policy,
            Kind = kind,
            Target = uri,
            Name = name,
            RemotePort = remotePort,
            HostHeader = hostHeader,
            BasicAuth = auth,
            AllowCidrs = allow,
            DenyCidrs = deny,
            RequestHeadersAdd = add,
            ResponseHeadersRemove = remove.ToImmutable(),
        };
    }

    private static ImmutableArray<T> Collect<T>(ParseResult parse, Option<string[]> option, string flag, List<string> errors, Func<string, (T? Value, string Error)> parser) where T : struct
    {
        var b = ImmutableArray.CreateBuilder<T>();
        foreach (var text in parse.GetValue(option) ?? [])
        {
            var (value, error) = parser(text);
            if (value is { } v) b.Add(v);
            else errors.Add($"{flag}: {error}");
        }
        return b.ToImmutable();
    }
}
