using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Portway.Edge.Rules.Webhooks;

/// <summary>
/// Twilio: <c>X-Twilio-Signature</c>, base64 HMAC-SHA1 keyed by the account's auth token over the
/// full URL Twilio called followed, for form posts, by every parameter name and value sorted by
/// name. A JSON body is signed through the URL instead: its query carries <c>bodySHA256</c>, the
/// hex SHA-256 of the body, which is checked too. Nothing is timestamped.
/// </summary>
internal sealed class TwilioScheme : IWebhookScheme
{
    private const string Header = "X-Twilio-Signature";

    public string Name => "twilio";

    public string SecretHint => "the account's auth token";

    public byte[]? Key(string secret) => Mac.Utf8Key(secret);

    public WebhookCheck Verify(WebhookRequest request, ReadOnlySpan<byte> key)
    {
        var signature = request.Header(Header);
        if (signature.Length == 0) return WebhookCheck.Missing($"header {Header}");
        var url = request.PublicUrl();
        using var mac = Mac.Start(HashAlgorithmName.SHA1, key);
        mac.Append(url);
        var query = QueryHelpers.ParseQuery(new Uri(url).Query);
        if (query.TryGetValue("bodySHA256", out var bodyHash))
        {
            Span<byte> actual = stackalloc byte[32];
            SHA256.HashData(request.Body, actual);
            var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(actual));
            if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(bodyHash.ToString().ToLowerInvariant())))
                return new WebhookCheck("body does not match bodySHA256", null, null);
        }
        else
        {
            var form = request.Form();
            var names = new List<string>(form.Keys);
            names.Sort(StringComparer.Ordinal);
            foreach (var name in names)
            {
                foreach (var value in form[name]) mac.Append(name + value);
            }
        }
        return Mac.MatchesBase64(mac, signature) ? WebhookCheck.Valid(null, Mac.Fingerprint(mac)) : WebhookCheck.Mismatch;
    }
}
