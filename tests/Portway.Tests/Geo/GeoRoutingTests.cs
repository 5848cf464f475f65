using System.Net;
using System.Net.Sockets;
using Portway.Configuration;
using Portway.Tests.Configuration.DocumentedKeys;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Geo;

/// <summary>
/// routes[].match.geo through the real edge: "EU" and "US" clients (a trusted proxy's
/// X-Forwarded-For, or distinct loopback source addresses) routed to different clusters, from a
/// .mmdb written by MaxMind's writer and from the CIDR table alone; database errors and reloads.
/// </summary>
public sealed class GeoRoutingTests
{
    private static string Config(string geo, Uri eu, Uri rest, string forwarded = "forwarded:\n  trusted_proxies: [127.0.0.1]", string euMatch = "geo: [eu]") => $"""
        {forwarded}
        geo:
        {geo}
        routes:
          - id: europe
            match: {"{"} {euMatch} {"}"}
            cluster: eu
          - id: everyone-else
            cluster: rest
        clusters:
          - id: eu
            destinations: [{eu}]
          - id: rest
            destinations: [{rest}]
        """;

    private static async Task<string> From(TestEdge edge, string? client, string path = "/")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (client is not null) request.Headers.Add("X-Forwarded-For", client);
        var response = await edge.Client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    [SkippableFact]
    [CoversKey("geo.databases", "geo.regions", "routes[].match.geo")]
    public async Task MatchGeo_EuAndUsClients_RoutedToDifferentClusters()
    {
        var mmdb = await TestGeoDatabase.CreateAsync();
        await using var eu = await TestOrigin.StartAsync("eu");
        await using var rest = await TestOrigin.StartAsync("rest");
        await using var edge = await TestEdge.StartAsync(Config($"""
              databases: [{mmdb}]
              regions:
                eu: [continent:EU]
                us: [US]
            """, eu.Url, rest.Url));

        Assert.Equal("eu", await From(edge, "203.0.113.9"));       // DE, continent EU
        Assert.Equal("eu", await From(edge, "192.0.2.1"));         // CH, continent EU
        Assert.Equal("eu", await From(edge, "2001:db8:e0::7"));    // FR over IPv6
        Assert.Equal("rest", await From(edge, "198.51.100.20"));   // US
        Assert.Equal("rest", await From(edge, "2001:db8:a0::1"));  // US over IPv6
        Assert.Equal("rest", await From(edge, "100.64.0.1"));      // in no database entry
        Assert.Equal("rest", await From(edge, null));              // the proxy itself, 127.0.0.1
    }

    [SkippableFact]
    public async Task MatchGeo_CountryAsnAndHosts_ComposeWithOtherConditions()
    {
        var mmdb = await TestGeoDatabase.CreateAsync();
        await using var eu = await TestOrigin.StartAsync("eu");
        await using var rest = await TestOrigin.StartAsync("rest");
        await using var edge = await TestEdge.StartAsync(Config($"""
              databases: [{mmdb}]
              regions:
                eu: [DE, asn:13335]
            """, eu.Url, rest.Url, euMatch: "geo: [EU], path_prefix: /shop"));

        Assert.Equal("eu", await From(edge, "203.0.113.9", "/shop/cart"));    // DE
        Assert.Equal("eu", await From(edge, "198.51.100.20", "/shop"));       // US, but AS13335
        Assert.Equal("rest", await From(edge, "192.0.2.1", "/shop"));         // CH: not a member
        Assert.Equal("rest", await From(edge, "203.0.113.9", "/blog"));       // the path does not match
    }

