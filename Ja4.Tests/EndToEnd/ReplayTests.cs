using System.Text.Json;
using Ja4.Host;
using Ja4.Modules.Capture;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.EndToEnd;

/// <summary>
/// <c>ja4 replay</c> on a corpus capture and a hand-written record file: the request on the
/// hello's connection gets the reference JA4, the others go out with their reasons.
/// </summary>
[Collection(ConsoleCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ReplayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-replay-").FullName;

    private static string Record(long timeUs, string clientIp, int clientPort, string serverIp, int serverPort, string path,
        bool tls, int keepAliveIndex = 0) =>
        $$"""{"v":1,"time_us":{{timeUs}},"client_ip":"{{clientIp}}","client_port":{{clientPort}},"server_ip":"{{serverIp}}","server_port":{{serverPort}},"vhost":"contile.services.mozilla.com","method":"GET","path":"{{path}}","protocol":"HTTP/1.1","host":"contile.services.mozilla.com","status":200,"bytes_sent":10,"duration_us":500,"conn_id":1,"keepalive_index":{{keepAliveIndex}},{{(tls ? "\"tls_protocol\":\"TLSv1.3\",\"tls_cipher\":\"TLS_AES_128_GCM_SHA256\",\"tls_sni\":\"contile.services.mozilla.com\"," : "")}}"headers":[["Host","contile.services.mozilla.com"],["User-Agent","Mozilla/5.0 <script>"]]}""";

    [Fact]
    public async Task Replay_joins_recorded_requests_to_the_recorded_handshake()
    {
        var pcap = Path.Combine(Corpus.FoxioPcapDir, "tls12.pcap");
        var expected = Corpus.Expected("tls12.pcap")[0];
        DateTimeOffset helloTime;
        using (var reader = new CaptureFileReader(pcap))
        {
            helloTime = reader.ReadEvents().Single().Timestamp;
        }
        var t0 = helloTime.ToUnixTimeMilliseconds() * 1000;
        var src = expected.GetProperty("src").GetString()!;
        var dst = expected.GetProperty("dst").GetString()!;
        var port = expected.GetProperty("src_port").GetInt32();
        // Written in log order (by end time): the later request first, as Apache may log it.
        var http = Path.Combine(_dir, "requests.jsonl");
        await File.WriteAllLinesAsync(http,
        [
            Record(t0 + 200_000, src, port, dst, 443, "/second", tls: true, keepAliveIndex: 1),
            Record(t0 + 100_000, src, port, dst, 443, "/first", tls: true),
            "this line is not JSON",
            Record(t0 + 150_000, src, port + 1, dst, 443, "/other-connection", tls: true),
            Record(t0 + 160_000, src, port + 2, dst, 80, "/plain", tls: false),
        ]);
        var config = Path.Combine(_dir, "config.json");
        await File.WriteAllTextAsync(config, """{ "Modules": { "Storage": { "Enabled": false } } }""");

        var (code, stdout, stderr) = await RunJa4("replay", "--pcap", pcap, "--http", http, "--config", config, "--stdout");

        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var byPath = lines.ToDictionary(l => l.GetProperty("path").GetString()!);
        Assert.Equal(4, lines.Count);
        foreach (var p in new[] { "/first", "/second" })
        {
            Assert.Equal("matched", byPath[p].GetProperty("match_status").GetString());
            Assert.Equal(expected.GetProperty("ja4").GetString(), byPath[p].GetProperty("handshake").GetProperty("ja4").GetString());
            Assert.Equal(expected.GetProperty("ja3").GetString(), byPath[p].GetProperty("handshake").GetProperty("ja3").GetString());
        }
        Assert.Equal("no_handshake_seen", byPath["/other-connection"].GetProperty("match_status").GetString());
        Assert.Equal(JsonValueKind.Null, byPath["/other-connection"].GetProperty("handshake").ValueKind);
        Assert.Equal("plain_http", byPath["/plain"].GetProperty("match_status").GetString());
        Assert.Equal("Mozilla/5.0 <script>", byPath["/plain"].GetProperty("user_agent").GetString());
        Assert.Contains("replayed 1 handshakes, 4 requests (1 invalid lines)", stderr);
    }

    [Fact]
    public async Task Replay_of_a_missing_file_fails_with_one_line()
    {
        var (code, _, stderr) = await ConsoleCapture.RunAsync(() =>
            Cli.RunAsync(["replay", "--pcap", Path.Combine(_dir, "nope.pcap")]));
        Assert.Equal(1, code);
        Assert.Equal($"ja4 replay: {Path.Combine(_dir, "nope.pcap")}: no such file", stderr.TrimEnd());
    }

    [Fact]
    public async Task Replay_without_pcap_is_bad_usage()
    {
        var (code, _, stderr) = await ConsoleCapture.RunAsync(() => Cli.RunAsync(["replay", "--http", "x.jsonl"]));
        Assert.Equal(2, code);
        Assert.Contains("--pcap FILE is required", stderr);
    }

    /// <summary>Runs the built executable (ja4.dll beside the tests) as its own process.</summary>
    internal static async Task<(int Code, string Out, string Err)> RunJa4(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ja4.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = System.Diagnostics.Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (p.ExitCode, await o, await e);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
