using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Ja4.Modules.HttpIngest;
using Ja4.Tests.HttpIngest;
using Xunit.Abstractions;

namespace Ja4.Tests.EndToEnd;

/// <summary>
/// Apache keeps serving at full speed whatever happens to the daemon: stopped, hung, restarted.
/// Each test owns its Apache and its listener.
/// </summary>
[Collection("Apache")]
[SupportedOSPlatform("linux")]
public sealed class ApacheFailureTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Generous: a request on loopback takes well under a millisecond; a blocked one would take seconds.</summary>
    private static readonly TimeSpan MedianBound = TimeSpan.FromMilliseconds(50);

    private string _root = "";
    private string _socket = "";

    public Task InitializeAsync()
    {
        _root = Directory.CreateTempSubdirectory("ja4-ingest-").FullName;
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);
        _socket = Path.Combine(_root, "run", "reqin.sock");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Daemon_stopped_apache_serves_as_fast_counts_drops_and_records_flow_again_after_restart()
    {
        await using var ingest = await IngestHarness.StartAsync(_socket);
        await using var apache = await ApacheFixture.StartAsync(new ApacheOptions { SocketPath = _socket, Tls = false });
        var pid = apache.Pid;

        var up = await TimeRequestsAsync(apache.HttpPort, connections: 4, perConnection: 50, tag: "up");
        await ingest.WaitForAsync(r => r.Query?.StartsWith("tag=up", StringComparison.Ordinal) == true, 200);

        await ingest.StopAsync();
        Assert.False(File.Exists(_socket));   // the daemon removes its socket on the way out
        await Task.Delay(300);   // batches of the "up" requests are out
        var droppedBefore = await apache.ReadCounterAsync("ReqinLogDropped");
        var down = await TimeRequestsAsync(apache.HttpPort, connections: 4, perConnection: 50, tag: "down");
        await Task.Delay(300);   // and so are those of the "down" requests (dropped)

        output.WriteLine($"daemon up: median {up.Median.TotalMilliseconds:0.###} ms, max {up.Max.TotalMilliseconds:0.###} ms; " +
                         $"stopped: median {down.Median.TotalMilliseconds:0.###} ms, max {down.Max.TotalMilliseconds:0.###} ms");
        Assert.Equal(200, down.Statuses.Count(s => s == 200));
        Assert.True(down.Median < MedianBound, $"median {down.Median.TotalMilliseconds} ms with the daemon stopped (up: {up.Median.TotalMilliseconds} ms)");
        Assert.True(down.Max < TimeSpan.FromSeconds(2), $"slowest request {down.Max.TotalMilliseconds} ms with the daemon stopped");
        var dropped = await apache.ReadCounterAsync("ReqinLogDropped") - droppedBefore;
        Assert.True(dropped >= 200, $"mod_status counted {dropped} drops for 200 requests");
        Assert.True(await apache.ReadCounterAsync("ReqinLogDroppedUnavailable") >= 200);
        Assert.Contains("mod_reqin_log: cannot connect to " + _socket, apache.ReadErrorLog(), StringComparison.Ordinal);

        // The daemon comes back: records flow again, Apache was not restarted.
        ingest.Clear();
        await ingest.StartAsync();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        var arrived = false;
        for (var i = 0; !arrived && DateTime.UtcNow < deadline; i++)
        {
            using var http = new HttpClient();
            await http.GetAsync(apache.HttpUrl($"/index.html?tag=back&i={i}"));
            await Task.Delay(100);
            arrived = ingest.Received.Any(r => r.Query?.StartsWith("tag=back", StringComparison.Ordinal) == true);
        }
        Assert.True(arrived, "no record arrived within 15 s of the daemon's restart");
        Assert.Equal(pid, apache.Pid);
        Assert.True(Directory.Exists($"/proc/{pid}"));
        // Every request after the reconnection arrives again.
        var after = await TimeRequestsAsync(apache.HttpPort, connections: 2, perConnection: 25, tag: "after");
        Assert.All(after.Statuses, s => Assert.Equal(200, s));
        await ingest.WaitForAsync(r => r.Query?.StartsWith("tag=after", StringComparison.Ordinal) == true, 50);
        // The counter line in the error log (ReqinLogStatsInterval 1) reports the outage's drops.
        var line = await WaitForErrorLogLineAsync(apache, "mod_reqin_log: records sent", l => DroppedIn(l) >= 200);
        Assert.Matches(@"dropped [0-9]+ \(unavailable [0-9]+, full 0, error [0-9]+, too_big 0\)", line);
    }

    /// <summary>The counter line is written on the request path at most once per interval: keep requesting.</summary>
    private static long DroppedIn(string line)
    {
        var m = System.Text.RegularExpressions.Regex.Match(line, @"dropped ([0-9]+)");
        return m.Success ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }

    private static async Task<string> WaitForErrorLogLineAsync(ApacheFixture apache, string text, Func<string, bool> accept)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var line = apache.ReadErrorLog().Split('\n').LastOrDefault(l => l.Contains(text, StringComparison.Ordinal) && accept(l));
            if (line is not null)
            {
                return line;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no '{text}' in the error log:\n{apache.ReadErrorLog()}");
            await Task.Delay(300);
            await http.GetAsync(apache.HttpUrl("/index.html?tag=stats"));
        }
    }

    [Fact]
    public async Task Daemon_hung_apache_serves_as_fast_and_counts_full_socket_drops()
    {
        // A "daemon" that accepts connections and never reads: the socket buffer fills up.
        var bound = UnixSocketFile.Bind(_socket, "www-data", (UnixFileMode)0b110_110_000, backlog: 64);
        var accepted = new List<Socket>();
        using var cts = new CancellationTokenSource();
        var acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var s = await bound.Socket.AcceptAsync(cts.Token);
                    lock (accepted)
                    {
                        accepted.Add(s);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await using var apache = await ApacheFixture.StartAsync(new ApacheOptions { SocketPath = _socket, Tls = false });

        // 3,000 requests fill the default socket buffers several times over; with a host's
        // net.core.wmem_max raised, keep going until the module reports a full socket.
        long full = 0, sent = 0;
        var served = 0;
        for (var round = 0; round < 10 && full == 0; round++)
        {
            var timing = await TimeRequestsAsync(apache.HttpPort, connections: 4, perConnection: 750, tag: "hung");
            output.WriteLine($"hung daemon: median {timing.Median.TotalMilliseconds:0.###} ms, max {timing.Max.TotalMilliseconds:0.###} ms");
            Assert.Equal(3000, timing.Statuses.Count(s => s == 200));
            Assert.True(timing.Median < MedianBound, $"median {timing.Median.TotalMilliseconds} ms with a hung daemon");
            served += 3000;
            await Task.Delay(300);   // the last batch is sent (or dropped) within ReqinLogFlushInterval
            full = await apache.ReadCounterAsync("ReqinLogDroppedFull");
            sent = await apache.ReadCounterAsync("ReqinLogSent");
        }
        output.WriteLine($"hung daemon: sent {sent}, dropped (socket full) {full}");
        Assert.True(full > 0, "no request was dropped although nobody reads the socket");
        Assert.True(sent + full >= served, $"sent {sent} + full {full} < {served}");

        // The hung daemon is replaced by a real one: Apache notices the broken connections and
        // delivers to the new listener.
        await cts.CancelAsync();
        await acceptLoop;
        lock (accepted)
        {
            accepted.ForEach(s => s.Dispose());
        }
        bound.Socket.Dispose();
        UnixSocketFile.Remove(_socket);
        await using var ingest = await IngestHarness.StartAsync(_socket);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        for (var i = 0; DateTime.UtcNow < deadline && !ingest.Received.Any(); i++)
        {
            await TimeRequestsAsync(apache.HttpPort, connections: 2, perConnection: 5, tag: "recovered");
            await Task.Delay(100);
        }
        Assert.Contains(ingest.Received, r => r.Query?.StartsWith("tag=recovered", StringComparison.Ordinal) == true);
    }

    [Theory]
    [InlineData("prefork", 50)]
    [InlineData("prefork", 0)]
    [InlineData("worker", 50)]
    [InlineData("event", 50)]
    [InlineData("event", 0)]
    public async Task Every_mpm_delivers_every_record_from_concurrent_connections(string mpm, int flushMs)
    {
        await using var ingest = await IngestHarness.StartAsync(_socket);
        await using var apache = await ApacheFixture.StartAsync(new ApacheOptions
        {
            SocketPath = _socket,
            Mpm = mpm,
            Tls = false,
            ServerDirectives = $"ReqinLogFlushInterval {flushMs}",
        });
        var tag = $"{mpm}-{Guid.NewGuid():N}"[..20];
        var ports = new int[8];
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async c =>
        {
            await using var conn = await RawHttpConnection.OpenAsync(apache.HttpPort);
            ports[c] = conn.LocalPort;
            for (var i = 0; i < 10; i++)
            {
                var resp = await conn.SendAsync(RawHttpConnection.Request("GET", $"/index.html?tag={tag}&c={c}&i={i}",
                    ["Host: localhost", "User-Agent: mpm-test"]));
                Assert.Equal(200, resp.Status);
            }
        }));

        var records = await ingest.WaitForAsync(r => r.Query?.StartsWith($"tag={tag}", StringComparison.Ordinal) == true, 80);
        Assert.Equal(80, records.Count);
        for (var c = 0; c < 8; c++)
        {
            var mine = records.Where(r => r.Query!.Contains($"&c={c}&", StringComparison.Ordinal)).ToList();
            Assert.Equal(10, mine.Count);
            Assert.All(mine, r => Assert.Equal(ports[c], r.Flow.ClientPort));
            Assert.Equal(Enumerable.Range(0, 10), mine.Select(r => r.KeepAliveIndex).Order());
        }
        Assert.Equal(0, await apache.ReadCounterAsync("ReqinLogDropped"));
    }

    [Theory]
    [InlineData("ReqinLog Maybe", "ReqinLog must be On or Off")]
    [InlineData("ReqinLogQueryString 1", "ReqinLogQueryString must be On or Off")]
    [InlineData("ReqinLogSocket relative/reqin.sock", "is not an absolute path")]
    [InlineData("ReqinLogSocket /run/ja4/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock", "longer than a UNIX socket path can be")]
    [InlineData("ReqinLogMaxRecordBytes 100", "between 4096 and 262144")]
    [InlineData("ReqinLogMaxRecordBytes 1000000", "between 4096 and 262144")]
    [InlineData("ReqinLogMaxRecordBytes lots", "is not a whole number")]
    [InlineData("ReqinLogRedactHeaders Cookie Bad(Name", "'Bad(Name' is not a valid header name")]
    [InlineData("ReqinLogStatsInterval -1", "between 0 and 86400")]
    [InlineData("<VirtualHost 127.0.0.1:1>\nReqinLogStatsInterval 5\n</VirtualHost>", "cannot occur within <VirtualHost> section")]
    [InlineData("ReqinLogFlushInterval 5000", "between 0 and 1000")]
    [InlineData("<VirtualHost 127.0.0.1:1>\nReqinLogFlushInterval 5\n</VirtualHost>", "cannot occur within <VirtualHost> section")]
    public async Task A_bad_directive_fails_configtest_with_a_clear_message(string directive, string message)
    {
        var (code, output) = await ApacheFixture.ConfigTestAsync(directive);
        Assert.NotEqual(0, code);
        Assert.Contains(message, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_directive_is_accepted_server_wide_and_per_virtual_host()
    {
        const string directives = """
            ReqinLog On
            ReqinLogSocket /run/ja4/reqin.sock
            ReqinLogQueryString Off
            ReqinLogRedactHeaders Cookie Authorization X-Api-Key
            ReqinLogMaxRecordBytes 131072
            """;
        var (code, output) = await ApacheFixture.ConfigTestAsync(
            directives + "\nReqinLogStatsInterval 30\nReqinLogFlushInterval 20\n<VirtualHost 127.0.0.1:1>\n" + directives.Replace("Off", "On", StringComparison.Ordinal)
            + "\nReqinLogRedactHeaders None\n</VirtualHost>\n");
        Assert.True(code == 0, output);
        Assert.Contains("Syntax OK", output, StringComparison.Ordinal);
    }

    private sealed record Timing(IReadOnlyList<int> Statuses, TimeSpan Median, TimeSpan Max);

    /// <summary>Sequential keep-alive requests on parallel connections, each one timed.</summary>
    private static async Task<Timing> TimeRequestsAsync(int port, int connections, int perConnection, string tag)
    {
        var statuses = new List<int>();
        var times = new List<TimeSpan>();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            await using var conn = await RawHttpConnection.OpenAsync(port);
            for (var i = 0; i < perConnection; i++)
            {
                var sw = Stopwatch.StartNew();
                var resp = await conn.SendAsync(RawHttpConnection.Request("GET", $"/index.html?tag={tag}&c={c}&i={i}",
                    ["Host: localhost", "User-Agent: latency-test"]));
                sw.Stop();
                lock (statuses)
                {
                    statuses.Add(resp.Status);
                    times.Add(sw.Elapsed);
                }
            }
        }));
        times.Sort();
        return new Timing(statuses, times[times.Count / 2], times[^1]);
    }
}
