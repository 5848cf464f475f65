namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// How one provider signs its deliveries, as its public documentation describes it. Stateless: the
/// compiled rule holds the key, the clock and the replay window; a scheme only reads the request.
/// </summary>
internal interface IWebhookScheme
{
    /// <summary>The value of <c>provider:</c>.</summary>
    string Name { get; }

    /// <summary>What the secret is for this provider, for config errors (never the value itself).</summary>
    string SecretHint { get; }

    /// <summary>The key material from the secret as the provider shows it; null when it is not in the provider's format.</summary>
    byte[]? Key(string secret);

    WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key);
}
