using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Portway.Configuration;

/// <summary>
/// Reading a config file up to its root mapping, shared by the edge's and the agent's loaders so
/// both report an unreadable file, broken YAML and a non-mapping root the same way.
/// </summary>
internal static class YamlFile
{
    public static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([new ConfigError(path, 1, 1, "", $"cannot read the file: {e.Message}")]);
        }
    }

    /// <summary>The root mapping, or null for an empty file; a ConfigException with line and column otherwise.</summary>
    public static YamlMappingNode? LoadRoot(string text, string file, string[] topKeys)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var message = (e.InnerException?.Message ?? e.Message).ReplaceLineEndings(" ");
            throw new ConfigException([new ConfigError(file, (int)e.Start.Line, (int)e.Start.Column, "", $"not valid YAML: {message}")]);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" }) return null;
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new ConfigException([new ConfigError(file, 1, 1, "", $"the file must be a mapping with keys: {string.Join(", ", topKeys)}")]);
    }
}
