namespace Portway.Edge.Acme;

/// <summary>The CA refused a request; carries its problem document and any Retry-After (RFC 8555 §6.6).</summary>
internal sealed class AcmeProblemException(AcmeProblem problem, int httpStatus, TimeSpan? retryAfter, string? what = null, string? hint = null)
    : Exception($"{(what is null ? "" : what + ": ")}{problem.Type}: {problem.Detail} (HTTP {httpStatus}){(hint is null ? "" : "; " + hint)}")
{
    public const string BadNonce = "urn:ietf:params:acme:error:badNonce";
    public const string RateLimited = "urn:ietf:params:acme:error:rateLimited";

    public AcmeProblem Problem { get; } = problem;
    public int HttpStatus { get; } = httpStatus;
    public TimeSpan? RetryAfter { get; } = retryAfter;
    /// <summary>What the operator should do about it, when Portway knows (e.g. a missing External Account Binding).</summary>
    public string? Hint { get; } = hint;
}
