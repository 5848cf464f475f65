using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>The providers <c>webhook_verify</c> knows, by the name <c>provider:</c> uses (docs/webhooks.md lists them in this order).</summary>
internal static class WebhookSchemes
{
    public static readonly IWebhookScheme[] All =
    [
        new BodyHmacScheme("github", "X-Hub-Signature-256", "sha256=", HashAlgorithmName.SHA256, base64: false, "the webhook's secret"),
        new StripeScheme(),
        new SlackScheme("slack", "X-Slack-Signature", "X-Slack-Request-Timestamp", "the app's signing secret (Basic Information → App Credentials)"),
        new BodyHmacScheme("shopify", "X-Shopify-Hmac-Sha256", "", HashAlgorithmName.SHA256, base64: true, "the app's client secret (or the store's webhook signing secret)"),
        new TwilioScheme(),
        new GitLabScheme(),
        new StandardWebhooksScheme("standard_webhooks", "webhook-"),
        new StandardWebhooksScheme("svix", "svix-"),
        new PaddleScheme(),
        new MailgunScheme(),
        new SendGridScheme(),
        new SlackScheme("zoom", "x-zm-signature", "x-zm-request-timestamp", "the app's webhook secret token"),
        new BodyHmacScheme("linear", "Linear-Signature", "", HashAlgorithmName.SHA256, base64: false, "the webhook's signing secret"),
        new BodyHmacScheme("intercom", "X-Hub-Signature", "sha1=", HashAlgorithmName.SHA1, base64: false, "the app's client secret"),
        new BodyHmacScheme("bitbucket", "X-Hub-Signature", "sha256=", HashAlgorithmName.SHA256, base64: false, "the webhook's secret"),
        new HubSpotScheme(),
        new TwitchScheme(),
        new SquareScheme(),
        new DiscordScheme(),
    ];

    public static readonly string[] Names = Array.ConvertAll(All, s => s.Name);

    public static readonly FrozenDictionary<string, IWebhookScheme> ByName = All.ToFrozenDictionary(s => s.Name, StringComparer.Ordinal);
}
