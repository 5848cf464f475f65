using System.Globalization;
using Portway.Edge.Settings;
using Yarp.ReverseProxy.Model;

namespace Portway.Edge.LoadBalancing;

/// <summary>
/// A consistent-hash ring (Karger et al. 1997; the ketama layout memcached clients and nginx's
/// "hash ... consistent" use): each destination owns many points on a 64-bit circle and a key
/// belongs to the first point at or after its hash. Adding or removing one of N destinations only
/// moves the keys whose nearest point changed, about 1/N of them.
/// Built over ALL of a cluster's destinations, healthy or not, so that a destination going down
/// does not reshuffle anyone else's keys: its keys walk on to the next live point instead.
/// </summary>
internal sealed class HashRing
{
    /// <summary>Points per unit of weight. 160 is ketama's figure (40 MD5 digests × 4 points); with
    /// fewer, the share of keys each destination gets varies by tens of percent.</summary>
    public const int PointsPerWeight = 160;

    private readonly ulong[] _points;
    private readonly DestinationState[] _owners;
    private readonly DestinationState[] _members;
    private readonly Yarp.ReverseProxy.Configuration.DestinationConfig[] _configs;
    private readonly ClusterSettings _settings;

    private HashRing(ulong[] points, DestinationState[] owners, DestinationState[] members, Yarp.ReverseProxy.Configuration.DestinationConfig[] configs, ClusterSettings settings)
    {
        _settings = settings;
        _points = points;
        _owners = owners;
        _members = members;
        _configs = configs;
    }

    /// <summary>A ring over <paramref name="destinations"/>, weighted by their <see cref="DestinationSettings.Weight"/> in <paramref name="settings"/>.</summary>
    public static HashRing Build(IReadOnlyList<DestinationState> destinations, ClusterSettings settings)
    {
        var members = new DestinationState[destinations.Count];
        var configs = new Yarp.ReverseProxy.Configuration.DestinationConfig[destinations.Count];
        var weights = new int[destinations.Count];
        long weightSum = 0;
        var weighted = 0;
        for (var i = 0; i < destinations.Count; i++)
        {
            members[i] = destinations[i];
            configs[i] = destinations[i].Model.Config;
            weights[i] = settings.Destination(destinations[i].DestinationId).Weight;
            weightSum += weights[i];
            if (weights[i] > 0) weighted++;
        }

        // Points are scaled to the mean weight (as ketama does) so a cluster of weight-1000 servers
        // does not build a ring of millions of points; equal weights always give 160 points each,
        // which keeps a joining destination from moving anyone else's points.
        var mean = weighted == 0 ? 1.0 : (double)weightSum / weighted;
        var points = new List<(ulong Point, DestinationState Owner)>();
        for (var i = 0; i < members.Length; i++)
        {
            if (weights[i] == 0) continue;
            var count = Math.Max(1, (int)Math.Round(PointsPerWeight * weights[i] / mean));
            // Points hang off the address, not the id: ids default to positions in the file, and
            // deleting the first destination must not rename (and so move) all the others.
            var address = configs[i].Address;
            for (var p = 0; p < count; p++)
            {
                points.Add((StableHash.Of(string.Create(CultureInfo.InvariantCulture, $"{address}#{p}")), members[i]));
            }
        }
        points.Sort(static (a, b) => a.Point.CompareTo(b.Point));
        var keys = new ulong[points.Count];
        var owners = new DestinationState[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            keys[i] = points[i].Point;
            owners[i] = points[i].Owner;
        }
        return new HashRing(keys, owners, members, configs, settings);
    }

    /// <summary>True when this ring was built from exactly these destinations, their current config and these settings.</summary>
    public bool IsFor(IReadOnlyList<DestinationState> destinations, ClusterSettings settings)
    {
        if (destinations.Count != _members.Length || !ReferenceEquals(settings, _settings)) return false;
        for (var i = 0; i < _members.Length; i++)
        {
            var d = destinations[i];
            // Same order is the usual case; YARP does not promise an order, so fall back to a search.
            var at = ReferenceEquals(d, _members[i]) ? i : Array.IndexOf(_members, d);
            if (at < 0 || !ReferenceEquals(d.Model.Config, _configs[at])) return false;
        }
        return true;
    }

    /// <summary>
    /// The owner of <paramref name="hash"/> among <paramref name="available"/>: the first point at or
    /// after the hash whose destination is available, walking clockwise past unavailable ones.
    /// </summary>
    public DestinationState? Find(ulong hash, IReadOnlyList<DestinationState> available)
    {
        var points = _points;
        if (points.Length == 0) return null;
        var start = Array.BinarySearch(points, hash);
        if (start < 0) start = ~start;
        for (var step = 0; step < points.Length; step++)
        {
            var index = start + step;
            if (index >= points.Length) index -= points.Length;
            var owner = _owners[index];
            if (Contains(available, owner)) return owner;
        }
        return null;
    }

    private static bool Contains(IReadOnlyList<DestinationState> list, DestinationState item)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (ReferenceEquals(list[i], item)) return true;
        }
        return false;
    }
}
