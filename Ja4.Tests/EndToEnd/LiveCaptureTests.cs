using System.Diagnostics;
using System.Threading.Channels;
using Ja4.Modules.Capture;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using static Ja4.Tests.EndToEnd.LiveCaptureProcesses;

namespace Ja4.Tests.EndToEnd;

/// <summary>
/// Live capture on <c>lo</c> (the tests run as root) while real clients — curl, openssl s_client
/// and Python's ssl module — connect to a local <c>openssl s_server</c>. The worker's events are
/// compared with the offline path on a simultaneous tcpdump capture and with tshark's JA3 on it.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class LiveCaptureTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"ja4-live-{Guid.NewGuid():N}");
    private Process? _server;
    private int _port;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        var (code, _, err) = await Run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-keyout", Path.Combine(_dir, "key.pem"), "-out", Path.Combine(_dir, "cert.pem")]);
        Assert.True(code == 0, err);
        _port = FreeLoopbackPort();
        _server = Start("openssl", "s_server", "-accept", $"127.0.0.1:{_port}", "-cert", Path.Combine(_dir, "cert.pem"),
            "-key", Path.Combine(_dir, "key.pem"), "-www", "-quiet");
        await WaitForPort(_port, TimeSpan.FromSeconds(30));
    }

    public Task DisposeAsync()
    {
        Stop(_server);
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Worker_emits_the_fingerprints_of_real_clients_equal_to_offline_and_tshark()
    {
        var pcap = Path.Combine(_dir, "lo.pcap");
        var tcpdump = Start("tcpdump", "-i", "lo", "--immediate-mode", "-U", "-s", "0", "-w", pcap, $"tcp port {_port}");
        await WaitForLine(tcpdump.StandardError, "listening on", TimeSpan.FromSeconds(30));

        var metrics = new Ja4Metrics();
        var pipeline = new EventPipeline(new HashSet<string> { ModuleNames.Capture, ModuleNames.Correlation },
            new PipelineOptions(), metrics);
        var options = new CaptureOptions { Enabled = true, Interface = "lo", Filter = $"tcp port {_port}", StatsInterval = TimeSpan.FromSeconds(1) };
        using var services = new ServiceCollection().AddSingleton(pipeline).BuildServiceProvider();
        var worker = new CaptureWorker(Microsoft.Extensions.Options.Options.Create(options), services, metrics, TimeProvider.System,
            NullLogger<CaptureWorker>.Instance);
        await worker.StartAsync(CancellationToken.None);
        Assert.True(worker.IsCapturing);
        List<TlsClientHello> live;
        List<ConnectionClosed> closed;
        try
        {
            await RunClients();
            live = await ReadAtLeast(pipeline.Reader<TlsClientHello>(Edges.Handshakes)!, 3, TimeSpan.FromSeconds(60));
            closed = await ReadAtLeast(pipeline.Reader<ConnectionClosed>(Edges.Connections)!, 3, TimeSpan.FromSeconds(60));
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
            // Let tcpdump write every packet of the three connections before stopping it.
            await WaitForHellosInFile(pcap, 3, TimeSpan.FromSeconds(30));
            await Interrupt(tcpdump);
        }

        // Three clients, each with its own SNI (curl to an IP literal sends none).
        Assert.Equal(3, live.Count);
        Assert.Equal(new string?[] { null, "openssl.test", "python.test" }, live.Select(h => h.Sni).Order().ToArray());
        Assert.All(live, h =>
        {
            Assert.Equal(Transport.Tcp, h.Transport);
            Assert.Equal(_port, h.Flow.ServerPort);
            Assert.Equal("127.0.0.1", h.Flow.ClientIp.ToString());
            Assert.StartsWith("t1", h.Ja4);
        });
        Assert.True(live.Select(h => h.Flow.ClientPort).ToHashSet().SetEquals(closed.Select(c => c.Flow.ClientPort)));

        // The offline path on tcpdump's simultaneous capture computes the same fingerprints.
        using var reader = new CaptureFileReader(pcap);
        var offline = reader.ReadEvents().ToList();
        Assert.Equal(Describe(live), Describe(offline));

        // tshark's JA3 (TLS decoded on this port) equals ours, per client port.
        var (code, output, err) = await Run("tshark", ["-r", pcap, "-d", $"tcp.port=={_port},tls", "-Y", "tls.handshake.type==1",
            "-T", "fields", "-e", "tcp.srcport", "-e", "tls.handshake.ja3", "-e", "tls.handshake.ja3_full"]);
        Assert.True(code == 0, err);
        var tshark = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t'))
            .ToDictionary(f => int.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture), f => (f[1], f[2]));
        Assert.Equal(3, tshark.Count);
        foreach (var h in live)
        {
            Assert.Equal(tshark[h.Flow.ClientPort], (h.Ja3, h.Ja3Full));
        }
        Assert.True(worker.Counters.Packets.Value > 0);
        // libpcap's statistics are published as gauges (read at every interval and at stop).
        Assert.True(metrics.Read("ja4_capture_pcap_received") >= worker.Counters.Packets.Value);
        Assert.Equal(0, metrics.Read("ja4_capture_pcap_kernel_dropped"));
        Assert.Equal(3, metrics.Read("ja4_capture_hellos_total", ("transport", "tcp")));
        Assert.Equal(3, metrics.Read("ja4_capture_connections_closed_total", ("reason", "fin"))
            + metrics.Read("ja4_capture_connections_closed_total", ("reason", "rst")));
    }

    private async Task RunClients()
    {
        var url = $"https://127.0.0.1:{_port}/";
        var (c1, _, e1) = await Run("curl", ["-sk", "--max-time", "30", "-o", "/dev/null", url]);
        Assert.True(c1 == 0, "curl: " + e1);
        var (c2, _, e2) = await Run("openssl", ["s_client", "-connect", $"127.0.0.1:{_port}", "-servername", "openssl.test"]);
        Assert.True(c2 == 0, "openssl s_client: " + e2);
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var script = "import socket,ssl,sys\n" +
                     "c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE\n" +
                     $"s=c.wrap_socket(socket.create_connection(('127.0.0.1',{_port})),server_hostname='python.test')\n" +
                     "s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); s.recv(100); s.close()\n";
        var (c3, _, e3) = await Run(python, ["-c", script]);
        Assert.True(c3 == 0, "python: " + e3);
    }

    private static List<string> Describe(IEnumerable<TlsClientHello> hellos) =>
        hellos.Select(h => $"{h.Flow} {h.Sni} {h.TlsVersion} {h.Ja4} {h.Ja4R} {h.Ja4O} {h.Ja4Ro} {h.Ja3} {h.Ja3Full}").Order().ToList();

    private static async Task<List<T>> ReadAtLeast<T>(ChannelReader<T> reader, int count, TimeSpan timeout)
    {
        var list = new List<T>();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (list.Count < count)
            {
                list.Add(await reader.ReadAsync(cts.Token));
            }
        }
        catch (OperationCanceledException)
        {
        }
        // Anything else already queued (there should be nothing more).
        while (reader.TryRead(out var extra))
        {
            list.Add(extra);
        }
        return list;
    }

    private static async Task WaitForHellosInFile(string pcap, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var reader = new CaptureFileReader(pcap);
                if (reader.ReadHellos().Count() >= count)
                {
                    return;
                }
            }
            catch (CaptureFileException)
            {
                // The last record is being written.
            }
            await Task.Delay(200);
        }
    }

    private static async Task WaitForLine(StreamReader stream, string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (await stream.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.Contains(text, StringComparison.Ordinal))
            {
                return;
            }
        }
    }
}
