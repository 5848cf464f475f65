using System.Diagnostics;
using Portway.Tests.Configuration;
using Portway.Tests.Infrastructure;
using Xunit;

namespace Portway.Tests.Geo;

/// <summary>
/// Writes a real .mmdb for a test with MaxMind's own writer (write-test-mmdb.pl beside this file,
/// Debian's libmaxmind-db-writer-perl). Without the package the test is skipped with the reason on a
/// laptop and fails under CI=true, as <see cref="Tools.Require"/> does for other tools.
/// </summary>
internal static class TestGeoDatabase
{
    /// <summary>The networks most geo tests use: "EU" and "US" clients in documentation ranges, IPv6 too.</summary>
    public const string Networks = """
        203.0.113.0/24 DE EU -
        198.51.100.0/24 US NA 13335
        192.0.2.0/24 CH EU 64500
        2001:db8:e0::/48 FR EU -
        2001:db8:a0::/48 US NA -
        """;

    /// <summary>Writes <paramref name="networks"/> (lines of CIDR COUNTRY CONTINENT ASN, '-' for none) to <paramref name="path"/>.</summary>
    public static async Task WriteAsync(string path, string networks = Networks)
    {
        var perl = Tools.Require("perl", "perl");
        var script = Path.Combine(ValidationGoldenTests.FindRepoRoot(), "tests", "Portway.Tests", "Geo", "write-test-mmdb.pl");
        var start = new ProcessStartInfo(perl, [script, path]) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(networks);
        process.StandardInput.Close();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode == 0) return;
        if (error.Contains("Can't locate MaxMind/DB/Writer", StringComparison.Ordinal))
        {
            var reason = "MaxMind's .mmdb writer is not installed (apt-get install libmaxmind-db-writer-perl)";
            if (Tools.InCi) throw new InvalidOperationException(reason + " and CI=true, so this is a failure, not a skip");
            Skip.If(true, reason);
        }
        throw new InvalidOperationException($"write-test-mmdb.pl exited {process.ExitCode}: {error}");
    }

    /// <summary>A fresh temp file path ending in .mmdb, holding <paramref name="networks"/>.</summary>
    public static async Task<string> CreateAsync(string networks = Networks)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("portway-geo-").FullName, "test.mmdb");
        await WriteAsync(path, networks);
        return path;
    }
}
