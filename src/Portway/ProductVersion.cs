using System.Reflection;

namespace Portway;

/// <summary>
/// The version this build calls itself (the project's &lt;Version&gt;, without the source-revision
/// suffix the SDK appends after '+'): printed by `portway version` and on start-up, and reported
/// as service.version in /metrics. Base class library only, so every folder may use it.
/// </summary>
internal static class ProductVersion
{
    public static string Value { get; } =
        typeof(ProductVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
