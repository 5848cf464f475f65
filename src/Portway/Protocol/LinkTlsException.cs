namespace Portway.Protocol;

/// <summary>The link's TLS settings cannot be used (e.g. an unreadable CA file); the message says which file and why.</summary>
internal sealed class LinkTlsException(string message, Exception? inner) : Exception(message, inner);
