using System.Net;
using System.Reflection;
using System.Runtime.CompilerServices;
using Portway.Configuration;
using Xunit;

namespace Portway.Tests.Configuration;

/// <summary>
/// A reload applies only when the new config is unequal to the running one, so a field that does
/// not take part in equality is a change the edge silently ignores. Config records therefore use
/// the compiler's Equals, and every member compares by value.
/// </summary>
public sealed class ConfigEqualityTests
{
    private const BindingFlags Fields = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    [Fact]
    public void ConfigTypes_AreRecordsWithGeneratedEquality()
    {
        var types = ConfigTypes();
        Assert.Contains(typeof(PortwayConfig), types);
        var offenders = new List<string>();
        foreach (var type in types)
        {
            if (!IsRecord(type)) { offenders.Add($"{type.Name} is not a record"); continue; }
            var equals = type.GetMethod("Equals", [type])!;
            var hash = type.GetMethod("GetHashCode", Type.EmptyTypes)!;
            if (!equals.IsDefined(typeof(CompilerGeneratedAttribute)) || !hash.IsDefined(typeof(CompilerGeneratedAttribute)))
                offenders.Add($"{type.Name} has a hand-written Equals or GetHashCode");
        }
        Assert.True(offenders.Count == 0, string.Join("; ", offenders));
    }

    [Fact]
    public void ConfigRecords_EveryFieldComparesByValue()
    {
        var offenders = new List<string>();
        foreach (var type in ConfigTypes().Where(IsRecord))
        {
            foreach (var field in type.GetFields(Fields))
            {
                if (field.Name == "<EqualityContract>k__BackingField") continue;
                if (!ComparesByValue(field.FieldType)) offenders.Add($"{type.Name}.{field.Name}: {field.FieldType}");
            }
        }
        Assert.True(offenders.Count == 0,
            "members that compare by reference (use EquatableArray<T> for collections): " + string.Join("; ", offenders));
    }

    [Fact]
    public void Load_SameFileTwice_Equal()
    {
        var a = ConfigLoader.LoadFile(FullSample());
        var b = ConfigLoader.LoadFile(FullSample());
        Assert.NotSame(a, b);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    /// <summary>
    /// Every settable member of the full sample, at every depth (list elements included, and
    /// sections the sample leaves out filled with their defaults first), changed one at a time:
    /// each change makes the config unequal to the one before it.
    /// </summary>
    [Fact]
    public void ChangingAnyOneField_ConfigsUnequal()
    {
        var original = ConfigLoader.LoadFile(FullSample());
        var changes = new List<(string Path, object Before, object After)>();
        Walk(original, original, root => root, "config", changes);
        Assert.True(changes.Count > 150, $"only {changes.Count} changes tried");
        var missed = changes.Where(c => c.Before.Equals(c.After)).Select(c => c.Path).ToList();
        Assert.True(missed.Count == 0, "changes that left the config equal: " + string.Join(", ", missed));
        Assert.DoesNotContain(changes, c => !ReferenceEquals(c.Before, original) && c.Before.Equals(original));
    }

    private static void Walk(object node, object baseline, Func<object, object> rebuild, string path, List<(string, object, object)> changes)
    {
        foreach (var property in node.GetType().GetProperties(BindingFlags.Instance | BindingFlags.Public))
        {
            if (property.SetMethod is not { IsPublic: true } || property.GetIndexParameters().Length > 0) continue;
            var type = property.PropertyType;
            var value = property.GetValue(node);
            var here = $"{path}.{property.Name}";
            if (IsRecord(type))
            {
                if (value is null)
                {
                    // Left out of the sample: fill it in (a change of its own), then change its members.
                    var filled = New(type);
                    var filledRoot = rebuild(With(node, property, filled));
                    changes.Add((here, baseline, filledRoot));
                    Walk(filled, filledRoot, v => rebuild(With(node, property, v)), here, changes);
                }
                else
                {
                    Walk(value, baseline, v => rebuild(With(node, property, v)), here, changes);
                }
                continue;
            }
            if (ElementType(type) is { } element && IsRecord(element))
            {
                var items = ((System.Collections.IEnumerable)value!).Cast<object>().ToList();
                if (items.Count == 0 && element.IsAbstract)
                {
                    // A list of rules: one item of each rule kind's config, each changed in turn.
                    foreach (var kind in element.Assembly.GetTypes().Where(t => !t.IsAbstract && t.IsSubclassOf(element)))
                    {
                        var added = New(kind);
                        var addedRoot = rebuild(With(node, property, Array(element, [added])));
                        changes.Add(($"{here}+{kind.Name}", baseline, addedRoot));
                        Walk(added, addedRoot, v => rebuild(With(node, property, Array(element, [v]))), $"{here}[0:{kind.DeclaringType?.Name ?? kind.Name}]", changes);
                    }
                    continue;
                }
                if (items.Count == 0)
                {
                    var added = New(element);
                    var addedRoot = rebuild(With(node, property, Array(element, [added])));
                    changes.Add((here + "+", baseline, addedRoot));
                    Walk(added, addedRoot, v => rebuild(With(node, property, Array(element, [v]))), here + "[0]", changes);
                    continue;
                }
                for (var i = 0; i < items.Count; i++)
                {
                    var index = i;
                    Walk(items[i], baseline, v => rebuild(With(node, property, Array(element, [.. items.Take(index), v, .. items.Skip(index + 1)]))), $"{here}[{i}]", changes);
                }
                changes.Add((here + "-", baseline, rebuild(With(node, property, Array(element, items.Skip(1).ToList())))));
                continue;
            }
            changes.Add((here, baseline, rebuild(With(node, property, Changed(type, value)))));
        }
    }

    /// <summary>A copy of the record with one property set, the way <c>with</c> does it (clone, then the init accessor).</summary>
    private static object With(object record, PropertyInfo property, object? value)
    {
        var clone = record.GetType().GetMethod("<Clone>$")!.Invoke(record, null)!;
        property.SetValue(clone, value);
        return clone;
    }

    private static object? Changed(Type type, object? value)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
            return value is null ? Changed(underlying, Activator.CreateInstance(underlying)) : null;
        if (type == typeof(string)) return (string?)value + "x";
        if (type == typeof(int)) return (int)value! + 1;
        if (type == typeof(long)) return (long)value! + 1;
        if (type == typeof(double)) return (double)value! + 0.5;
        if (type == typeof(bool)) return !(bool)value!;
        if (type == typeof(TimeSpan)) return (TimeSpan)value! + TimeSpan.FromSeconds(1);
        if (type == typeof(Uri)) return new Uri(value is null ? "http://changed.test/" : value + "x");
        if (type == typeof(SecretBytes)) return new SecretBytes([.. ((SecretBytes)value!).Span, 1]);
        if (type.IsEnum) return Enum.GetValues(type).Cast<object>().First(v => !v.Equals(value));
        if (ElementType(type) is { } element)
        {
            var items = ((System.Collections.IEnumerable)value!).Cast<object>().ToList();
            return Array(element, items.Count > 0 ? items.Skip(1).ToList() : [Sample(element)]);
        }
        throw new InvalidOperationException($"no way to change a {type}; teach {nameof(Changed)} one");
    }