    [Fact]
    public async Task MatchGeo_CidrTableAlone_DistinctLoopbackSources()
    {
        await using var eu = await TestOrigin.StartAsync("eu");
        await using var rest = await TestOrigin.StartAsync("rest");
        // No database and no trusted proxy: the socket peer decides.
        await using var edge = await TestEdge.StartAsync(Config("""
              regions:
                eu: [127.0.0.2, 10.0.0.0/8]
                other: [::1/128]
            """, eu.Url, rest.Url, forwarded: ""));

        Assert.Equal("eu", await FromSource(edge.Url, IPAddress.Parse("127.0.0.2")));
        Assert.Equal("rest", await FromSource(edge.Url, IPAddress.Parse("127.0.0.3")));
        // A spoofed header from an untrusted peer changes nothing.
        Assert.Equal("rest", await From(edge, "127.0.0.2"));
    }

    private static async Task<string> FromSource(Uri url, IPAddress source)
    {
        using var client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    // Linux routes all of 127.0.0.0/8 to lo, so any of its addresses can be a client's.
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        });
        return await client.GetStringAsync(url);
    }

    [Theory]
    [InlineData("a", "b", "a")]
    [InlineData("b", "a", "b")]
    public async Task OverlappingRegions_EquallySpecificRoutes_FirstListedWins(string first, string second, string expected)
    {
        await using var a = await TestOrigin.StartAsync("a");
        await using var b = await TestOrigin.StartAsync("b");
        await using var rest = await TestOrigin.StartAsync("rest");
        // 203.0.113.9 is in both regions; the routes differ only in them.
        await using var edge = await TestEdge.StartAsync($"""
            forwarded:
              trusted_proxies: [127.0.0.1]
            geo:
              regions:
                a: [203.0.113.0/24]
                b: [203.0.113.9, 198.51.100.0/24]
            routes:
              - id: first
                match: {"{"} geo: [{first}] {"}"}
                cluster: {first}
              - id: second
                match: {"{"} geo: [{second}] {"}"}
                cluster: {second}
              - id: rest
                cluster: rest
            clusters:
              - id: a
                destinations: [{a.Url}]
              - id: b
                destinations: [{b.Url}]
              - id: rest
                destinations: [{rest.Url}]
            """);

        Assert.Equal(expected, await From(edge, "203.0.113.9"));
        Assert.Equal("b", await From(edge, "198.51.100.1"));
        Assert.Equal("a", await From(edge, "203.0.113.10"));
        Assert.Equal("rest", await From(edge, "192.0.2.1"));
    }

    [SkippableFact]
    public async Task ReplacedDatabase_PickedUpOnReload()
    {
        var mmdb = await TestGeoDatabase.CreateAsync();
        await using var eu = await TestOrigin.StartAsync("eu");
        await using var rest = await TestOrigin.StartAsync("rest");
        var yaml = Config($"""
              databases: [{mmdb}]
              regions:
                eu: [continent:EU]
            """, eu.Url, rest.Url);
        await using var edge = await TestEdge.StartAsync(yaml);
        Assert.Equal("eu", await From(edge, "203.0.113.9"));

        // The network moves to the US: written beside, then renamed over, as a downloader does.
        var next = mmdb + ".new";
        await TestGeoDatabase.WriteAsync(next, "203.0.113.0/24 US NA -\n");
        File.Move(next, mmdb, overwrite: true);
        // The YAML is unchanged; the reload (file event here, SIGHUP alike) sees the file's new size and time.
        await edge.RewriteAsync(yaml);
        await Wait.UntilAsync(async () => await From(edge, "203.0.113.9") == "rest", because: "the replaced database was not picked up");
        Assert.Null(edge.Host.LastReloadErrors);
    }

    [SkippableFact]
    public async Task ReplacedDatabase_ConfigUntouched_WatchedFileReloads()
    {
        var mmdb = await TestGeoDatabase.CreateAsync();
        await using var eu = await TestOrigin.StartAsync("eu");
        await using var rest = await TestOrigin.StartAsync("rest");
        await using var edge = await TestEdge.StartAsync(Config($"""
              databases: [{mmdb}]
              regions:
                eu: [continent:EU]
            """, eu.Url, rest.Url));
        Assert.Equal("rest", await From(edge, "198.51.100.20"));

        var next = mmdb + ".new";
        await TestGeoDatabase.WriteAsync(next, "198.51.100.0/24 IE EU -\n");
        File.Move(next, mmdb, overwrite: true);
        await Wait.UntilAsync(async () => await From(edge, "198.51.100.20") == "eu", because: "the edge did not notice the replaced .mmdb");
    }

    [Fact]
    public void MissingDatabase_ConfigErrorAtTheEntry()
    {
        var missing = Path.Combine(Path.GetTempPath(), "portway-no-such-dir", "GeoLite2-Country.mmdb");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"geo:\n  databases:\n    - {missing}\n", "p.yaml"));
        var error = Assert.Single(e.Errors);
        Assert.Equal("p.yaml:3:7: geo.databases: '" + missing + "': no such file; give the path of a GeoLite2/GeoIP2 Country, City or ASN .mmdb (Portway ships none; see docs/geo.md)", error.ToString());
    }

    [Fact]
    public void CorruptDatabase_ConfigErrorNamingTheFile()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("portway-geo-").FullName, "broken.mmdb");
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 31))]);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"geo:\n  databases: [{path}]\n", "p.yaml"));
        var error = Assert.Single(e.Errors);
        Assert.StartsWith($"p.yaml:2:15: geo.databases: '{path}' is not a readable MaxMind database (", error.ToString());
    }

    [SkippableFact]
    public async Task TruncatedDatabase_ConfigError()
    {
        var mmdb = await TestGeoDatabase.CreateAsync();
        var bytes = File.ReadAllBytes(mmdb);
        File.WriteAllBytes(mmdb, bytes[..(bytes.Length / 3)]);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"geo:\n  databases: [{mmdb}]\n", "p.yaml"));
        Assert.Contains("is not a readable MaxMind database", Assert.Single(e.Errors).Message);
    }

    [Fact]
    public void UnknownRegion_ConfigErrorWithTheNearestName()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            geo:
              regions:
                europe: [10.0.0.0/8]
                us: [11.0.0.0/8]
            routes:
              - match: { geo: [eurpoe] }
                cluster: app
            clusters:
              - id: app
                destinations: [http://127.0.0.1:1]
            """, "p.yaml"));
        Assert.Equal("p.yaml:6:20: routes[0].match.geo: unknown region 'eurpoe' (did you mean 'europe'?); defined regions: europe, us", Assert.Single(e.Errors).ToString());
    }

    [Theory]
    [InlineData("eu: [continent:EX]", "p.yaml:3:10: geo.regions.eu: 'continent:EX': unknown continent (did you mean 'continent:EU'?); allowed: AF, AN, AS, EU, NA, OC, SA")]
    [InlineData("eu: [DE]", "p.yaml:3:10: geo.regions.eu: 'DE' needs a MaxMind database: list a GeoLite2/GeoIP2 Country, City or ASN .mmdb in geo.databases (networks work without one)")]
    [InlineData("eu: [asn:x]", "p.yaml:3:10: geo.regions.eu: 'asn:x' is not an AS number; write it like asn:13335")]
    [InlineData("eu: [europe]", "p.yaml:3:10: geo.regions.eu: 'europe' is not a region member; write a country code (DE), continent:EU, asn:13335, or an address or CIDR (10.0.0.0/8, 2001:db8::/32)")]
    [InlineData("eu: [10.0.0.0/8]\n    EU: [11.0.0.0/8]", "p.yaml:4:5: geo.regions.EU: region 'EU' is defined twice (names are compared ignoring case); merge the two lists")]
    [InlineData("e/u: [10.0.0.0/8]", "p.yaml:3:5: geo.regions.e/u: 'e/u' is not a region name; use letters, digits, '-' and '_', e.g. eu or us-east")]
    public void BadRegionMember_ConfigError(string region, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse($"geo:\n  regions:\n    {region}\n", "p.yaml"));
        Assert.Contains(expected, e.Errors.Select(x => x.ToString()));
    }
}
