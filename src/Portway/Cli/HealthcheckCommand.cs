using System.CommandLine;
using System.CommandLine.Parsing;
using Portway.Configuration;

namespace Portway.Cli;

/// <summary>
/// `portway healthcheck [URL]`: one GET of the admin listener's /healthz, exit 0 on a 2xx answer and
/// 1 otherwise. It exists for the container image's HEALTHCHECK (the image has no curl or shell, like
/// `traefik healthcheck`), and serves a systemd or cron probe just as well.
/// </summary>
internal static class HealthcheckCommand
{
    // The default admin listener (docs/configuration.md, admin.url).
    private const string DefaultUrl = "http://127.0.0.1:9090/healthz";

    public static Command Create()
    {
        var url = new Argument<string>("url")
        {
            Description = $"The health URL to ask (default {DefaultUrl}).",
            DefaultValueFactory = _ => DefaultUrl,
        };
        var timeout = new Option<TimeSpan>("--timeout")
        {
            Description = "How long to wait for the answer, e.g. 3s.",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(5),
            CustomParser = r => Duration(r.Tokens.Count == 1 ? r.Tokens[0].Value : "", r),
        };
        var command = new Command("healthcheck", "Ask the edge's /healthz; exit 0 when it answers 2xx, 1 otherwise (for container and service health checks).") { url, timeout };
        command.SetAction(async (parse, cancel) =>
        {
            var text = parse.GetValue(url)!;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var target) || (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps))
            {
                await Console.Error.WriteLineAsync($"portway healthcheck: '{text}' is not an http:// or https:// URL, e.g. {DefaultUrl}");
                return 1;
            }
            using var client = new HttpClient { Timeout = parse.GetValue(timeout) };
            try
            {
                using var response = await client.GetAsync(target, HttpCompletionOption.ResponseHeadersRead, cancel);
                if (response.IsSuccessStatusCode)
                {
                    Console.WriteLine($"{target}: {(int)response.StatusCode} {response.ReasonPhrase}");
                    return 0;
                }
                await Console.Error.WriteLineAsync($"portway healthcheck: {target} answered {(int)response.StatusCode} {response.ReasonPhrase}");
                return 1;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                var why = e is TaskCanceledException ? $"no answer within {client.Timeout.TotalSeconds:0.#} s" : e.Message;
                await Console.Error.WriteLineAsync($"portway healthcheck: {target}: {why} (is `portway serve` running with admin.url there?)");
                return 1;
            }
        });
        return command;
    }

    private static TimeSpan Duration(string text, ArgumentResult result)
    {
        if (ConfigValues.TryParseDuration(text, out var value) && value > TimeSpan.Zero) return value;
        result.AddError($"--timeout: '{text}' is not a duration; use e.g. 3s or 500ms");
        return default;
    }
}
