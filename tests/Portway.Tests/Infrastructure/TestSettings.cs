using Portway.Configuration;
using Portway.Edge.Routing;
using Portway.Edge.Rules;
using Portway.Edge.Settings;

namespace Portway.Tests.Infrastructure;

/// <summary>The typed settings a policy reads, built the way the edge builds them, for unit tests of one policy.</summary>
internal static class TestSettings
{
    public static PortwayProxyConfigProvider Provider(params Portway.Configuration.ClusterConfig[] clusters) =>
        new(ProxyConfigMapper.Map(new PortwayConfig { Clusters = [.. clusters] }, previous: null), RuleKinds.Detached);
}
