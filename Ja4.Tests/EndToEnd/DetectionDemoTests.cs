using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Ja4.Tests.EndToEnd;

/// <summary><c>ja4 demo --seed-only</c> as its own process, then <c>ja4 sql</c> counting what it stored.</summary>
[Trait("Category", "EndToEnd")]
public sealed partial class DetectionDemoTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-demo-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int Exit, string Stdout, string Stderr)> Ja4Async(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ja4.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private async Task<long> CountAsync(string sql)
    {
        // The configuration the demo wrote beside its store; no daemon runs, so the store is opened directly.
        var (exit, stdout, stderr) = await Ja4Async("sql", sql, "--format", "tsv", "--config", Path.Combine(_dir, "appsettings.demo.json"));
        Assert.True(exit == 0, stderr);
        // tsv: a header line, then the value.
        return long.Parse(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"(\d+) http_logs rows, (\d+) tls_handshakes rows")]
    private static partial Regex Seeded();

    [GeneratedRegex(@"detection: (\d+) runs, (\d+) scores, (\d+) anomalies, (\d+) campaigns")]
    private static partial Regex Detected();

    [Fact]
    public async Task Demo_seed_only_fills_the_store_that_sql_then_reads()
    {
        var (exit, stdout, stderr) = await Ja4Async("demo", "--seed-only", "--data", _dir, "--hours", "2", "--requests", "12000", "--seed", "3");
        Assert.True(exit == 0, stdout + stderr);
        var seeded = Seeded().Match(stdout);
        var detected = Detected().Match(stdout);
        Assert.True(seeded.Success && detected.Success, stdout);
        var http = long.Parse(seeded.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(http, 6_000, 24_000);
        Assert.Equal("2", detected.Groups[1].Value);

        Assert.Equal(http, await CountAsync("SELECT count() FROM ja4.http_logs"));
        Assert.Equal(long.Parse(seeded.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture),
            await CountAsync("SELECT count() FROM ja4.tls_handshakes"));
        // Every logged request's connection has its handshake stored.
        Assert.Equal(0, await CountAsync(
            "SELECT count() FROM ja4.http_logs WHERE (client_ip, client_port) NOT IN (SELECT client_ip, client_port FROM ja4.tls_handshakes)"));
        Assert.Equal(long.Parse(detected.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture),
            await CountAsync("SELECT count() FROM ja4.ml_all_scores"));
        var anomalies = await CountAsync("SELECT count() FROM ja4.ml_detected_anomalies");
        Assert.Equal(long.Parse(detected.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture), anomalies);
        Assert.True(anomalies > 0);
        Assert.True(await CountAsync("SELECT count() FROM ja4.ml_campaigns") > 0);
        Assert.True(await CountAsync("SELECT count() FROM ja4.known_fingerprints") > 10);

        var (badExit, _, badErr) = await Ja4Async("demo", "--hours", "0");
        Assert.Equal(2, badExit);
        Assert.Contains("--hours must be an integer between 1 and 744", badErr);
    }
}
