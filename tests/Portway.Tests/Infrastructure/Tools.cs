using Xunit;

namespace Portway.Tests.Infrastructure;

/// <summary>
/// External tools (nginx, curl, pebble…). On a laptop a missing tool skips the test with the
/// reason; under CI=true a missing tool fails it, because CI installs them all.
/// </summary>
internal static class Tools
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string? Find(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/usr/bin", "/sbin", "/usr/local/bin"]))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Returns the tool's path, or skips (laptop) / fails (CI) the test.</summary>
    public static string Require(string name, string package)
    {
        var path = Find(name);
        if (path is not null) return path;
        var reason = $"'{name}' is not installed (apt-get install {package})";
        if (InCi) throw new InvalidOperationException(reason + " and CI=true, so this is a failure, not a skip");
        Skip.If(true, reason);
        return null!;
    }
}
