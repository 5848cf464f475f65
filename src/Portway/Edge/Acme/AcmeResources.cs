using System.Text.Json.Serialization;

namespace Portway.Edge.Acme;

// The ACME resources Portway reads (RFC 8555 §7.1, RFC 9773 §4.2) and the two request bodies it
// sends as objects (newOrder, finalize), kept together because each is a few lines of JSON shape
// and they are only meaningful as a set. AcmeJsonContext lists every one of them.

/// <summary>RFC 8555 §7.1.1. renewalInfo is RFC 9773 §3.</summary>
internal sealed record AcmeDirectory(Uri NewNonce, Uri NewAccount, Uri NewOrder, Uri? RenewalInfo, AcmeDirectoryMeta? Meta);

internal sealed record AcmeDirectoryMeta(string? TermsOfService);

internal sealed record AcmeIdentifier(string Type, string Value);

/// <summary>RFC 8555 §7.1.3.</summary>
internal sealed record AcmeOrder(string Status, AcmeIdentifier[] Identifiers, Uri[] Authorizations, Uri Finalize, Uri? Certificate, AcmeProblem? Error);

/// <summary>RFC 8555 §7.1.4.</summary>
internal sealed record AcmeAuthorization(string Status, AcmeIdentifier Identifier, AcmeChallenge[] Challenges);

/// <summary>RFC 8555 §8.</summary>
internal sealed record AcmeChallenge(string Type, Uri Url, string Status, string? Token, AcmeProblem? Error);

/// <summary>RFC 7807 problem document as ACME uses it (RFC 8555 §6.7).</summary>
internal sealed record AcmeProblem(string? Type, string? Detail, int? Status, AcmeProblem[]? Subproblems)
{
    public override string ToString() => $"{Type ?? "(no type)"}: {Detail ?? "(no detail)"}";
}

/// <summary>RFC 9773 §4.2: when the CA suggests renewing.</summary>
internal sealed record AcmeRenewalInfo(AcmeRenewalWindow SuggestedWindow, [property: JsonPropertyName("explanationURL")] Uri? ExplanationUrl);

internal sealed record AcmeRenewalWindow(DateTimeOffset Start, DateTimeOffset End);

/// <summary>RFC 8555 §7.4 newOrder payload; replaces is RFC 9773 §5 (left out when not renewing).</summary>
internal sealed record AcmeNewOrderRequest(
    AcmeIdentifier[] Identifiers,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Replaces);

/// <summary>RFC 8555 §7.4 finalize payload: the CSR, base64url DER.</summary>
internal sealed record AcmeFinalizeRequest(string Csr);
