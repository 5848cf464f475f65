namespace Portway.Configuration;

/// <summary>
/// Reads <c>tls.acme.eab</c> (docs/tls.md): <c>kid</c> and <c>hmac_key</c> exactly as the CA
/// shows them. Kept apart from the rest of the ACME keys so the secret's handling is in one place.
/// </summary>
internal static class AcmeEabSection
{
    public const string Key = "eab";

    public static AcmeEabConfig? Read(YamlSection acme)
    {
        var e = acme.Child(Key, "kid", "hmac_key");
        if (e is null) return null;
        var kid = e.String("kid");
        var hmacText = e.String("hmac_key");
        if (string.IsNullOrWhiteSpace(kid) || string.IsNullOrWhiteSpace(hmacText))
        {
            // Name the missing half; never echo the key that is there.
            e.Error(string.IsNullOrWhiteSpace(kid) ? "kid" : "hmac_key",
                "External Account Binding needs both kid and hmac_key, as your CA's account page shows them (e.g. ZeroSSL: Developer → EAB Credentials)");
            return null;
        }
        var key = DecodeKey(hmacText.Trim());
        if (key is null)
        {
            e.Error("hmac_key", "is not base64url (letters, digits, '-' and '_', as CAs hand it out) nor standard base64; copy it again from your CA (the value is a secret and is not shown here)");
            return null;
        }
        return new AcmeEabConfig(kid.Trim(), key);
    }

    /// <summary>
    /// base64url (RFC 4648 §5, what RFC 8555 and the CAs use), padded or not; standard base64
    /// (§4) too, since some dashboards show that. A value mixing both alphabets is ambiguous and
    /// refused; one in neither refused. Null when it does not decode to at least one byte.
    /// </summary>
    public static byte[]? DecodeKey(string text)
    {
        var url = text.AsSpan().IndexOfAny('-', '_') >= 0;
        var standard = text.AsSpan().IndexOfAny('+', '/') >= 0;
        if (url && standard) return null;
        var trimmed = text.TrimEnd('=');
        // Padding only belongs at the end, and never more than two characters of it.
        if (text.Length - trimmed.Length > 2 || trimmed.Contains('=')) return null;
        if (!System.Buffers.Text.Base64Url.IsValid(trimmed.Replace('+', '-').Replace('/', '_'), out var length) || length == 0) return null;
        return System.Buffers.Text.Base64Url.DecodeFromChars(trimmed.Replace('+', '-').Replace('/', '_'));
    }
}
