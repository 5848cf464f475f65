namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// What a scheme found: valid (with the signed timestamp, if the scheme has one, and the value a
/// replay would repeat: the computed MAC, or a digest of what was signed) or the reason it is not. Reasons name headers and fields, never values.
/// </summary>
internal readonly record struct WebhookCheck(string? Failure, long? UnixSeconds, string? ReplayKey)
{
    public bool IsValid => Failure is null;

    public static WebhookCheck Valid(long? unixSeconds, string? replayKey) => new(null, unixSeconds, replayKey);

    public static WebhookCheck Missing(string what) => new($"missing {what}", null, null);

    public static WebhookCheck Malformed(string what) => new($"malformed {what}", null, null);

    public static readonly WebhookCheck Mismatch = new("signature mismatch", null, null);
}
