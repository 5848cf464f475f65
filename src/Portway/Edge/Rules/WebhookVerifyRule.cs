using Portway.Configuration;
using Portway.Edge.Rules.Webhooks;
using Portway.Edge.Settings;

namespace Portway.Edge.Rules;

/// <summary>
/// <c>webhook_verify</c>: checks that a request is a genuine, fresh, first-time delivery from one
/// provider (GitHub, Stripe, Slack…; docs/webhooks.md) before it reaches the server, the way
/// ngrok's verify_webhook does. The secret is read once per config load, from the file itself,
/// an environment variable, or a file of its own; it never appears in an error or a log line.
/// </summary>
internal sealed class WebhookVerifyRule : RuleKind<WebhookVerifyRule.Config>
{
    /// <summary>ngrok's and Stripe's libraries' default: five minutes either side of the edge's clock.</summary>
    private static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>Webhook payloads are small (GitHub caps its at 25 MB; most are a few KB); 1 MiB matches nginx's client_max_body_size.</summary>
    private const long DefaultMaxBody = 1024 * 1024;

    private const long MaxMaxBody = 64L * 1024 * 1024;

    private static readonly string[] SecretKeys = ["secret", "secret_env", "secret_file"];

    internal sealed record Config(string Provider, SecretBytes Key, TimeSpan Tolerance, bool Enforce, long MaxBody) : RuleConfig
    {
        public override string Kind => "webhook_verify";
    }

    public override string Name => "webhook_verify";

    public override string[] Keys { get; } = ["provider", "secret", "secret_env", "secret_file", "tolerance", "enforce", "max_body"];

    public override Config? Read(YamlSection rule)
    {
        var provider = rule.Enum("provider", WebhookSchemes.Names);
        if (!rule.Has("provider")) rule.Error("provider", $"is required; allowed: {string.Join(", ", WebhookSchemes.Names)}");
        var tolerance = rule.Duration("tolerance", TimeSpan.FromSeconds(1)) ?? DefaultTolerance;
        var enforce = rule.Bool("enforce") ?? true;
        var maxBody = rule.Size("max_body") ?? DefaultMaxBody;
        if (maxBody is < 1 or > MaxMaxBody) rule.Error("max_body", $"{maxBody} is out of range; allowed: 1 to 64m");
        var (source, secret) = ReadSecret(rule);
        if (provider is null || secret is null) return null;
        var scheme = WebhookSchemes.ByName[provider];
        var key = scheme.Key(secret);
        if (key is null)
        {
            rule.Error(source, $"is not {scheme.SecretHint} (the value is not shown here)");
            return null;
        }
        return new Config(provider, new SecretBytes(key), tolerance, enforce, maxBody);
    }

    /// <summary>Exactly one of secret, secret_env, secret_file; the text with surrounding whitespace (a file's newline) removed.</summary>
    private static (string Source, string? Secret) ReadSecret(YamlSection rule)
    {
        var given = Array.FindAll(SecretKeys, rule.Has);
        if (given.Length != 1)
        {
            rule.Error(given.Length == 0 ? "secret" : given[1], given.Length == 0
                ? "is required: give secret, secret_env (an environment variable's name) or secret_file (a path)"
                : $"give only one of secret, secret_env and secret_file (found {string.Join(" and ", given)})");
            return ("secret", null);
        }
        var source = given[0];
        var text = rule.String(source);
        if (text is null) return (source, null);
        string? secret;
        switch (source)
        {
            case "secret_env":
                secret = Environment.GetEnvironmentVariable(text);
                if (string.IsNullOrWhiteSpace(secret))
                {
                    rule.Error(source, $"the environment variable {text} is not set or empty; export it before starting portway");
                    return (source, null);
                }
                break;
            case "secret_file":
                var path = Path.IsPathRooted(text) ? text : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(rule.Context.File)) ?? "", text);
                try
                {
                    secret = File.ReadAllText(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    rule.Error(source, $"cannot read {path}: {e.Message}");
                    return (source, null);
                }
                break;
            default:
                secret = text;
                break;
        }
        secret = secret.Trim();
        if (secret.Length == 0)
        {
            rule.Error(source, "is empty; a webhook secret is needed to verify deliveries");
            return (source, null);
        }
        return (source, secret);
    }

    public override Rule Compile(Config config, RuleServices services) => new WebhookVerifier(config, WebhookSchemes.ByName[config.Provider], services);
}
