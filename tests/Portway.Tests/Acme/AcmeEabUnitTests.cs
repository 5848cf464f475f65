using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Portway.Configuration;
using Portway.Edge.Acme;
using Portway.Tests.Tls;
using Xunit;

namespace Portway.Tests.Acme;

/// <summary>tls.acme.eab: how it is read and refused, how the binding is signed, and that the MAC key is never shown.</summary>
public sealed class AcmeEabUnitTests
{
    // 48 bytes whose base64url spelling has both '-' and '_' and whose standard spelling has '+' and '/'.
    private static readonly byte[] KeyBytes = [.. Enumerable.Range(0, 48).Select(i => (byte)(i * 37 + 251))];
    private static readonly string UrlKey = System.Buffers.Text.Base64Url.EncodeToString(KeyBytes);
    private static readonly string StandardKey = Convert.ToBase64String(KeyBytes);

    private static string Yaml(string eab) => $"""
        tls:
          sites:
            - hosts: [a.example.com]
              certificate: auto
          acme:
            agree_tos: true
        {eab}
        """;

    private static ConfigException Errors(string yaml) => Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "p.yaml"));

    [Fact]
    public void Parse_KidAndBase64UrlOrStandardKey_SameBindingAndKeyHidden()
    {
        Assert.Contains('-', UrlKey);
        Assert.Contains('+', StandardKey);
        var url = ConfigLoader.Parse(Yaml($"    eab:\n      kid: kid-1\n      hmac_key: {UrlKey}"), "p.yaml").Tls.Acme;
        var standard = ConfigLoader.Parse(Yaml($"    eab:\n      kid: kid-1\n      hmac_key: \"{StandardKey}\""), "p.yaml").Tls.Acme;
        Assert.Equal("kid-1", url.Eab!.KeyId);
        Assert.Equal(KeyBytes, url.Eab.HmacKey.Span.ToArray());
        Assert.Equal(url, standard); // value equality: a reload with the same binding is no change
        Assert.DoesNotContain(UrlKey, url.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(StandardKey.TrimEnd('='), url.ToString(), StringComparison.Ordinal);
        Assert.Contains("hmac_key hidden", url.Eab.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OtherKeyOrKid_NotEqual()
    {
        var a = ConfigLoader.Parse(Yaml($"    eab: {{ kid: kid-1, hmac_key: {UrlKey} }}"), "p.yaml").Tls.Acme;
        var b = ConfigLoader.Parse(Yaml($"    eab: {{ kid: kid-1, hmac_key: {UrlKey[..^4]}AAAA }}"), "p.yaml").Tls.Acme;
        var c = ConfigLoader.Parse(Yaml($"    eab: {{ kid: kid-2, hmac_key: {UrlKey} }}"), "p.yaml").Tls.Acme;
        var none = ConfigLoader.Parse(Yaml(""), "p.yaml").Tls.Acme;
        Assert.NotEqual(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, none);
        Assert.Null(none.Eab);
    }

    [Fact]
    public void Parse_KidWithoutHmacKey_LocatedErrorNamesTheMissingKey()
    {
        var e = Errors(Yaml("    eab:\n      kid: kid-1"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("tls.acme.eab.hmac_key", error.Key);
        Assert.Contains("both kid and hmac_key", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("p.yaml:8:7: tls.acme.eab.hmac_key:", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HmacKeyWithoutKid_ErrorNamesKidAndHidesKey()
    {
        var e = Errors(Yaml($"    eab:\n      hmac_key: {UrlKey}"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("tls.acme.eab.kid", error.Key);
        Assert.DoesNotContain(UrlKey, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not base64 at all!")]
    [InlineData("ab-c+def")] // both alphabets: ambiguous
    [InlineData("abcd====")]
    [InlineData("ab=cd")]
    public void Parse_HmacKeyDoesNotDecode_LocatedErrorWithoutTheValue(string key)
    {
        var e = Errors(Yaml($"    eab:\n      kid: kid-1\n      hmac_key: \"{key}\""));
        var error = Assert.Single(e.Errors);
        Assert.Equal("tls.acme.eab.hmac_key", error.Key);
        Assert.StartsWith("p.yaml:9:17: tls.acme.eab.hmac_key: is not base64url", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownKeyUnderEab_NearestKnownSuggested()
    {
        var e = Errors(Yaml($"    eab:\n      kid: kid-1\n      hmac: {UrlKey}"));
        Assert.Contains(e.Errors, x => x.Key == "tls.acme.eab.hmac" && x.Message.Contains("hmac_key", StringComparison.Ordinal));
        Assert.DoesNotContain(UrlKey, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExternalAccountBinding_Hs256OverAccountJwk_HeaderHasAlgKidUrlAndNoNonce()
    {
        using var account = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var newAccount = new Uri("https://ca.test/acme/new-acct");
        var jws = AcmeJws.ExternalAccountBinding(account, "kid-1", KeyBytes, newAccount);
        using var doc = JsonDocument.Parse(jws);
        var p = doc.RootElement.GetProperty("protected").GetString()!;
        var payload = doc.RootElement.GetProperty("payload").GetString()!;
        var mac = System.Buffers.Text.Base64Url.DecodeFromChars(doc.RootElement.GetProperty("signature").GetString()!);
        Assert.Equal(HMACSHA256.HashData(KeyBytes, Encoding.ASCII.GetBytes(p + "." + payload)), mac);
        Assert.Equal(AcmeJws.Jwk(account), Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(payload)));
        using var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(p));
        Assert.Equal("HS256", header.RootElement.GetProperty("alg").GetString());
        Assert.Equal("kid-1", header.RootElement.GetProperty("kid").GetString());
        Assert.Equal(newAccount.AbsoluteUri, header.RootElement.GetProperty("url").GetString());
        Assert.False(header.RootElement.TryGetProperty("nonce", out _)); // RFC 8555 §7.3.4: MUST NOT contain a nonce
        Assert.False(header.RootElement.TryGetProperty("jwk", out _));
    }

    [Fact]
    public void ExternalAccountHint_ByProblemAndWhetherABindingWasSent()
    {
        var eab = new AcmeEabConfig("kid-1", KeyBytes);
        Assert.Contains("set tls.acme.eab.kid and tls.acme.eab.hmac_key", AcmeClient.ExternalAccountHint("urn:ietf:params:acme:error:externalAccountRequired", null));
        Assert.Contains("refused the External Account Binding (kid kid-1)", AcmeClient.ExternalAccountHint("urn:ietf:params:acme:error:unauthorized", eab));
        Assert.Contains("refused the External Account Binding", AcmeClient.ExternalAccountHint("urn:ietf:params:acme:error:malformed", eab));
        Assert.Null(AcmeClient.ExternalAccountHint("urn:ietf:params:acme:error:malformed", null));
        Assert.Null(AcmeClient.ExternalAccountHint("urn:ietf:params:acme:error:rateLimited", eab));
    }

    [Fact]
    public void Storage_AccountUrlKeptPerCaAndDroppedWithANewKey()
    {
        var root = TestCertificates.TempDir();
        var first = new AcmeStorage(root, new Uri("https://acme.zerossl.com/v2/DV90"));
        using (first.LoadOrCreateAccountKey()) { }
        Assert.Null(first.LoadAccountUrl());
        first.SaveAccountUrl(new Uri("https://acme.zerossl.com/v2/DV90/account/1"));
        Assert.Equal(new Uri("https://acme.zerossl.com/v2/DV90/account/1"), first.LoadAccountUrl());

        // Another CA directory: its own folder, so its own account (and binding).
        Assert.Null(new AcmeStorage(root, new Uri("https://dv.acme-v02.api.pki.goog/directory")).LoadAccountUrl());

        // The account key lost: the URL named the old key's account and must not be used with a new one.
        File.Delete(Path.Combine(first.CaFolder, "account.key"));
        using (first.LoadOrCreateAccountKey()) { }
        Assert.Null(first.LoadAccountUrl());
    }
}
