using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Portway.Configuration;
using Portway.Edge.Tls;
using Portway.Protocol;
using Xunit;

namespace Portway.Tests.Tls;

/// <summary>
/// The one chain check (Security/CustomRootTrust) through both of its callers, against a real edge
/// serving leaf + intermediate: the agent's link (LinkTls) and the edge's https destinations
/// (UpstreamTls). The same cases must give the same answer through either.
/// </summary>
public sealed class CustomRootTrustTests : IAsyncLifetime
{
    private const string EdgeName = "edge.example.test";
    private string _dir = null!;
    private string _rootFile = null!;
    private string _otherCaFile = null!;
    private Infrastructure.TestEdge _edge = null!;

    public async Task InitializeAsync()
    {
        _dir = TestCertificates.TempDir();
        using var root = TestCertificates.CreateCa("Private root");
        using var intermediate = TestCertificates.CreateIntermediateCa(root);
        using var other = TestCertificates.CreateCa("Someone else's CA");
        using var leaf = TestCertificates.CreateLeaf(intermediate, "edge", [EdgeName]);
        // Only the root is in the CA file: the chain builds only with the intermediate the server sends.
        var (cert, key) = TestCertificates.WritePem(_dir, "edge", leaf, intermediate);
        _rootFile = TestCertificates.WriteCaPem(_dir, "root", root);
        _otherCaFile = TestCertificates.WriteCaPem(_dir, "other", other);
        _edge = await TlsEdge.StartWithDefaultAsync(cert, key);
    }

    public async Task DisposeAsync() => await _edge.DisposeAsync();

    public static TheoryData<string> Callers => ["link", "upstream"];

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Handshake_ChainsToTheGivenRootViaSentIntermediate_Accepted(string caller) =>
        Assert.True(await HandshakeAsync(caller, EdgeName, _rootFile));

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Handshake_IssuedUnderAnotherCa_Refused(string caller) =>
        Assert.False(await HandshakeAsync(caller, EdgeName, _otherCaFile));

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task Handshake_TrustedChainButNameDiffers_Refused(string caller) =>
        Assert.False(await HandshakeAsync(caller, "other.example.test", _rootFile));

    [Fact]
    public async Task Upstream_CaFileUnreadable_TrustsNothing() =>
        Assert.False(await HandshakeAsync("upstream", EdgeName, Path.Combine(_dir, "missing.pem")));

    /// <summary>True when the handshake was accepted, false when the client refused the edge's certificate.</summary>
    private async Task<bool> HandshakeAsync(string caller, string serverName, string caFile)
    {
        var port = _edge.HttpsUrl().Port;
        try
        {
            if (caller == "link")
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, port);
                await using var ssl = new SslStream(tcp.GetStream());
                await ssl.AuthenticateAsClientAsync(LinkTls.ClientOptions(serverName, caFile));
                return true;
            }
            using var handler = new SocketsHttpHandler
            {
                UseProxy = false,
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            };
            var metadata = new Dictionary<string, string>();
            UpstreamTls.AddMetadata(metadata, new UpstreamTlsConfig { CaFile = caFile });
            UpstreamTls.Configure(handler, metadata);
            using var client = new HttpClient(handler);
            // Any answer from the edge (it has no routes: 404) means the handshake went through.
            using var response = await client.GetAsync($"https://{serverName}:{port}/");
            return true;
        }
        catch (AuthenticationException)
        {
            return false;
        }
        catch (HttpRequestException e) when (e.InnerException is AuthenticationException)
        {
            return false;
        }
    }
}
