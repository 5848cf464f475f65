using Portway.Configuration;

namespace Portway.Edge.Settings;

/// <summary>clusters[].health.active settings YARP has no field for (defaults: <see cref="ActiveHealthConfig"/>).</summary>
internal sealed record ActiveHealthSettings(int ExpectMin, int ExpectMax, int UnhealthyAfter, int HealthyAfter)
{
    public static readonly ActiveHealthSettings Default = From(new ActiveHealthConfig());

    public static ActiveHealthSettings From(ActiveHealthConfig config) =>
        new(config.ExpectMin, config.ExpectMax, Math.Max(1, config.UnhealthyAfter), Math.Max(1, config.HealthyAfter));
}
