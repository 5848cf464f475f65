namespace Portway.Edge.Acme.Dns01;

/// <summary>A dns-01 record could not be published, withdrawn, or seen in time; the message says which and why.</summary>
internal sealed class DnsChallengeException(string message) : Exception(message);
