using System.Collections.Concurrent;
using Microsoft.AspNetCore.DataProtection;

namespace Portway.Edge.Rules;

/// <summary>
/// The Data Protection key ring that encrypts and signs the oidc cookies, kept on disk beside the
/// ACME account and certificates (the parent of tls.acme.storage: ~/.local/share/portway/oidc-keys
/// by default), so sessions survive a restart and every oidc rule of the edge shares one ring.
/// Data Protection rotates the keys itself (90 days) and keeps old ones to read older cookies.
/// </summary>
internal static class OidcKeyRing
{
    private static readonly ConcurrentDictionary<string, IDataProtectionProvider> s_rings = new(StringComparer.Ordinal);

    public static string FolderFor(string acmeStorage)
    {
        var full = Path.GetFullPath(acmeStorage);
        return Path.Combine(Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar)) ?? full, "oidc-keys");
    }

    public static IDataProtectionProvider For(string folder) => s_rings.GetOrAdd(folder, static f =>
    {
        // The keys are secrets (Data Protection writes them unencrypted on Linux): only the edge's user may read them.
        var dir = OperatingSystem.IsWindows() ? Directory.CreateDirectory(f)
            : Directory.CreateDirectory(f, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return DataProtectionProvider.Create(dir, b => b.SetApplicationName("portway"));
    });
}
