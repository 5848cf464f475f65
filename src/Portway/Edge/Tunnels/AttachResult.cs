namespace Portway.Edge.Tunnels;

/// <summary>Either a session (with a link reserved in it) or a refusal to send back.</summary>
internal sealed record AttachResult(TunnelSession? Session, int Status = 101, string? Code = null, string? Message = null)
{
    public static AttachResult Refuse(int status, string code, string message) => new(null, status, code, message);
}
