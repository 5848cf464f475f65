using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ARSoft.Tools.Net.Dns.DynamicUpdate;
using Portway.Configuration;

namespace Portway.Edge.Acme.Dns01;

/// <summary>
/// dns-01 by DNS UPDATE (RFC 2136 §2.5.1 add an RR, §2.5.4 delete that one RR), signed with TSIG
/// (RFC 8945) when a key is configured — what BIND (<c>update-policy</c>), Knot (<c>acl … update</c>) and
/// PowerDNS (<c>TSIG-ALLOW-DNSUPDATE</c>) accept. Only the one record is touched: other TXT values at the
/// same name (the second authorization of "example.com + *.example.com") stay.
/// </summary>
internal sealed class Rfc2136DnsProvider(DnsChallengeConfig config) : IDnsChallengeProvider
{
    /// <summary>RFC 8945 §5.2.3 recommends a fudge of 300 seconds.</summary>
    private static readonly TimeSpan Fudge = TimeSpan.FromMinutes(5);
    private IPEndPoint? _server;

    public async Task<IPEndPoint?> CheckServerAsync(CancellationToken ct) => await ServerAsync(ct);

    public Task PresentAsync(string recordName, string value, CancellationToken ct) => UpdateAsync(recordName, value, add: true, ct);

    public Task CleanupAsync(string recordName, string value, CancellationToken ct) => UpdateAsync(recordName, value, add: false, ct);

    private async Task<IPEndPoint> ServerAsync(CancellationToken ct) => _server ??= await DnsServers.ResolveAsync(config.Server!, ct);

    private async Task UpdateAsync(string recordName, string value, bool add, CancellationToken ct)
    {
        var server = await ServerAsync(ct);
        var client = DnsServers.Client(server);
        var name = DomainName.Parse(recordName);
        var zone = await ZoneAsync(client, name, server, ct);
        var message = new DnsUpdateMessage { ZoneName = zone };
        var txt = new TxtRecord(name, add ? config.Ttl : 0, value);
        message.Updates.Add(add ? new AddRecordUpdate(txt) : new DeleteRecordUpdate(txt));
        if (config.TsigKeyName is { } keyName)
        {
            message.TSigOptions = new TSigRecord(DomainName.Parse(keyName), Algorithm(config.TsigAlgorithm), DateTime.UtcNow, Fudge,
                message.TransactionID, ReturnCode.NoError, null, Convert.FromBase64String(config.TsigSecret!));
        }
        var what = add ? $"adding TXT {recordName}" : $"removing TXT {recordName}";
        var response = await client.SendUpdateAsync(message, ct)
            ?? throw new DnsChallengeException($"{server} did not answer the DNS UPDATE {what} within {DnsServers.QueryTimeoutMs / 1000} s (is it the zone's primary, listening on that port?)");
        if (response.ReturnCode != ReturnCode.NoError) throw new DnsChallengeException($"{server} refused the DNS UPDATE {what} in zone {zone}: {Explain(response)}");
    }

    /// <summary>The configured zone, or the owner of the SOA the server returns for the name (RFC 2136 §4.1: the client finds the zone).</summary>
    private async Task<DomainName> ZoneAsync(DnsClient client, DomainName name, IPEndPoint server, CancellationToken ct)
    {
        if (config.Zone is { } zone)
        {
            var configured = DomainName.Parse(zone);
            if (!name.IsEqualOrSubDomainOf(configured))
                throw new DnsChallengeException($"{name} is not inside tls.acme.dns.zone {zone}; leave zone out to have it looked up, or list the right one");
            return configured;
        }
        var answer = await client.ResolveAsync(name, RecordType.Soa, RecordClass.INet, null, ct)
            ?? throw new DnsChallengeException($"{server} did not answer the SOA query that finds the zone of {name}; set tls.acme.dns.zone");
        foreach (var r in answer.AnswerRecords)
        {
            if (r is SoaRecord soa) return soa.Name;
        }
        foreach (var r in answer.AuthorityRecords)
        {
            if (r is SoaRecord soa) return soa.Name;
        }
        throw new DnsChallengeException($"{server} names no zone for {name} (answer {answer.ReturnCode}, no SOA); set tls.acme.dns.zone");
    }

    private static string Explain(DnsMessageBase response)
    {
        // RFC 8945 §5.3.2: a signature problem comes back as NOTAUTH with the reason in the TSIG error field.
        var tsig = response.TSigOptions is { } t ? (int)t.Error : 0;
        return (response.ReturnCode, tsig) switch
        {
            (_, 16) => "TSIG BADSIG: the signature does not verify; check tsig_secret and tsig_algorithm",
            (_, 17) => "TSIG BADKEY: the server knows no key of that name and algorithm; check tsig_key_name and tsig_algorithm",
            (_, 18) => "TSIG BADTIME: this machine's clock and the server's differ by more than 5 minutes",
            (ReturnCode.Refused, _) => "REFUSED: the key (or this address) may not change that name; check the zone's update-policy / allow-update",
            (ReturnCode.NotAuthoritive, _) => "NOTAUTH: the server is not authoritative for that zone (or rejected the signature)",
            (ReturnCode.NotZone, _) => "NOTZONE: the name is not inside the zone",
            (var code, _) => code.ToString().ToUpperInvariant(),
        };
    }

    private static TSigAlgorithm Algorithm(string name) => name switch
    {
        "hmac-sha384" => TSigAlgorithm.Sha384,
        "hmac-sha512" => TSigAlgorithm.Sha512,
        "hmac-sha1" => TSigAlgorithm.Sha1,
        _ => TSigAlgorithm.Sha256,
    };
}
