namespace Portway.Edge.Settings;

/// <summary>
/// A destination's settings for Portway's balancing policies. <paramref name="Order"/> is its
/// position in the file (failover order for first_available, ties in weighted round robin); YARP's
/// own destination order is not the file's.
/// </summary>
internal sealed record DestinationSettings(int Weight, int Order)
{
    /// <summary>A destination Portway's config does not list (a tunnel cluster's): weight 1, after every listed one.</summary>
    public static readonly DestinationSettings Default = new(1, int.MaxValue);
}
