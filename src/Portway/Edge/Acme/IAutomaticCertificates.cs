namespace Portway.Edge.Acme;

/// <summary>
/// For the tunnel code: certificates for public tunnel names (NAME.DOMAIN under tunnels.domains),
/// issued over ACME when tls.acme.tunnels is on. Calls never block; issuance runs in the
/// background and the name is served over https as soon as its certificate arrives.
/// </summary>
internal interface IAutomaticCertificates
{
    /// <summary>
    /// Asks for a certificate for <paramref name="host"/> (call when a tunnel name is reserved).
    /// False when ACME for tunnels is off or the name is not under a tunnels domain; nothing is queued then.
    /// </summary>
    bool Request(string host);

    /// <summary>Stops renewing the name (call when the name is released for good); files stay on disk for a later reuse.</summary>
    void Release(string host);

    /// <summary>Whether a certificate for the name is being served now (e.g. to print an https:// URL).</summary>
    bool HasCertificate(string host);

    /// <summary>Whether a tls.sites entry covering the name redirects its plain http (sites decide that for their own names).</summary>
    bool SiteRedirects(string host);

    /// <summary>Why a requested name has no certificate yet ("ordering…", the last failure, the hourly cap), or null when nothing is pending.</summary>
    string? PendingReason(string host);

    /// <summary>Raised with the host name when a requested name's certificate arrives or its order fails.</summary>
    event Action<string>? Changed;
}
