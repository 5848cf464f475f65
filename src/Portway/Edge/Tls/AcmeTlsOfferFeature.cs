namespace Portway.Edge.Tls;

/// <summary>Set on a connection whose ClientHello offered ALPN "acme-tls/1" (a tls-alpn-01 validator).</summary>
internal sealed class AcmeTlsOfferFeature
{
    public static readonly AcmeTlsOfferFeature Instance = new();
}
