using Portway.Configuration;
using Portway.Edge.Routing;
using Xunit;

namespace Portway.Tests.Configuration;

public sealed class SampleConfigTests
{
    [Theory]
    [InlineData("minimal.yaml")]
    [InlineData("full.yaml")]
    public void Load_Sample_IsValid(string name)
    {
        var path = Path.Combine(ValidationGoldenTests.FindRepoRoot(), "samples", name);
        var config = ConfigLoader.LoadFile(path);
        Assert.NotEmpty(config.Routes);
        Assert.NotEmpty(ProxyConfigMapper.MapClusters(config));
    }

    [Fact]
    public void Parse_Json_IsAcceptedAsYaml()
    {
        var config = ConfigLoader.Parse("""{"routes":[{"id":"a","cluster":"c"}],"clusters":[{"id":"c","destinations":["http://127.0.0.1:1"]}]}""", "x.json");
        Assert.Equal("c", Assert.Single(config.Routes).ClusterId);
    }

    [Fact]
    public void Parse_SameText_ProducesEqualConfigs()
    {
        var text = File.ReadAllText(Path.Combine(ValidationGoldenTests.FindRepoRoot(), "samples", "full.yaml"));
        // Value equality is what lets a reload skip work when nothing changed.
        Assert.Equal(ConfigLoader.Parse(text, "a"), ConfigLoader.Parse(text, "a"));
        Assert.NotEqual(ConfigLoader.Parse(text, "a"), ConfigLoader.Parse(text.Replace("weight: 1", "weight: 2"), "a"));
    }

    [Fact]
    public void Map_Prefix_BecomesCatchAllPattern()
    {
        var config = ConfigLoader.Parse("""
            routes:
              - id: a
                match: { path_prefix: /api/, hosts: ["*.Example.com"] }
                cluster: c
            clusters:
              - id: c
                destinations: [http://127.0.0.1:1]
            """, "x.yaml");
        var route = Assert.Single(ProxyConfigMapper.MapRoutes(config));
        Assert.Equal("/api/{**portway-rest}", route.Match.Path);
        Assert.Equal("*.example.com", Assert.Single(route.Match.Hosts!));
    }
}
