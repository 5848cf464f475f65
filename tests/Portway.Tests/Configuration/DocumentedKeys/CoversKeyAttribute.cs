namespace Portway.Tests.Configuration.DocumentedKeys;

/// <summary>
/// Declares the documented config keys a test sends requests through (or otherwise proves take
/// effect on the real edge): dotted paths with <c>[]</c> for list items, and <c>=VALUE</c> for one
/// value of an enumerated key, e.g. <c>routes[].match.headers[].mode=prefix</c>. Only put a key
/// here when the test would fail if the edge ignored it. <see cref="DocumentedKeysCoverageTests"/>
/// fails when a key of docs/configuration.md (and the key tables it links) or samples/full.yaml
/// has no test.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
internal sealed class CoversKeyAttribute(params string[] keys) : Attribute
{
    public IReadOnlyList<string> Keys { get; } = keys;
}
