using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Portway.Configuration;

/// <summary>Collects errors while one file is read, so that all of them are reported at once.</summary>
internal sealed class ConfigContext(string file)
{
    public string File { get; } = file;
    public List<ConfigError> Errors { get; } = [];

    public void Error(YamlNode? node, string key, string message) =>
        Errors.Add(new ConfigError(File, node is null ? 1 : (int)node.Start.Line, node is null ? 1 : (int)node.Start.Column, key, message));

    private List<Action<PortwayConfig>>? _afterLoad;

    /// <summary>
    /// A check that needs the whole config (a rule naming geo regions): runs once every section is
    /// read, and reports through <see cref="Error"/> at the node it captured.
    /// </summary>
    public void AfterLoad(Action<PortwayConfig> check) => (_afterLoad ??= []).Add(check);

    internal void RunAfterLoad(PortwayConfig config)
    {
        if (_afterLoad is null) return;
        foreach (var check in _afterLoad) check(config);
    }
}

/// <summary>
/// A YAML mapping read with its location: typed getters report wrong types and out-of-range
/// values as <see cref="ConfigError"/>s at the value's line and column, and unknown keys with the
/// nearest known one, so a typo never silently turns a setting off.
/// </summary>
internal sealed class YamlSection
{
    private readonly YamlMappingNode _node;

    public YamlSection(ConfigContext context, YamlMappingNode node, string path, params string[] knownKeys)
    {
        Context = context;
        _node = node;
        Path = path;
        foreach (var (k, _) in node.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            if (Array.IndexOf(knownKeys, name) >= 0) continue;
            var hint = Nearest.Find(name, knownKeys);
            context.Error(k, Join(name), hint is null
                ? $"unknown key; allowed here: {string.Join(", ", knownKeys)}"
                : $"unknown key; did you mean '{hint}'? (allowed here: {string.Join(", ", knownKeys)})");
        }
    }

    public ConfigContext Context { get; }
    public string Path { get; }
    public YamlMappingNode Node => _node;

    public string Join(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public YamlNode? Raw(string key) =>
        _node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    public bool Has(string key) => Raw(key) is not null;

    public void Error(string key, string message) => Context.Error(Raw(key) ?? _node, Join(key), message);

    public string? String(string key, bool required = false)
    {
        var node = Raw(key);
        if (node is null)
        {
            if (required) Context.Error(_node, Join(key), "is required");
            return null;
        }
        if (node is YamlScalarNode s) return s.Value;
        Context.Error(node, Join(key), "must be a single value, not a list or a mapping");
        return null;
    }

    public string? Enum(string key, string[] allowed, bool required = false)
    {
        var value = String(key, required);
        if (value is null) return null;
        if (Array.IndexOf(allowed, value) >= 0) return value;
        var hint = Nearest.Find(value, allowed);
        Error(key, $"'{value}' is not allowed{(hint is null ? "" : $" (did you mean '{hint}'?)")}; allowed: {string.Join(", ", allowed)}");
        return null;
    }

    public long? Long(string key, long min = long.MinValue, long max = long.MaxValue)
    {
        var text = String(key);
        if (text is null) return null;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            Error(key, $"'{text}' is not a whole number");
            return null;
        }
        if (v < min || v > max)
        {
            Error(key, $"{v} is out of range; allowed: {min} to {max}");
            return null;
        }
        return v;
    }

    public int? Int(string key, int min = int.MinValue, int max = int.MaxValue) => (int?)Long(key, min, max);

    public double? Double(string key, double min, double max)
    {
        var text = String(key);
        if (text is null) return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
        {
            Error(key, $"'{text}' is not a number from {min} to {max}");
            return null;
        }
        return v;
    }

    public bool? Bool(string key)
    {
        var text = String(key);
        if (text is null) return null;
        switch (text)
        {
            case "true" or "True" or "yes" or "on": return true;
            case "false" or "False" or "no" or "off": return false;
            default:
                Error(key, $"'{text}' is not a boolean; allowed: true, false");
                return null;
        }
    }

    /// <summary>Durations are written like nginx's: 500ms, 30s, 5m, 1h, 1d; a bare number means seconds.</summary>
    public TimeSpan? Duration(string key, TimeSpan? min = null)
    {
        var text = String(key);
        if (text is null) return null;
        if (!ConfigValues.TryParseDuration(text, out var d))
        {
            Error(key, $"'{text}' is not a duration; write it like 500ms, 30s, 5m, 1h or 1d");
            return null;
        }
        if (d < TimeSpan.Zero)
        {
            Error(key, $"'{text}' is negative; a duration must be positive, e.g. 5s");
            return null;
        }
        if (d < (min ?? TimeSpan.Zero))
        {
            Error(key, $"'{text}' must be at least {ConfigValues.FormatDuration(min ?? TimeSpan.Zero)}");
            return null;
        }
        return d;
    }

    /// <summary>Sizes like nginx's: 512, 64k, 10m, 1g (bytes, powers of 1024).</summary>
    public long? Size(string key)
    {
        var text = String(key);
        if (text is null) return null;
        if (!ConfigValues.TryParseSize(text, out var v))
        {
            Error(key, $"'{text}' is not a size; write it like 512, 64k, 10m or 1g (bytes, powers of 1024)");
            return null;
        }
        return v;
    }

    public YamlSection? Child(string key, params string[] knownKeys)
    {
        var node = Raw(key);
        if (node is null) return null;
        if (node is YamlMappingNode m) return new YamlSection(Context, m, Join(key), knownKeys);
        Context.Error(node, Join(key), $"must be a mapping with keys: {string.Join(", ", knownKeys)}");
        return null;
    }

    /// <summary>A list of scalars; a single scalar is accepted as a one-item list.</summary>
    public List<(string Value, YamlNode Node)> StringList(string key)
    {
        var list = new List<(string, YamlNode)>();
        var node = Raw(key);
        switch (node)
        {
            case null: break;
            case YamlScalarNode s: list.Add((s.Value ?? "", s)); break;
            case YamlSequenceNode seq:
                foreach (var item in seq.Children)
                {
                    if (item is YamlScalarNode si) list.Add((si.Value ?? "", si));
                    else Context.Error(item, Join(key), "each item must be a single value");
                }
                break;
            default: Context.Error(node, Join(key), "must be a value or a list of values"); break;
        }
        return list;
    }

    /// <summary>A list of mappings, each checked against the known keys.</summary>
    public List<YamlSection> List(string key, params string[] knownKeys)
    {
        var list = new List<YamlSection>();
        var node = Raw(key);
        if (node is null) return list;
        if (node is not YamlSequenceNode seq)
        {
            Context.Error(node, Join(key), "must be a list (items start with '- ')");
            return list;
        }
        for (var i = 0; i < seq.Children.Count; i++)
        {
            if (seq.Children[i] is YamlMappingNode m) list.Add(new YamlSection(Context, m, $"{Join(key)}[{i}]", knownKeys));
            else Context.Error(seq.Children[i], $"{Join(key)}[{i}]", $"must be a mapping with keys: {string.Join(", ", knownKeys)}");
        }
        return list;
    }
}
