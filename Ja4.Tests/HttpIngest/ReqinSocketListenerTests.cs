using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using Ja4.Modules.Core.Events;
using Ja4.Modules.HttpIngest;
using Ja4.Tests.EndToEnd;
using Microsoft.Extensions.Logging;

namespace Ja4.Tests.HttpIngest;

[SupportedOSPlatform("linux")]
public sealed class ReqinSocketListenerTests : IDisposable
{
    private readonly string _root;

    public ReqinSocketListenerTests()
    {
        _root = Directory.CreateTempSubdirectory("ja4-listener-").FullName;
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string SocketIn(string dir = "run") => Path.Combine(_root, dir, "reqin.sock");

    internal static byte[] ValidRecord(string id, int port = 40000) => Encoding.UTF8.GetBytes(
        "{\"v\":1,\"time_us\":1700000000000000,\"client_ip\":\"192.0.2.7\",\"client_port\":" + port +
        ",\"server_ip\":\"198.51.100.1\",\"server_port\":443,\"method\":\"GET\",\"path\":\"/" + id +
        "\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"headers\":[[\"Host\",\"example.test\"]]}");

    private static Socket Connect(string path)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(path));
        return s;
    }

    [Fact]
    public async Task Creates_the_socket_for_the_apache_group_with_mode_0660_in_a_setgid_directory()
    {
        await using var h = await IngestHarness.StartAsync(SocketIn());
        Assert.True(UnixSocketFile.IsSocket(h.SocketPath));
        Assert.Equal((UnixFileMode)0b110_110_000, File.GetUnixFileMode(h.SocketPath));
        var (_, statOut) = await ApacheFixture.RunAsync("stat", ["-c", "%G %a", h.SocketPath, Path.GetDirectoryName(h.SocketPath)!], CancellationToken.None);
        Assert.Equal(["www-data 660", "www-data 2750"], statOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // What Apache does: a process of user www-data connects and sends.
        var (code, output) = await ApacheFixture.RunAsync("setpriv", ["--reuid=www-data", "--regid=www-data", "--clear-groups",
            "/usr/bin/python3", "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect(sys.argv[1]); s.send(sys.argv[2].encode())",
            h.SocketPath, Encoding.UTF8.GetString(ValidRecord("from-www-data"))], CancellationToken.None);
        Assert.True(code == 0, output);
        await h.WaitForAsync(r => r.Path == "/from-www-data");
    }

    [Fact]
    public async Task A_private_directory_of_ours_is_given_to_the_apache_group_and_an_open_one_is_left_alone()
    {
        // What systemd's RuntimeDirectory=ja4 with RuntimeDirectoryMode=2750 creates: ours, group ours.
        var privateDir = Path.Combine(_root, "private");
        Directory.CreateDirectory(privateDir);
        File.SetUnixFileMode(privateDir, (UnixFileMode)0b010_111_101_000);   // 2750
        var openDir = Path.Combine(_root, "open");
        Directory.CreateDirectory(openDir);
        File.SetUnixFileMode(openDir, (UnixFileMode)0b111_101_101);          // 0755

        await using (var h = await IngestHarness.StartAsync(SocketIn("private")))
        {
            var (_, stat) = await ApacheFixture.RunAsync("stat", ["-c", "%G %a", privateDir], CancellationToken.None);
            Assert.Equal("www-data 2750", stat.Trim());
        }
        await using (var h = await IngestHarness.StartAsync(SocketIn("open")))
        {
            var (_, stat) = await ApacheFixture.RunAsync("stat", ["-c", "%G %a", openDir, h.SocketPath], CancellationToken.None);
            Assert.Equal(["root 755", "www-data 660"], stat.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced_and_a_live_one_is_refused()
    {
        var path = SocketIn();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // A socket file nobody listens on any more: what a crashed daemon leaves (.NET would
        // remove its own on dispose, so another process makes it).
        var (code, output) = await ApacheFixture.RunAsync("/usr/bin/python3", ["-c",
            "import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1]); s.listen(1)", path],
            CancellationToken.None);
        Assert.True(code == 0, output);
        Assert.True(UnixSocketFile.IsSocket(path));

        await using var h = await IngestHarness.StartAsync(path);
        Assert.Contains(h.Log.Entries, e => e.Message.Contains("stale socket", StringComparison.Ordinal));
        using (var c = Connect(path))
        {
            c.Send(ValidRecord("after-stale"));
        }
        await h.WaitForAsync(r => r.Path == "/after-stale");

        // A second daemon on the same path: a clear error, and the first keeps its socket.
        var second = new IngestHarness(path);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync());
        Assert.Contains("another process is listening on " + path, e.Message, StringComparison.Ordinal);
        using (var c = Connect(path))
        {
            c.Send(ValidRecord("still-first"));
        }
        await h.WaitForAsync(r => r.Path == "/still-first");
    }

    [Fact]
    public async Task A_path_that_is_not_a_socket_is_left_alone()
    {
        var path = SocketIn();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, "precious");
        var h = new IngestHarness(path);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => h.StartAsync());
        Assert.Contains("exists and is not a socket", e.Message, StringComparison.Ordinal);
        Assert.Equal("precious", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Without_a_consumer_the_socket_is_not_opened()
    {
        var h = new IngestHarness(SocketIn());
        await h.StartAsync(withConsumer: false);
        Assert.False(h.IsListening);
        Assert.False(File.Exists(h.SocketPath));
        Assert.Contains(h.Log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("no module consumes", StringComparison.Ordinal));
        await h.StopAsync();
    }

    [Fact]
    public async Task Stopping_removes_the_socket_and_completes_the_channel()
    {
        var h = await IngestHarness.StartAsync(SocketIn());
        using var c = Connect(h.SocketPath);
        c.Send(ValidRecord("before-stop"));
        await h.WaitForAsync(r => r.Path == "/before-stop");
        await h.StopAsync();   // returns only once the channel is completed and drained
        Assert.False(File.Exists(h.SocketPath));
        Assert.Throws<SocketException>(() => Connect(h.SocketPath));
    }

    [Fact]
    public async Task A_flood_of_garbage_and_oversized_records_is_counted_and_valid_records_keep_flowing()
    {
        await using var h = await IngestHarness.StartAsync(SocketIn(), o => o.MaxRecordBytes = 65_536);
        var random = new Random(1234);
        var valid = 0;
        using (var flood = Connect(h.SocketPath))
        {
            flood.SendBufferSize = 4 * 1024 * 1024;
            for (var i = 0; i < 2000; i++)
            {
                byte[] message;
                switch (i % 8)
                {
                    case 0:
                        message = new byte[random.Next(1, 512)];
                        random.NextBytes(message);
                        message.AsSpan().Replace((byte)'\n', (byte)'x');   // one garbage record per message
                        break;
                    case 1:
                        message = new byte[65_537 + random.Next(0, 100_000)];   // oversized
                        Array.Fill(message, (byte)'{');
                        break;
                    case 2:
                        message = ValidRecord($"cut-{i}")[..random.Next(1, 100)];   // truncated JSON
                        break;
                    case 3:
                        message = "{\"v\":1,\"time_us\":1,\"method\":\"GET\"}"u8.ToArray();  // missing fields
                        break;
                    case 4:
                        message = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(ValidRecord($"port-{i}")).Replace("40000", "70000", StringComparison.Ordinal));
                        break;
                    case 5:
                        message = "[1,2,3]"u8.ToArray();
                        break;
                    default:
                        message = ValidRecord($"ok-{i}");
                        valid++;
                        break;
                }
                flood.Send(message);
            }
            // Valid records on another connection at the same time are not held up.
            using var other = Connect(h.SocketPath);
            other.Send(ValidRecord("other-connection"));
            await h.WaitForAsync(r => r.Path == "/other-connection");
        }

        await h.WaitForAsync(r => r.Path.StartsWith("/ok-", StringComparison.Ordinal), valid);
        Assert.Equal(valid, h.Received.Count(r => r.Path.StartsWith("/ok-", StringComparison.Ordinal)));
        Assert.Equal(250, h.Invalid("oversized"));
        Assert.Equal(250, h.Invalid("missing_field"));
        Assert.Equal(250, h.Invalid("bad_field"));
        Assert.Equal(750, h.Invalid("json"));         // random bytes, cut records, a JSON array
        Assert.Equal(1500, h.Counter("ja4_httpingest_invalid_total"));
        Assert.Equal(valid + 1, h.Counter("ja4_httpingest_records_total"));

        // The log is rate-limited: a handful of lines, each saying how many were not logged.
        var lines = h.Log.Entries.Where(e => e.Message.StartsWith("Invalid record", StringComparison.Ordinal)).ToList();
        Assert.InRange(lines.Count, 1, 20);

        // The reader is still there.
        using var again = Connect(h.SocketPath);
        again.Send(ValidRecord("after-flood"));
        await h.WaitForAsync(r => r.Path == "/after-flood");
    }

    [Fact]
    public async Task A_message_may_carry_several_records_separated_by_newlines()
    {
        await using var h = await IngestHarness.StartAsync(SocketIn());
        using var c = Connect(h.SocketPath);
        var batch = string.Join("\n", Enumerable.Range(0, 50).Select(i => Encoding.UTF8.GetString(ValidRecord($"batch-{i}"))));
        c.Send(Encoding.UTF8.GetBytes(batch + "\n\n{garbage\n" + Encoding.UTF8.GetString(ValidRecord("after-garbage"))));
        var records = await h.WaitForAsync(r => r.Path.StartsWith("/batch-", StringComparison.Ordinal), 50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"/batch-{i}"), records.Select(r => r.Path));
        await h.WaitForAsync(r => r.Path == "/after-garbage");
        Assert.Equal(1, h.Invalid("json"));
        Assert.Equal(51, h.Counter("ja4_httpingest_records_total"));
    }

    [Fact]
    public async Task Many_connections_deliver_in_parallel_and_the_limit_refuses_extra_ones()
    {
        await using var h = await IngestHarness.StartAsync(SocketIn(), o => o.MaxConnections = 16);
        var sockets = Enumerable.Range(0, 16).Select(_ => Connect(h.SocketPath)).ToList();
        try
        {
            await Task.WhenAll(sockets.Select((s, i) => Task.Run(() =>
            {
                for (var j = 0; j < 100; j++)
                {
                    s.Send(ValidRecord($"c{i}-{j}", 1000 + i));
                }
            })));
            await h.WaitForAsync(r => r.Path.StartsWith("/c", StringComparison.Ordinal), 1600);
            var deadline = Stopwatch.StartNew();
            while (h.Counter("ja4_httpingest_connections") < 16 && deadline.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(10);
            }
            using var extra = Connect(h.SocketPath);   // accepted by the kernel, closed by the daemon
            var buf = new byte[1];
            extra.ReceiveTimeout = 5000;
            Assert.Equal(0, extra.Receive(buf));
            Assert.Equal(1, h.Counter("ja4_httpingest_connections_rejected_total"));
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task A_full_channel_drops_and_counts_without_blocking_the_reader()
    {
        // Nobody reads the channel: capacity 16, then drops, and the socket reader keeps going.
        var h = new IngestHarness(SocketIn());
        await h.StartAsync(pump: false, capacity: 16);
        using (var c = Connect(h.SocketPath))
        {
            for (var i = 0; i < 500; i++)
            {
                c.Send(ValidRecord($"fill-{i}"));
            }
        }
        var deadline = Stopwatch.StartNew();
        while (h.Counter("ja4_httpingest_records_total") < 500 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }
        Assert.Equal(500, h.Counter("ja4_httpingest_records_total"));
        Assert.Equal(484, h.Counter("ja4_channel_dropped_total", ("channel", "HttpRequests")));
        await h.StopAsync();
    }

    [Fact]
    public async Task Huge_records_fill_the_channel_by_size_not_by_count()
    {
        // Nobody reads; each record carries a 100,000-byte header value (~200 KB once decoded to UTF-16), so the
        // 2 MiB budget takes ten of them and the socket reader drops the rest, counted, without blocking.
        var h = new IngestHarness(SocketIn());
        await h.StartAsync(pump: false, maxMb: 2);
        var padding = new string('x', 100_000);
        using (var c = Connect(h.SocketPath))
        {
            for (var i = 0; i < 50; i++)
            {
                c.Send(Encoding.UTF8.GetBytes(
                    "{\"v\":1,\"time_us\":1700000000000000,\"client_ip\":\"192.0.2.7\",\"client_port\":40000" +
                    ",\"server_ip\":\"198.51.100.1\",\"server_port\":443,\"method\":\"GET\",\"path\":\"/big-" + i +
                    "\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"headers\":[[\"Host\",\"example.test\"],[\"X-Padding\",\"" + padding + "\"]]}"));
            }
        }
        var deadline = Stopwatch.StartNew();
        while (h.Counter("ja4_httpingest_records_total") < 50 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }
        Assert.Equal(50, h.Counter("ja4_httpingest_records_total"));
        Assert.Equal(40, h.Counter("ja4_channel_dropped_total", ("channel", "HttpRequests")));
        Assert.InRange(h.Counter("ja4_channel_bytes", ("channel", "HttpRequests")), 2_000_000, 2 << 20);
        await h.StopAsync();
    }
}
