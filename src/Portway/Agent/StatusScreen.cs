using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Portway.Protocol;

namespace Portway.Agent;

/// <summary>
/// The agent's output. On a terminal: an ngrok-style screen redrawn every second (session status,
/// edge, forwarding lines, connections, rate, latency, recent events). When stdout is not a
/// terminal (a log file, CI, a pipe): plain lines only when something happens, starting with
/// <c>Forwarding URL -> TARGET</c>, so scripts can read the URL.
/// </summary>
internal sealed class StatusScreen : IDisposable
{
    private readonly AgentHost _agent;
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly Timer? _timer;
    private readonly Lock _gate = new();

    public StatusScreen(AgentHost agent, TextWriter output, bool interactive)
    {
        _agent = agent;
        _out = output;
        _interactive = interactive;
        if (interactive)
        {
            _timer = new Timer(_ => Render(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));
            agent.Status.GrantsChanged += _ => Render();
        }
        else
        {
            agent.Status.GrantsChanged += PrintForwarding;
            agent.Status.Event += message => WriteLine($"{DateTime.Now:HH:mm:ss} {message}");
            if (!agent.Status.Grants.IsEmpty) PrintForwarding(agent.Status.Grants);
        }
    }

    private void PrintForwarding(ImmutableArray<TunnelGrant> grants)
    {
        if (_agent.InspectorUrl is { } inspector) WriteLine("Web Interface " + inspector.ToString().TrimEnd('/'));
        foreach (var line in ForwardingLines(grants)) WriteLine(line.StartsWith("https pending", StringComparison.Ordinal) ? line : "Forwarding " + line);
    }

    private IEnumerable<string> ForwardingLines(ImmutableArray<TunnelGrant> grants)
    {
        foreach (var g in grants)
        {
            foreach (var t in _agent.Options.Tunnels)
            {
                if (t.Id != g.Id) continue;
                var target = t.Kind == TunnelKind.Http ? t.TargetText : "tcp://" + t.TargetText;
                foreach (var url in g.ServedUrls()) yield return $"{url} -> {target}";
                // Said until the edge serves https for the name (the edge sends an update then).
                if (g.HttpsPending is { } why) yield return $"https pending: {why}";
            }
        }
    }

    private void WriteLine(string line)
    {
        lock (_gate)
        {
            _out.WriteLine(line);
            _out.Flush();
        }
    }

    public void Render()
    {
        if (!_interactive) return;
        var s = _agent.Status;
        var stats = _agent.Stats;
        var b = new StringBuilder();
        b.Append("\x1b[H\x1b[2J");
        b.AppendLine("Portway agent                                                  (Ctrl+C to quit)").AppendLine();
        Row(b, "Session Status", s.State switch
        {
            SessionState.Online => "online",
            SessionState.Connecting => "connecting",
            SessionState.Reconnecting => "reconnecting",
            _ => "failed: " + s.LastError,
        });
        Row(b, "Edge", $"{_agent.Options.Edge} ({s.Links} link{(s.Links == 1 ? "" : "s")})");
        if (_agent.InspectorUrl is { } inspector) Row(b, "Web Interface", inspector.ToString().TrimEnd('/'));
        foreach (var line in ForwardingLines(s.Grants)) Row(b, line.StartsWith("https pending", StringComparison.Ordinal) ? "" : "Forwarding", line);
        b.AppendLine();
        Row(b, "Connections", "ttl     opn     rt1     rt5     p50     p90");
        Row(b, "", string.Create(CultureInfo.InvariantCulture,
            $"{stats.Total,-8}{stats.Open,-8}{stats.Rate(1),-8:0.00}{stats.Rate(5),-8:0.00}{Ms(stats.PercentileMs(0.5)),-8}{Ms(stats.PercentileMs(0.9)),-8}"));
        b.AppendLine();
        b.AppendLine("Events");
        foreach (var e in s.RecentEvents) b.Append("  ").AppendLine(e);
        lock (_gate)
        {
            _out.Write(b.ToString());
            _out.Flush();
        }
    }

    private static string Ms(double ms) => ms < 1 ? $"{ms:0.0}ms" : $"{ms:0}ms";

    private static void Row(StringBuilder b, string label, string value) => b.Append(label.PadRight(30)).AppendLine(value);

    public void Dispose() => _timer?.Dispose();
}
