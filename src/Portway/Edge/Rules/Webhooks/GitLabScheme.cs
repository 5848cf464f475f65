using System.Security.Cryptography;
using System.Text;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// GitLab: no signature, the webhook's secret token itself in <c>X-Gitlab-Token</c>. Compared as
/// SHA-256 digests in constant time, so neither the content nor the length of the token leaks
/// through timing. With nothing signed, the replay window keys on X-Gitlab-Event-UUID when sent.
/// </summary>
internal sealed class GitLabScheme : IWebhookScheme
{
    private const string Header = "X-Gitlab-Token";

    public string Name => "gitlab";

    public string SecretHint => "the webhook's secret token";

    public byte[]? Key(string secret) => secret.Length == 0 ? null : SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var token = request.Header(Header);
        if (token.Length == 0) return WebhookCheck.Missing($"header {Header}");
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        if (!CryptographicOperations.FixedTimeEquals(given, key)) return new WebhookCheck("token mismatch", null, null);
        var uuid = request.Header("X-Gitlab-Event-UUID");
        return WebhookCheck.Valid(null, uuid.Length == 0 ? null : uuid);
    }
}
