using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Portway.Edge.Tls;

/// <summary>
/// Connection middleware before the TLS handshake. Kestrel's handshake callback sees the SNI but
/// not the ALPN list, and a tls-alpn-01 validator must get the challenge certificate only when it
/// offers "acme-tls/1" (RFC 8737 §3), never an ordinary visitor. So while a tls-alpn-01 answer is
/// pending, the ClientHello is read without consuming it and the offer recorded as a feature. At
/// all other times this is one volatile read per connection.
/// </summary>
internal static class ClientHelloPeekMiddleware
{
    public static Func<ConnectionDelegate, ConnectionDelegate> Create(AcmeChallengeStore challenges) =>
        next => connection => challenges.AnyTlsAlpn ? PeekAsync(connection, next) : next(connection);

    /// <summary>Kestrel's own handshake timeout (10 s) starts after this step, so the peek has its own bound.</summary>
    private static readonly TimeSpan PeekTimeout = TimeSpan.FromSeconds(10);

    private static async Task PeekAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var input = connection.Transport.Input;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(PeekTimeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                connection.Abort();
                return;
            }
            var buffer = result.Buffer;
            var status = ClientHelloParser.OffersAcmeTls(buffer, out var offers);
            if (status == OperationStatus.NeedMoreData && !result.IsCompleted && buffer.Length < 16 * 1024 + 5)
            {
                // Examined all, consumed nothing: the next read waits for more bytes.
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            // Consumed and examined nothing: the TLS handshake reads the same bytes again at once.
            input.AdvanceTo(buffer.Start);
            if (status == OperationStatus.Done && offers) connection.Features.Set(AcmeTlsOfferFeature.Instance);
            break;
        }
        await next(connection);
    }
}
