using OpenTelemetry.Resources;

namespace Portway.Edge.Metrics;

/// <summary>
/// Who the metrics come from, as the OpenTelemetry resource (exported in /metrics as target_info).
/// Without it the SDK falls back to service.name "unknown_service:portway" (the semantic
/// conventions' unknown_service:&lt;process name&gt;) and no version at all.
/// </summary>
internal static class MetricsResource
{
    public const string ServiceName = "portway";

    public static void Describe(ResourceBuilder resource) =>
        // No generated service.instance.id: Prometheus names the scraped instance itself, and a new
        // random id at every start would only add a target_info series per restart.
        resource.AddService(ServiceName, serviceVersion: ProductVersion.Value, autoGenerateServiceInstanceId: false);
}
