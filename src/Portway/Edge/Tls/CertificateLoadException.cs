namespace Portway.Edge.Tls;

/// <summary>A certificate that cannot be served; the message names the file and what to do.</summary>
internal sealed class CertificateLoadException(string message, Exception? inner = null) : Exception(message, inner);
