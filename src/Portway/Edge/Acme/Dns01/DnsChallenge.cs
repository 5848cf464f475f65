using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Portway.Configuration;

namespace Portway.Edge.Acme.Dns01;

/// <summary>What RFC 8555 §8.4 asks for: the record's name and value, and the provider the config names.</summary>
internal static class DnsChallenge
{
    /// <summary>"_acme-challenge." + the identifier; for a wildcard the CA gives the base name (RFC 8555 §7.1.3).</summary>
    public static string RecordName(string host) => "_acme-challenge." + host.TrimEnd('.').ToLowerInvariant() + ".";

    /// <summary>
    /// base64url(SHA-256(key authorization)), no padding: the encoding AcmeJws uses, spelled here with
    /// the base class library so that Dns01/ (below Acme/) does not use Acme/.
    /// </summary>
    public static string RecordValue(string keyAuthorization) =>
        System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(keyAuthorization)));

    public static IDnsChallengeProvider CreateProvider(DnsChallengeConfig config, ILogger logger) => config.Provider switch
    {
        DnsChallengeConfig.Exec => new ExecDnsProvider(config, logger),
        _ => new Rfc2136DnsProvider(config),
    };
}
