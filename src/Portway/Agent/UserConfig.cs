using System.Text.RegularExpressions;

namespace Portway.Agent;

/// <summary>
/// The user's agent config file: $PORTWAY_CONFIG_DIR, else $XDG_CONFIG_HOME/portway, else
/// ~/.config/portway, file agent.yaml. `portway token add` writes the token into it with mode
/// 0600 (read and write for the owner only), like ssh keys and ngrok's config.
/// </summary>
internal static partial class UserConfig
{
    public static string DefaultPath
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("PORTWAY_CONFIG_DIR");
            if (string.IsNullOrEmpty(dir))
            {
                var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
                dir = Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config") : xdg, "portway");
            }
            return Path.Combine(dir, "agent.yaml");
        }
    }

    /// <summary>Sets (or replaces) the top-level <c>token:</c> line, keeping the rest of the file.</summary>
    public static void SaveToken(string path, string token)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var line = "token: " + Quote(token);
        var text = File.Exists(path) ? File.ReadAllText(path) : "";
        text = TokenLine().IsMatch(text) ? TokenLine().Replace(text, line, 1) : line + "\n" + text;
        // Create with 0600 before writing, so the token is never readable by others, even briefly.
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"^token:.*$", RegexOptions.Multiline)]
    private static partial Regex TokenLine();
}
