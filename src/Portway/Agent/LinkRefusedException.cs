using Portway.Protocol;

namespace Portway.Agent;

/// <summary>The edge answered the link request with a refusal; <see cref="Permanent"/> ones stop the agent.</summary>
internal sealed class LinkRefusedException(int status, string? code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string? Code { get; } = code;
    public bool Permanent => LinkErrorCodes.IsPermanent(Code) || Code == LinkErrorCodes.NameInUse;
}
