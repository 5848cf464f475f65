namespace Portway.Protocol;

/// <summary>Rules for tunnel names: one DNS label (RFC 1035 §2.3.1, lower case), so NAME.DOMAIN is a valid host.</summary>
internal static class TunnelNames
{
    public const int MaxLength = 63;

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || name[0] == '-' || name[^1] == '-') return false;
        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')) return false;
        }
        return true;
    }

    public const string Rule = "a name is 1 to 63 lower-case letters, digits and '-', not starting or ending with '-'";
}
