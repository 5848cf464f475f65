namespace Portway.Agent.Inspector;

/// <summary>The first <see cref="InspectorOptions.BodyLimit"/> bytes of a body and how long it really was.</summary>
internal sealed record CapturedBody(byte[] Data, long Size)
{
    public static readonly CapturedBody Empty = new([], 0);

    /// <summary>True when the body was longer than what was kept.</summary>
    public bool Truncated => Size > Data.Length;
}
