namespace Portway.Protocol;

/// <summary>Values of the Portway-Error header on a refused link. Stable: agents switch on them.</summary>
internal static class LinkErrorCodes
{
    /// <summary>401: no token, and this edge needs one (it has tokens, or the agent is not on loopback).</summary>
    public const string TokenRequired = "token_required";

    /// <summary>401: the token matches none on the edge.</summary>
    public const string TokenInvalid = "token_invalid";

    /// <summary>403: the name is reserved for another token, or this token may not choose it.</summary>
    public const string NameNotAllowed = "name_not_allowed";

    /// <summary>409: another agent holds the name and pooling is not allowed.</summary>
    public const string NameInUse = "name_in_use";

    /// <summary>403: the token's max_tunnels would be exceeded.</summary>
    public const string TooManyTunnels = "too_many_tunnels";

    /// <summary>403: TCP tunnels are off for the token, or no port is free.</summary>
    public const string TcpNotAllowed = "tcp_not_allowed";

    /// <summary>400: the request is not a valid link request (bad header, unknown kind).</summary>
    public const string BadRequest = "bad_request";

    /// <summary>400: the tunnel's policy (--policy) is not valid, or differs from the one its pooled name is served with.</summary>
    public const string BadPolicy = "bad_policy";

    /// <summary>404: tunnels are disabled on this edge.</summary>
    public const string Disabled = "tunnels_disabled";

    /// <summary>503: the edge is stopping; the agent retries (a restarted edge takes it back).</summary>
    public const string ShuttingDown = "shutting_down";

    /// <summary>True for refusals that retrying with the same settings cannot fix (the agent exits on these).</summary>
    public static bool IsPermanent(string? code) => code is TokenRequired or TokenInvalid or NameNotAllowed or TooManyTunnels or TcpNotAllowed or BadRequest or BadPolicy or Disabled;
}
