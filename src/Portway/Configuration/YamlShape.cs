namespace Portway.Configuration;

/// <summary>
/// A rough scan of YAML text for what the parser cannot be trusted with: nesting deep enough to
/// overflow its recursion, and (for a readable error) the flow bracket a broken file left open.
/// It follows quotes, comments and where a flow collection may start (YAML 1.2 §7.4: at the start
/// of a value or inside another flow collection), so brackets inside plain scalars like
/// <c>path: /a[1]</c> do not count.
/// </summary>
internal static class YamlShape
{
    internal readonly record struct OpenBracket(char Bracket, int Line, int Column);

    /// <summary>The first position where block indentation plus flow brackets nest deeper than <paramref name="max"/>.</summary>
    public static (int Line, int Column)? FindTooDeep(string text, int max)
    {
        (int, int)? found = null;
        Scan(text, (depth, line, column) =>
        {
            if (depth > max && found is null) found = (line, column);
            return found is null;
        }, out _);
        return found;
    }

    /// <summary>The outermost '{' or '[' that is still open at the end of the text, if any.</summary>
    public static OpenBracket? FindUnclosed(string text)
    {
        Scan(text, static (_, _, _) => true, out var open);
        return open;
    }

    /// <summary>The index of the first tab in a line's leading whitespace, or -1.</summary>
    public static int FindIndentTab(string text)
    {
        var lineStart = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n') { lineStart = true; continue; }
            if (!lineStart) continue;
            if (c == '\t') return i;
            if (c != ' ') lineStart = false;
        }
        return -1;
    }

    public static (int Line, int Column) Position(string text, int index)
    {
        int line = 1, column = 1;
        for (var i = 0; i < index && i < text.Length; i++)
        {
            if (text[i] == '\n') { line++; column = 1; }
            else column++;
        }
        return (line, column);
    }

    /// <summary>
    /// Walks the text once; <paramref name="visit"/> gets the nesting depth at each opened level and
    /// returns false to stop. <paramref name="outermostOpen"/> is the first flow bracket still open.
    /// </summary>
    private static void Scan(string text, Func<int, int, int, bool> visit, out OpenBracket? outermostOpen)
    {
        var flow = new Stack<OpenBracket>();
        var indents = new Stack<int>();
        int line = 1, column = 0;
        var atLineStart = true;
        var indent = 0;
        var previous = '\n'; // last non-space character that matters for "may a value start here"
        outermostOpen = null;

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            column++;
            if (c == '\n')
            {
                line++;
                column = 0;
                atLineStart = true;
                indent = 0;
                if (flow.Count == 0) previous = '\n';
                continue;
            }
            if (atLineStart)
            {
                if (c == ' ') { indent++; continue; }
                if (c == '\r') continue;
                if (c == '#')
                {
                    // A comment line: neither its indentation nor its text counts.
                    while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                    continue;
                }
                atLineStart = false;
                if (flow.Count == 0)
                {
                    while (indents.Count > 0 && indents.Peek() >= indent) indents.Pop();
                    indents.Push(indent);
                    if (!visit(indents.Count, line, column)) return;
                }
            }
            if (c is ' ' or '\t' or '\r') continue;
            if (c == '#' && i > 0 && text[i - 1] is ' ' or '\t' or '\n')
            {
                while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                continue;
            }
            var valueStart = flow.Count == 0
                ? previous is '\n' || (previous is '-' or ':' or '?' && i > 0 && text[i - 1] is ' ' or '\t')
                : previous is '[' or '{' or ',' or ':';
            if (valueStart && c is '"' or '\'')
            {
                i = SkipQuoted(text, i, ref line, ref column);
                previous = 'x';
                continue;
            }
            if (c is '[' or '{' && (valueStart || flow.Count > 0 && previous is '[' or '{' or ','))
            {
                flow.Push(new OpenBracket(c, line, column));
                if (!visit(indents.Count + flow.Count, line, column)) return;
            }
            else if (c is ']' or '}' && flow.Count > 0)
            {
                flow.Pop();
            }
            previous = c;
        }
        foreach (var open in flow) outermostOpen = open; // the stack enumerates innermost first
    }

    private static int SkipQuoted(string text, int start, ref int line, ref int column)
    {
        var quote = text[start];
        for (var i = start + 1; i < text.Length; i++)
        {
            var c = text[i];
            column++;
            if (c == '\n') { line++; column = 0; continue; }
            if (quote == '"' && c == '\\') { i++; column++; continue; }
            if (c != quote) continue;
            if (quote == '\'' && i + 1 < text.Length && text[i + 1] == '\'') { i++; column++; continue; } // '' escapes '
            return i;
        }
        return text.Length;
    }
}
