using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Portway.Configuration;

namespace Portway.Edge.Acme.Dns01;

/// <summary>
/// Waits until the TXT record is answered where the CA will look, so the CA is not asked too early
/// (a CA that finds nothing fails the authorization for good, RFC 8555 §8.4). Where it checks:
/// <c>resolver</c> if configured; else the provider's own server (rfc2136: the primary it updated);
/// else every authoritative server of the zone (its NS records, found through the system's resolvers),
/// asked without recursion so no cache answers for them.
/// </summary>
internal sealed class DnsPropagation(DnsChallengeConfig config, TimeProvider time)
{
    /// <summary>Where the zone's SOA, NS and server addresses are looked up; null = the system's resolvers.</summary>
    public IPEndPoint? LookupVia { get; init; }
    /// <summary>Port the authoritative servers are asked on (53; tests run theirs elsewhere).</summary>
    public int AuthoritativePort { get; init; } = 53;

    private static readonly RecordType[] AddressTypes = [RecordType.A, RecordType.Aaaa];

    private readonly record struct Target(IPEndPoint Endpoint, bool Recursive);

    /// <summary>Returns where the record was seen, for the log.</summary>
    public async Task<string> WaitAsync(string recordName, string value, IDnsChallengeProvider provider, CancellationToken ct)
    {
        var (targets, where) = await TargetsAsync(recordName, provider, ct);
        var deadline = time.GetUtcNow() + config.PropagationTimeout;
        var missing = new List<Target>(targets);
        var name = DomainName.Parse(recordName);
        while (true)
        {
            for (var i = missing.Count - 1; i >= 0; i--)
            {
                if (await AnswersAsync(missing[i], name, value, ct)) missing.RemoveAt(i);
            }
            if (missing.Count == 0) return where;
            if (time.GetUtcNow() >= deadline)
            {
                throw new DnsChallengeException(
                    $"TXT {recordName} \"{value}\" was still not answered by {string.Join(", ", missing.Select(m => m.Endpoint))} after "
                    + $"{ConfigValues.FormatDuration(config.PropagationTimeout)} (tls.acme.dns.propagation_timeout); the CA was not asked to validate. "
                    + "Check that the provider really published it, or raise propagation_timeout for slow secondaries");
            }
            await Task.Delay(config.PropagationInterval, time, ct);
        }
    }

    private async Task<(List<Target> Targets, string Where)> TargetsAsync(string recordName, IDnsChallengeProvider provider, CancellationToken ct)
    {
        if (config.Resolver is { } resolver)
            return ([new Target(await DnsServers.ResolveAsync(resolver, ct), Recursive: true)], $"resolver {resolver}");
        if (await provider.CheckServerAsync(ct) is { } server)
            return ([new Target(server, Recursive: false)], $"server {server}");
        var targets = await AuthoritativeAsync(DomainName.Parse(recordName), ct);
        return (targets, $"the zone's authoritative servers {string.Join(", ", targets.Select(t => t.Endpoint))}");
    }

    private async Task<List<Target>> AuthoritativeAsync(DomainName name, CancellationToken ct)
    {
        var lookup = LookupVia is { } via ? DnsServers.Client(via) : DnsClient.Default;
        var soa = await lookup.ResolveAsync(name, RecordType.Soa, RecordClass.INet, null, ct);
        DomainName? zone = null;
        foreach (var r in soa?.AnswerRecords ?? []) zone ??= (r as SoaRecord)?.Name;
        foreach (var r in soa?.AuthorityRecords ?? []) zone ??= (r as SoaRecord)?.Name;
        if (zone is null) throw new DnsChallengeException($"cannot find the zone of {name} (no SOA in the answer); set tls.acme.dns.resolver to a server that has the record");
        var ns = await lookup.ResolveAsync(zone, RecordType.Ns, RecordClass.INet, null, ct);
        var targets = new List<Target>();
        foreach (var r in ns?.AnswerRecords ?? [])
        {
            if (r is not NsRecord n) continue;
            foreach (var type in AddressTypes)
            {
                var addresses = await lookup.ResolveAsync(n.NameServer, type, RecordClass.INet, null, ct);
                foreach (var a in addresses?.AnswerRecords ?? [])
                {
                    var ip = a switch { ARecord v4 => v4.Address, AaaaRecord v6 => v6.Address, _ => null };
                    if (ip is not null) targets.Add(new Target(new IPEndPoint(ip, AuthoritativePort), Recursive: false));
                }
            }
        }
        if (targets.Count == 0) throw new DnsChallengeException($"the zone {zone} lists no name server with an address; set tls.acme.dns.resolver");
        return targets;
    }

    private static async Task<bool> AnswersAsync(Target target, DomainName name, string value, CancellationToken ct)
    {
        var client = DnsServers.Client(target.Endpoint);
        DnsMessage? answer;
        try
        {
            answer = await client.ResolveAsync(name, RecordType.Txt, RecordClass.INet, new DnsQueryOptions { IsRecursionDesired = target.Recursive, IsEDnsEnabled = true }, ct);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or TimeoutException)
        {
            return false; // an unreachable server has not got the record yet; the deadline decides
        }
        foreach (var r in answer?.AnswerRecords ?? [])
        {
            if (r is TxtRecord txt && string.Concat(txt.TextParts) == value) return true;
        }
        return false;
    }
}
