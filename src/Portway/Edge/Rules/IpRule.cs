using System.Collections.Immutable;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portway.Configuration;
using Portway.Diagnostics;
using Portway.Edge.ErrorPages;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>ip</c>: address rules on the client's address, IPv4 and IPv6 networks. Deny wins; when
/// <c>allow</c> is set, everyone else is refused too. Refusals are 403 pages naming the address.
/// </summary>
internal sealed partial class IpRule : RuleKind<IpRule.Config>
{
    internal sealed record Config(EquatableArray<IPNetwork> Allow, EquatableArray<IPNetwork> Deny) : RuleConfig
    {
        public override string Kind => "ip";
    }

    public override string Name => "ip";

    public override string[] Keys { get; } = ["allow", "deny"];

    public override Config? Read(YamlSection rule)
    {
        if (!rule.Has("allow") && !rule.Has("deny"))
            rule.Context.Error(rule.Node, rule.Path, "checks nothing; give allow and/or deny, e.g. allow: [10.0.0.0/8, 2001:db8::/32]");
        return new Config(Networks(rule, "allow"), Networks(rule, "deny"));
    }

    public override Rule Compile(Config config, RuleServices services) => new Check(config);

    private static ImmutableArray<IPNetwork> Networks(YamlSection s, string key)
    {
        var result = ImmutableArray.CreateBuilder<IPNetwork>();
        foreach (var (text, node) in s.StringList(key))
        {
            if (ConfigValues.TryParseNetwork(text, out var n)) result.Add(n);
            else s.Context.Error(node, s.Join(key), $"'{text}' is not an address or CIDR; write it like 10.0.0.0/8 or 192.168.1.7");
        }
        return result.ToImmutable();
    }

    private sealed partial class Check(Config config) : Rule(config)
    {
        public override Task? OnRequest(RuleRequest request)
        {
            var client = request.Client;
            if (IsAllowed(client)) return null;
            LogDenied(request.Logger, client?.ToString(), request.RouteId);
            return ErrorPage.WriteAsync(request.HttpContext, StatusCodes.Status403Forbidden, "Forbidden",
                $"Your address ({client}) may not use this site.",
                "If you should have access, ask the site's operator to add your network to the route's allow list.");
        }

        private bool IsAllowed(IPAddress? client)
        {
            if (config.Allow.IsEmpty && config.Deny.IsEmpty) return true;
            if (client is null) return false;
            foreach (var n in config.Deny)
            {
                if (n.Contains(client)) return false;
            }
            if (config.Allow.IsEmpty) return true;
            foreach (var n in config.Allow)
            {
                if (n.Contains(client)) return true;
            }
            return false;
        }

        [LoggerMessage(EventId = EventIds.AccessDenied, Level = LogLevel.Information, Message = "Denied {Client} on route {Route} by its address rules")]
        private static partial void LogDenied(ILogger logger, string? client, string route);
    }
}
