using Portway.Configuration;

namespace Portway.Edge.Tunnels;

/// <summary>The outcome of checking a link request's token. <see cref="Token"/> is null in dev mode.</summary>
internal sealed record LinkAuthResult(bool Success, TunnelTokenConfig? Token, int Status = 200, string? Code = null, string? Message = null)
{
    public static readonly LinkAuthResult Dev = new(true, null);

    public static LinkAuthResult Ok(TunnelTokenConfig token) => new(true, token);

    public static LinkAuthResult Refuse(int status, string code, string message) => new(false, null, status, code, message);
}
