using System.Collections;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace Portway.Configuration;

/// <summary>
/// An immutable array that compares by its elements. Config records use it for every collection
/// member so that their compiler-generated <c>Equals</c> is a value comparison: an
/// <see cref="ImmutableArray{T}"/> compares by reference, which made each record hand-write its
/// Equals, and a field forgotten there is a reload that silently misses a change.
/// Converts implicitly to and from <see cref="ImmutableArray{T}"/>; the default value is empty.
/// </summary>
[CollectionBuilder(typeof(EquatableArray), nameof(EquatableArray.Create))]
internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
{
    private readonly ImmutableArray<T> _items;

    public EquatableArray(ImmutableArray<T> items) => _items = items;

    public static EquatableArray<T> Empty => default;

    public int Length => _items.IsDefault ? 0 : _items.Length;

    public bool IsEmpty => Length == 0;

    int IReadOnlyCollection<T>.Count => Length;

    public T this[int index] => Items[index];

    /// <summary>The elements; never a default (null) array.</summary>
    public ImmutableArray<T> Items => _items.IsDefault ? ImmutableArray<T>.Empty : _items;

    public ReadOnlySpan<T> AsSpan() => Items.AsSpan();

    /// <summary>A struct enumerator, so a <c>foreach</c> allocates nothing.</summary>
    public ImmutableArray<T>.Enumerator GetEnumerator() => Items.GetEnumerator();

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => ((IEnumerable<T>)Items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable)Items).GetEnumerator();

    public bool Equals(EquatableArray<T> other) => AsSpan().SequenceEqual(other.AsSpan(), EqualityComparer<T>.Default);

    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in AsSpan()) hash.Add(item);
        return hash.ToHashCode();
    }

    /// <summary>The element type and count, not the elements: records print their members, and configs hold token and password hashes.</summary>
    public override string ToString() => $"[{Length} × {typeof(T).Name}]";

    public static bool operator ==(EquatableArray<T> a, EquatableArray<T> b) => a.Equals(b);

    public static bool operator !=(EquatableArray<T> a, EquatableArray<T> b) => !a.Equals(b);

    public static implicit operator EquatableArray<T>(ImmutableArray<T> items) => new(items);

    public static implicit operator ImmutableArray<T>(EquatableArray<T> items) => items.Items;
}

/// <summary>Builds <see cref="EquatableArray{T}"/> from collection expressions (<c>= ["a", "b"]</c>).</summary>
internal static class EquatableArray
{
    public static EquatableArray<T> Create<T>(ReadOnlySpan<T> items) => new(ImmutableArray.Create(items));
}
