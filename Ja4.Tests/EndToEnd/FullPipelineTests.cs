using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ja4.Tests.EndToEnd;

/// <summary>
/// Every real part at once: Apache with mod_ssl and mod_reqin_log, the daemon (its own process)
/// capturing on lo, ingesting the module's records, correlating and storing them in the embedded
/// ClickHouse engine; real clients (curl HTTP/1.1 keep-alive and HTTP/2, python, openssl
/// s_client with a raw request, plain HTTP). The stored rows must carry, for every HTTPS
/// request, the JA4 that <c>ja4 fingerprint</c> computes on a simultaneous tcpdump capture, and
/// <c>plain_http</c> for every plain request.
/// </summary>
[Trait("Category", "EndToEnd")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FullPipelineTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-full-").FullName;
    private ApacheFixture? _apache;
    private Process? _daemon;
    private string _config = "";
    private string _opsUrl = "";
    private Task<string> _daemonErrors = Task.FromResult("");

    public async Task InitializeAsync()
    {
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        _apache = await ApacheFixture.StartAsync(new ApacheOptions());
        var opsPort = DaemonInstance.FreePort();
        _opsUrl = $"http://127.0.0.1:{opsPort}";
        var config = new JsonObject
        {
            ["Modules"] = new JsonObject
            {
                ["Capture"] = new JsonObject
                {
                    ["Enabled"] = true,
                    ["Interface"] = "lo",
                    ["Filter"] = $"tcp port {_apache.HttpsPort} or tcp port {_apache.HttpPort}",
                },
                ["HttpIngest"] = new JsonObject
                {
                    ["Enabled"] = true,
                    ["SocketPath"] = _apache.SocketPath,
                    ["SocketGroup"] = ApacheFixture.RunGroup,
                },
                ["Correlation"] = new JsonObject { ["Enabled"] = true },
                ["Storage"] = new JsonObject
                {
                    ["Enabled"] = true,
                    ["DataPath"] = Path.Combine(_dir, "data"),
                    ["SpillPath"] = Path.Combine(_dir, "spill"),
                    ["AdminSocketPath"] = Path.Combine(_dir, "admin.sock"),
                    ["AdminSocketGroup"] = "",
                    ["BatchAge"] = "00:00:00.200",
                },
            },
            ["Operations"] = new JsonObject { ["Urls"] = $"http://127.0.0.1:{opsPort}" },
        };
        _config = Path.Combine(_dir, "config.json");
        await File.WriteAllTextAsync(_config, config.ToJsonString());
        _daemon = StartJa4("run", "--config", _config);
        _daemonErrors = _daemon.StandardError.ReadToEndAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        for (var i = 0; i < 240; i++)
        {
            try
            {
                if ((await http.GetStringAsync($"http://127.0.0.1:{opsPort}/readyz")).Contains("Healthy"))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (_daemon.HasExited)
            {
                Assert.Fail("the daemon exited: " + await _daemonErrors);
            }
            await Task.Delay(250);
        }
        Assert.Fail("the daemon did not become ready");
    }

    [Fact]
    public async Task Every_https_request_is_stored_with_the_ja4_of_its_connection()
    {
        var apache = _apache!;
        var pcap = Path.Combine(_dir, "lo.pcap");
        using var tcpdump = Process.Start(new ProcessStartInfo("tcpdump",
            ["-i", "lo", "-U", "-w", pcap, "-s", "0", $"tcp port {apache.HttpsPort}"]) { RedirectStandardError = true })!;
        // tcpdump captures once it has printed its banner ("listening on lo, ..."): wait for it, then a moment more.
        var banner = Task.Run(async () =>
        {
            while (await tcpdump.StandardError.ReadLineAsync() is { } line)
            {
                if (line.Contains("listening on", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            return false;
        });
        Assert.True(await banner.WaitAsync(TimeSpan.FromSeconds(60)), "tcpdump did not start listening");
        _ = tcpdump.StandardError.ReadToEndAsync(); // keep draining what it prints at exit
        await Task.Delay(300);

        var https = apache.HttpsUrl("/index.html").ToString();
        var http = apache.HttpUrl("/index.html").ToString();
        await Run("curl", "-sk", "--http1.1", "-o", "/dev/null", "-o", "/dev/null", https + "?c=h1a", https + "?c=h1b");
        await Run("curl", "-sk", "--http2", "-o", "/dev/null", https + "?c=h2");
        await Run("/usr/bin/python3", "-c",
            "import ssl,sys,urllib.request;c=ssl.create_default_context();c.check_hostname=False;c.verify_mode=ssl.CERT_NONE;" +
            "urllib.request.urlopen(sys.argv[1],context=c).read()", https + "?c=py");
        await Run("sh", "-c",
            $"printf 'GET /index.html?c=openssl HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' | " +
            $"openssl s_client -quiet -connect 127.0.0.1:{apache.HttpsPort} -servername localhost 2>/dev/null");
        await Run("curl", "-s", "-o", "/dev/null", http + "?c=plain");

        // Wait until the six requests are stored.
        var rows = new List<JsonElement>();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (rows.Count < 6 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            var (code, output, error) = await RunJa4("sql", "--config", _config, "--format", "jsonl",
                "SELECT path, query, client_port, toString(match_status) AS status, ja4, ja3 FROM ja4.http_logs ORDER BY time");
            Assert.True(code == 0, error);
            rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        }
        Process.Start("kill", ["-INT", tcpdump.Id.ToString()]).WaitForExit();
        await tcpdump.WaitForExitAsync();
        if (rows.Count != 6)
        {
            using var ops = new HttpClient();
            var metrics = await ops.GetStringAsync(_opsUrl + "/metrics");
            Assert.Fail($"stored {rows.Count} of 6 requests: {string.Join("\n", rows)}\n" +
                        string.Join("\n", metrics.Split('\n').Where(l => l.StartsWith("ja4_", StringComparison.Ordinal))));
        }

        // The fingerprints of the same connections, computed offline from the simultaneous capture.
        var (fpCode, fpOut, fpErr) = await RunJa4("fingerprint", pcap);
        Assert.True(fpCode == 0, fpErr);
        var byPort = fpOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(e => e.GetProperty("src_port").GetInt32(), e => e.GetProperty("ja4").GetString());
        Assert.Equal(4, byPort.Count); // curl HTTP/1.1 (both requests on one connection), curl HTTP/2, python, openssl

        foreach (var row in rows)
        {
            var query = row.GetProperty("query").GetString();
            if (query == "c=plain")
            {
                Assert.Equal("plain_http", row.GetProperty("status").GetString());
                Assert.Equal("", row.GetProperty("ja4").GetString());
                continue;
            }
            Assert.True(row.GetProperty("status").GetString() == "matched", $"{query}: {row}");
            var port = row.GetProperty("client_port").GetInt32();
            Assert.Equal(byPort[port], row.GetProperty("ja4").GetString());
        }
        // Both keep-alive requests rode the same connection and got the same fingerprint.
        var h1 = rows.Where(r => r.GetProperty("query").GetString()!.StartsWith("c=h1", StringComparison.Ordinal)).ToArray();
        Assert.Equal(h1[0].GetProperty("client_port").GetInt32(), h1[1].GetProperty("client_port").GetInt32());
    }

    private static Process StartJa4(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ja4.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["JA4_Logging__Console__Format"] = "none";
        return Process.Start(psi)!;
    }

    private static Task<(int Code, string Out, string Err)> RunJa4(params string[] args) => ReplayTests.RunJa4(args);

    private static async Task Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} failed: {await err}");
    }

    public async Task DisposeAsync()
    {
        if (_daemon is { HasExited: false })
        {
            Process.Start("kill", ["-TERM", _daemon.Id.ToString()]).WaitForExit();
            await _daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        _daemon?.Dispose();
        if (_apache is not null)
        {
            await _apache.DisposeAsync();
        }
        Directory.Delete(_dir, recursive: true);
    }
}
