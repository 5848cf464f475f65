using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Portway.Diagnostics;
using Xunit;

namespace Portway.Tests.Diagnostics;

/// <summary>
/// Event ids live in one list (<see cref="EventIds"/>). The compiled assembly is checked, not only
/// the list: two messages that end up with the same id are a failure however the id was written.
/// </summary>
public sealed partial class EventIdTests
{
    [Fact]
    public void LoggerMessages_NoTwoShareAnEventId()
    {
        var messages = LoggerMessages();
        Assert.NotEmpty(messages);
        var duplicates = messages.GroupBy(m => m.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Where))}").ToList();
        Assert.True(duplicates.Count == 0, "event ids used by more than one message: " + string.Join("; ", duplicates));
    }

    [Fact]
    public void EventIds_ConstantsAreDistinct()
    {
        var duplicates = Constants().GroupBy(c => c.Value).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(c => c.Name))}").ToList();
        Assert.True(duplicates.Count == 0, "EventIds has constants with the same value: " + string.Join("; ", duplicates));
    }

    /// <summary>Every id a message uses is in the list, and every constant in the list is used.</summary>
    [Fact]
    public void LoggerMessages_UseExactlyTheListedIds()
    {
        var listed = Constants().Select(c => c.Value).ToHashSet();
        var used = LoggerMessages();
        var unlisted = used.Where(m => !listed.Contains(m.Id)).Select(m => $"{m.Where} ({m.Id})").ToList();
        Assert.True(unlisted.Count == 0, "messages with an id not in EventIds: " + string.Join("; ", unlisted));
        var usedIds = used.Select(m => m.Id).ToHashSet();
        var unused = Constants().Where(c => !usedIds.Contains(c.Value)).Select(c => c.Name).ToList();
        Assert.True(unused.Count == 0, "EventIds constants no message uses: " + string.Join(", ", unused));
    }

    /// <summary>
    /// A literal id would compile to the same attribute value as a constant, so this one is checked
    /// on the sources: every <c>[LoggerMessage]</c> names its id as <c>EventIds.Name</c>.
    /// </summary>
    [Fact]
    public void LoggerMessages_NameTheirIdFromTheList()
    {
        var offenders = new List<string>();
        var count = 0;
        foreach (var file in Directory.EnumerateFiles(SourceRoot(), "*.cs", SearchOption.AllDirectories))
        {
            foreach (Match m in LoggerMessageAttribute().Matches(File.ReadAllText(file)))
            {
                count++;
                if (!ListedId().IsMatch(m.Value)) offenders.Add($"{Path.GetFileName(file)}: {m.Value}");
            }
        }
        Assert.Equal(LoggerMessages().Count, count);
        Assert.True(offenders.Count == 0, "[LoggerMessage] without EventId = EventIds.<Name>: " + string.Join("; ", offenders));
    }

    private static List<(int Id, string Where)> LoggerMessages()
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var result = new List<(int, string)>();
        foreach (var type in typeof(EventIds).Assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(all))
            {
                var attribute = method.GetCustomAttribute<LoggerMessageAttribute>();
                if (attribute is not null) result.Add((attribute.EventId, $"{type.FullName}.{method.Name}"));
            }
        }
        return result;
    }

    private static List<(string Name, int Value)> Constants() =>
        typeof(EventIds).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int))
            .Select(f => (f.Name, (int)f.GetRawConstantValue()!)).ToList();

    private static string SourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Portway");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("src/Portway not found above the test output directory");
    }

    [GeneratedRegex(@"\[LoggerMessage\([^\]]*\)\]")]
    private static partial Regex LoggerMessageAttribute();

    [GeneratedRegex(@"^\[LoggerMessage\(EventId = EventIds\.\w+,")]
    private static partial Regex ListedId();
}
