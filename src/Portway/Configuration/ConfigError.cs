namespace Portway.Configuration;

/// <summary>One problem found in a config file, located so an editor can jump to it.</summary>
internal sealed record ConfigError(string File, int Line, int Column, string Key, string Message)
{
    public override string ToString() =>
        Key.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Key}: {Message}";
}

/// <summary>Thrown when a config cannot be used; carries every error found, not just the first.</summary>
internal sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}
