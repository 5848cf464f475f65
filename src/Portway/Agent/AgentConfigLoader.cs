using System.Collections.Immutable;
using Portway.Configuration;
using Portway.Protocol;
using YamlDotNet.RepresentationModel;

namespace Portway.Agent;

/// <summary>
/// Reads the agent config file (docs/tunnels.md): edge, token, inspect and named tunnels.
/// Errors are collected as file:line:column like the edge's config, through the same
/// <see cref="YamlSection"/> and the same value parsers the CLI flags use.
/// </summary>
internal static class AgentConfigLoader
{
    private static readonly string[] TopKeys = ["edge", "token", "edge_ca", "insecure", "allow_plain_http", "inspect", "link", "tunnels"];
    private static readonly string[] TunnelKeys =
        ["proto", "addr", "name", "remote_port", "host_header", "basic_auth", "allow_cidr", "deny_cidr", "request_header_add", "response_header_remove", "policy"];

    public sealed record AgentFile(Uri? Edge, string? Token, string? Inspect, ImmutableArray<AgentTunnelOptions> Tunnels, string? EdgeCa = null, bool Insecure = false, string? Link = null, bool AllowPlainHttp = false)
    {
        public static readonly AgentFile Empty = new(null, null, null, []);
    }

    public static AgentFile Load(string path) => Parse(YamlFile.ReadText(path), path);

    public static AgentFile Parse(string text, string file)
    {
        var context = new ConfigContext(file);
        if (YamlFile.LoadRoot(text, file, TopKeys) is not { } root) return AgentFile.Empty;

        var top = new YamlSection(context, root, "", TopKeys);
        Uri? edge = null;
        if (top.String("edge") is { } edgeText)
        {
            if (Uri.TryCreate(edgeText, UriKind.Absolute, out var u) && u.Scheme is "http" or "https") edge = u;
            else top.Error("edge", $"'{edgeText}' is not an edge URL; write it like https://edge.example.com");
        }
        var inspect = top.String("inspect");
        if (inspect is not null && !AgentTunnelSpec.TryParseInspect(inspect, out _, out var inspectError)) top.Error("inspect", inspectError);
        var tunnels = ImmutableArray.CreateBuilder<AgentTunnelOptions>();
        if (top.Raw("tunnels") is { } node)
        {
            if (node is not YamlMappingNode map) context.Error(node, "tunnels", "must be a mapping of tunnel names to settings, e.g. web: {proto: http, addr: 3000}");
            else
            {
                foreach (var (key, value) in map.Children)
                {
                    var id = (key as YamlScalarNode)?.Value ?? "";
                    if (value is not YamlMappingNode tm)
                    {
                        context.Error(value, $"tunnels.{id}", $"must be a mapping with keys: {string.Join(", ", TunnelKeys)}");
                        continue;
                    }
                    if (ReadTunnel(new YamlSection(context, tm, $"tunnels.{id}", TunnelKeys), id) is { } t) tunnels.Add(t);
                }
            }
        }
        var edgeCa = top.String("edge_ca");
        if (edgeCa is not null && !Path.IsPathRooted(edgeCa)) edgeCa = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", edgeCa));
        var insecure = top.Bool("insecure") ?? false;
        // Same values as the --link flag (docs/tunnels.md); the flag wins over the file.
        var link = top.Enum("link", ["auto", "http1", "http2"]);
        if (context.Errors.Count > 0) throw new ConfigException(context.Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList());
        return new AgentFile(edge, top.String("token"), inspect, tunnels.ToImmutable(), edgeCa, insecure, link, top.Bool("allow_plain_http") ?? false);
    }

    private static AgentTunnelOptions? ReadTunnel(YamlSection s, string id)
    {
        var kind = s.Enum("proto", ["http", "tcp"], required: true) == "tcp" ? TunnelKind.Tcp : TunnelKind.Http;
        var addr = s.String("addr", required: true);
        Uri? target = null;
        if (addr is not null)
        {
            target = AgentTunnelSpec.ParseTarget(kind, addr, out var error);
            if (target is null) s.Error("addr", error);
        }
        string? name = null;
        if (s.String("name") is { } n)
        {
            name = AgentTunnelSpec.ParseName(n, out var error);
            if (name is null) s.Error("name", error);
        }
        if (kind == TunnelKind.Tcp && name is not null) s.Error("name", "TCP tunnels have no name; the edge gives them a port (set remote_port to ask for one)");
        string? hostHeader = null;
        if (s.String("host_header") is { } h)
        {
            hostHeader = AgentTunnelSpec.ParseHostHeader(h, out var error);
            if (hostHeader is null) s.Error("host_header", error);
        }
        ImmutableArray<T> List<T>(string key, Func<string, (T? Value, string Error)> parse) where T : struct
        {
            var b = ImmutableArray.CreateBuilder<T>();
            foreach (var (text, node) in s.StringList(key))
            {
                var (value, error) = parse(text);
                if (value is { } v) b.Add(v);
                else s.Context.Error(node, s.Join(key), error);
            }
            return b.ToImmutable();
        }
        var auth = List(key: "basic_auth", parse: t => (AgentTunnelSpec.ParseBasicAuth(t, out var e), e));
        var allow = List(key: "allow_cidr", parse: t => ((System.Net.IPNetwork?)AgentTunnelSpec.ParseCidr(t, out var e), e));
        var deny = List(key: "deny_cidr", parse: t => ((System.Net.IPNetwork?)AgentTunnelSpec.ParseCidr(t, out var e), e));
        var add = List(key: "request_header_add", parse: t => (AgentTunnelSpec.ParseHeader(t, out var e), e));
        var remove = ImmutableArray.CreateBuilder<string>();
        foreach (var (text, node) in s.StringList("response_header_remove"))
        {
            if (AgentTunnelSpec.ParseHeaderName(text, out var e) is { } headerName) remove.Add(headerName);
            else s.Context.Error(node, s.Join("response_header_remove"), e);
        }
        string? policy = null;
        if (s.String("policy") is { } policyPath)
        {
            if (kind == TunnelKind.Tcp) s.Error("policy", "TCP tunnels have no requests for rules to check; a policy applies to http tunnels");
            // Relative to this file, like edge_ca; the policy's own errors name the policy file.
            var full = Path.IsPathRooted(policyPath) ? policyPath : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(s.Context.File)) ?? "", policyPath);
            policy = AgentTunnelSpec.ReadPolicy(full, s.Context.Errors);
        }
        if (target is null) return null;
        return new AgentTunnelOptions
        {
            Id = id,
            Policy = policy,
            Kind = kind,
            Target = target,
            Name = name,
            RemotePort = s.Int("remote_port", 1, 65535),
            HostHeader = hostHeader,
            BasicAuth = auth,
            AllowCidrs = allow,
            DenyCidrs = deny,
            RequestHeadersAdd = add,
            ResponseHeadersRemove = remove.ToImmutable(),
        };
    }
}
