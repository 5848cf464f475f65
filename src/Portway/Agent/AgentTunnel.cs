using System.Net;
using System.Text;
using Portway.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace Portway.Agent;

/// <summary>A granted tunnel with what forwarding needs prepared once: destination prefix, transformer, auth bytes.</summary>
internal sealed class AgentTunnel
{
    public AgentTunnel(AgentTunnelOptions options, TunnelGrant grant)
    {
        Options = options;
        Grant = grant;
        Destination = options.Target.GetLeftPart(UriPartial.Authority);
        Transformer = new AgentTransformer(options);
        var credentials = new byte[options.BasicAuth.Length][];
        for (var i = 0; i < credentials.Length; i++) credentials[i] = Encoding.UTF8.GetBytes(options.BasicAuth[i].User + ":" + options.BasicAuth[i].Password);
        Credentials = credentials;
    }

    public AgentTunnelOptions Options { get; }
    public TunnelGrant Grant { get; }
    public string Destination { get; }
    public HttpTransformer Transformer { get; }

    /// <summary>"user:password" as UTF-8, compared in constant time against the visitor's.</summary>
    public byte[][] Credentials { get; }

    public bool IsAllowed(IPAddress? client)
    {
        var o = Options;
        if (o.AllowCidrs.IsEmpty && o.DenyCidrs.IsEmpty) return true;
        if (client is null) return false;
        if (client.IsIPv4MappedToIPv6) client = client.MapToIPv4();
        foreach (var deny in o.DenyCidrs)
        {
            if (deny.Contains(client)) return false;
        }
        if (o.AllowCidrs.IsEmpty) return true;
        foreach (var allow in o.AllowCidrs)
        {
            if (allow.Contains(client)) return true;
        }
        return false;
    }
}