    private static object Sample(Type type) =>
        type == typeof(string) ? "sample"
        : type == typeof(IPNetwork) ? IPNetwork.Parse("192.0.2.0/24")
        : type == typeof(long) ? 64500L
        : throw new InvalidOperationException($"no sample {type}");

    private static object New(Type type) =>
        type.GetConstructor(Type.EmptyTypes) is { } constructor ? constructor.Invoke(null) : RuntimeHelpers.GetUninitializedObject(type);

    private static object Array(Type element, List<object> items)
    {
        var array = System.Array.CreateInstance(element, items.Count);
        for (var i = 0; i < items.Count; i++) array.SetValue(items[i], i);
        // EquatableArray.Create takes a ReadOnlySpan, which reflection cannot pass; ImmutableArray.Create takes the array.
        var immutable = typeof(System.Collections.Immutable.ImmutableArray).GetMethods()
            .Single(m => m.Name == "Create" && m.IsGenericMethod && m.GetParameters() is [{ ParameterType.IsArray: true }])
            .MakeGenericMethod(element).Invoke(null, [array])!;
        return Activator.CreateInstance(typeof(EquatableArray<>).MakeGenericType(element), immutable)!;
    }

    private static Type? ElementType(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EquatableArray<>) ? type.GetGenericArguments()[0] : null;

    private static bool ComparesByValue(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying) return ComparesByValue(underlying);
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(IPNetwork) || type == typeof(SecretBytes))
            return true;
        if (ElementType(type) is { } element) return ComparesByValue(element);
        return IsRecord(type) && type.Namespace == typeof(PortwayConfig).Namespace;
    }

    private static bool IsRecord(Type type) =>
        type.GetProperty("EqualityContract", BindingFlags.Instance | BindingFlags.NonPublic) is not null;

    private static List<Type> ConfigTypes() =>
        typeof(PortwayConfig).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(PortwayConfig).Namespace && t.Name.EndsWith("Config", StringComparison.Ordinal) && !t.IsAbstract)
            .ToList();

    private static string FullSample() => Path.Combine(ValidationGoldenTests.FindRepoRoot(), "samples", "full.yaml");
}
