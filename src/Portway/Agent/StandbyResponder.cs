using Portway.Protocol;

namespace Portway.Agent;

/// <summary>
/// The agent's half of link standby (docs/protocol.md): answer pings, and on Activate answer it and
/// return so the link can be handed to the HTTP/2 server. A spare that hears nothing for
/// <see cref="LinkProtocol.StandbySilenceLimit"/> is presumed dead (the edge pings every 5 s).
/// </summary>
internal static class StandbyResponder
{
    public static async Task<bool> WaitForActivationAsync(Stream link, CancellationToken cancellationToken)
    {
        var rx = new byte[1];
        try
        {
            while (true)
            {
                using var silence = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                silence.CancelAfter(LinkProtocol.StandbySilenceLimit);
                if (await link.ReadAsync(rx, silence.Token) == 0) return false;
                if (rx[0] is not (LinkProtocol.Ping or LinkProtocol.Activate)) return false;
                await link.WriteAsync(rx, cancellationToken);
                await link.FlushAsync(cancellationToken);
                if (rx[0] == LinkProtocol.Activate) return true;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }
}
