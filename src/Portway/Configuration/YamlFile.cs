using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Portway.Configuration;

/// <summary>
/// Reading a config file up to its root mapping, shared by the edge's and the agent's loaders so
/// both report an unreadable file, broken YAML and a non-mapping root the same way.
/// </summary>
internal static class YamlFile
{
    /// <summary>
    /// Deeper nesting than any real config needs. YamlDotNet builds nodes recursively, so a hostile
    /// file of a few thousand '[' would overflow the stack, which no catch can stop.
    /// </summary>
    internal const int MaxDepth = 64;

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
        if (YamlShape.FindTooDeep(text, MaxDepth) is { } deep)
            throw Error(file, deep.Line, deep.Column, $"not valid here: nested more than {MaxDepth} levels deep");
        if (text.IndexOf('\0') is var nul and >= 0)
        {
            var (line, column) = YamlShape.Position(text, nul);
            throw Error(file, line, column, "not valid YAML: the file holds a NUL byte (is it a binary file, or saved as UTF-16?)");
        }

        var scanner = new Scanner(new StringReader(text));
        var stream = new YamlStream();
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (AnchorNotFoundException e)
        {
            // Aliases are resolved after the whole document is read, so the exception's mark is the
            // document's start; point at the alias itself.
            var name = e.Message.Split('\'') is [_, var n, ..] ? n : "";
            var (line, column) = YamlShape.Position(text, Math.Max(0, text.IndexOf("*" + name, StringComparison.Ordinal)));
            throw Error(file, line, column, $"not valid YAML: the alias '*{name}' refers to no anchor '&{name}' defined before it");
        }
        catch (YamlException e)
        {
            if (e.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) && YamlShape.FindIndentTab(text) is var tab and >= 0)
            {
                var (line, column) = YamlShape.Position(text, tab);
                throw Error(file, line, column, "not valid YAML: a tab in the indentation; YAML indents with spaces only");
            }
            var message = (e.InnerException?.Message ?? e.Message).ReplaceLineEndings(" ");
            if (message.StartsWith("Duplicate key ", StringComparison.Ordinal))
                message = $"the key '{message["Duplicate key ".Length..]}' appears twice in one mapping";
            else if (message.StartsWith("While parsing a block", StringComparison.Ordinal))
                message += " Check this line's indentation against the lines above.";
            throw Error(file, (int)e.Start.Line, (int)e.Start.Column, $"not valid YAML: {message}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or FormatException or OverflowException)
        {
            // YamlDotNet throws these (not YamlException) on some broken input, e.g. a flow mapping
            // left open across lines. They carry no position: report where the scanner stopped and,
            // when there is one, the bracket left open, which is what the user has to fix.
            var at = scanner.CurrentPosition;
            var message = YamlShape.FindUnclosed(text) is { } open
                ? $"not valid YAML: the '{open.Bracket}' at line {open.Line}, column {open.Column} is never closed"
                : "not valid YAML: cannot read past this point (check quotes, brackets and indentation)";
            throw Error(file, Math.Max(1, (int)at.Line), Math.Max(1, (int)at.Column), message);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" }) return null;
        if (stream.Documents.Count > 1 && stream.Documents[1].RootNode is not YamlScalarNode { Value: null or "" })
        {
            var second = stream.Documents[1].RootNode.Start;
            throw Error(file, (int)second.Line, (int)second.Column, "the file holds more than one YAML document ('---'); put everything in one");
        }
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw Error(file, 1, 1, $"the file must be a mapping with keys: {string.Join(", ", topKeys)}");
    }

    private static ConfigException Error(string file, int line, int column, string message) =>
        new([new ConfigError(file, line, column, "", message)]);
}
