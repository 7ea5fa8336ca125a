using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Detection.Alerts;
using Ja4.Tests.EndToEnd;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ja4.Tests.Detection;

/// <summary>The alert sinks against real local receivers: an HTTP listener, UDP, TCP and UNIX sockets.</summary>
public sealed class AlertSinkTests
{
    private static readonly DateTimeOffset At = new(2026, 5, 4, 9, 5, 0, TimeSpan.Zero);

    private static Anomaly Sample(string ip = "198.51.100.23") => new(At, At.AddHours(-1), At, ip,
        "t13d311100_e8f1e7e78f70_d41ae481755e", "shop.example.com", 57, 0.6612, 0.9123, ThreatLevel.High, "python-requests",
        ["ua-browser-on-library-ja4"], ["no_cookie_ratio"], "[ua-browser-on-library-ja4] Chrome \"131\" on python]", "cmp-0a1b2c3d4e", false);

    /// <summary>An HTTP endpoint that answers each POST with the next status of a script and keeps what it got.</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public Receiver(params int[] statuses)
        {
            var port = DaemonInstance.FreePort();
            Url = $"http://127.0.0.1:{port}/hook/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                for (var i = 0; ; i++)
                {
                    HttpListenerContext ctx;
                    try
                    {
                        ctx = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }
                    using var body = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
                    Requests.Add((await body.ReadToEndAsync(), ctx.Request.ContentType ?? "", ctx.Request.Headers["Authorization"] ?? ""));
                    ctx.Response.StatusCode = statuses[Math.Min(i, statuses.Length - 1)];
                    ctx.Response.Close();
                }
            });
        }

        public string Url { get; }
        public List<(string Body, string ContentType, string Authorization)> Requests { get; } = [];

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(10));
        }
    }

    private static WebhookAlertOptions Webhook(string url) => new()
    {
        Enabled = true, Url = url, MaxAttempts = 3, RetryDelay = TimeSpan.FromMilliseconds(10), MaxRetryDelay = TimeSpan.FromMilliseconds(20),
        Headers = new Dictionary<string, string> { ["Authorization"] = "Bearer s3cret" },
    };

    [Fact]
    public async Task Webhook_posts_the_anomaly_as_json_and_retries_a_server_error()
    {
        using var receiver = new Receiver(503, 200);
        using var sink = new WebhookAlertSink(Webhook(receiver.Url), TimeProvider.System, NullLogger.Instance);
        Assert.True(await sink.SendAsync(Sample(), CancellationToken.None));
        Assert.Equal(2, receiver.Requests.Count);
        var (body, type, auth) = receiver.Requests[1];
        Assert.Equal("application/json; charset=utf-8", type);
        Assert.Equal("Bearer s3cret", auth);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal("ja4.anomaly", json.GetProperty("type").GetString());
        Assert.Equal("198.51.100.23", json.GetProperty("client_ip").GetString());
        Assert.Equal("t13d311100_e8f1e7e78f70_d41ae481755e", json.GetProperty("ja4").GetString());
        Assert.Equal("high", json.GetProperty("threat_level").GetString());
        Assert.Equal(0.9123, json.GetProperty("risk").GetDouble());
        Assert.Equal(57, json.GetProperty("requests").GetInt32());
        Assert.Equal("2026-05-04T09:05:00Z", json.GetProperty("detected_at").GetString());
        Assert.Equal(["ua-browser-on-library-ja4"], json.GetProperty("rule_ids").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("cmp-0a1b2c3d4e", json.GetProperty("campaign_id").GetString());
        Assert.Equal(body, receiver.Requests[0].Body);
    }

    [Fact]
    public async Task Webhook_gives_up_after_its_attempts_and_does_not_retry_a_client_error()
    {
        using (var failing = new Receiver(500))
        using (var sink = new WebhookAlertSink(Webhook(failing.Url), TimeProvider.System, NullLogger.Instance))
        {
            Assert.False(await sink.SendAsync(Sample(), CancellationToken.None));
            Assert.Equal(3, failing.Requests.Count);
        }
        using var refusing = new Receiver(400);
        using var sink2 = new WebhookAlertSink(Webhook(refusing.Url), TimeProvider.System, NullLogger.Instance);
        Assert.False(await sink2.SendAsync(Sample(), CancellationToken.None));
        Assert.Single(refusing.Requests);
    }

    [Fact]
    public async Task Webhook_to_a_closed_port_fails_cleanly()
    {
        using var sink = new WebhookAlertSink(Webhook($"http://127.0.0.1:{DaemonInstance.FreePort()}/x"), TimeProvider.System, NullLogger.Instance);
        Assert.False(await sink.SendAsync(Sample(), CancellationToken.None));
    }

    private static string Expected(string host) =>
        // PRI = facility 10 (authpriv) × 8 + severity 3 (error, for High) = 83.
        $"<83>1 2026-05-04T09:05:00.000000Z {host} ja4 {Environment.ProcessId} anomaly [ja4@32473 client_ip=\"198.51.100.23\" " +
        "ja4=\"t13d311100_e8f1e7e78f70_d41ae481755e\" host=\"shop.example.com\" level=\"high\" risk=\"0.912\" requests=\"57\" " +
        "bot=\"python-requests\" rules=\"ua-browser-on-library-ja4\" campaign=\"cmp-0a1b2c3d4e\" returning=\"false\"] " +
        "[ua-browser-on-library-ja4] Chrome \"131\" on python]";

    [Fact]
    public async Task Syslog_over_udp_sends_one_rfc5424_datagram()
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)server.Client.LocalEndPoint!).Port;
        using var sink = new SyslogAlertSink(new SyslogAlertOptions { Enabled = true, Port = port }, NullLogger.Instance);
        Assert.True(await sink.SendAsync(Sample(), CancellationToken.None));
        var got = await server.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Expected(Dns.GetHostName()), Encoding.UTF8.GetString(got.Buffer));
    }

    [Fact]
    public async Task Syslog_over_tcp_frames_messages_by_octet_count()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            using var sink = new SyslogAlertSink(new SyslogAlertOptions { Enabled = true, Transport = SyslogTransport.Tcp, Port = port },
                NullLogger.Instance);
            Assert.True(await sink.SendAsync(Sample(), CancellationToken.None));
            Assert.True(await sink.SendAsync(Sample("203.0.113.5"), CancellationToken.None));
            using var client = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(30));
            var stream = client.GetStream();
            var first = await ReadFrameAsync(stream);
            var second = await ReadFrameAsync(stream);
            Assert.Equal(Expected(Dns.GetHostName()), first);
            Assert.Contains("client_ip=\"203.0.113.5\"", second);
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task<string> ReadFrameAsync(Stream stream)
    {
        var digits = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            await stream.ReadExactlyAsync(one).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            if (one[0] == (byte)' ')
            {
                break;
            }
            digits.Append((char)one[0]);
        }
        var frame = new byte[int.Parse(digits.ToString(), System.Globalization.CultureInfo.InvariantCulture)];
        await stream.ReadExactlyAsync(frame).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return Encoding.UTF8.GetString(frame);
    }

    [Fact]
    public async Task Syslog_over_a_unix_socket_and_a_missing_socket_counts_a_failure()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ja4-syslog-{Guid.NewGuid():N}.sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            using var sink = new SyslogAlertSink(new SyslogAlertOptions { Enabled = true, Transport = SyslogTransport.Unix, SocketPath = path },
                NullLogger.Instance);
            Assert.True(await sink.SendAsync(Sample(), CancellationToken.None));
            var buffer = new byte[4096];
            var n = await server.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Expected(Dns.GetHostName()), Encoding.UTF8.GetString(buffer, 0, n));
        }
        finally
        {
            File.Delete(path);
        }
        using var missing = new SyslogAlertSink(new SyslogAlertOptions { Enabled = true, Transport = SyslogTransport.Unix, SocketPath = path },
            NullLogger.Instance);
        Assert.False(await missing.SendAsync(Sample(), CancellationToken.None));
    }

    [Fact]
    public async Task The_anomaly_channel_feeds_the_sinks_and_counts_what_it_drops_when_full()
    {
        var metrics = new Ja4Metrics();
        var options = new PipelineOptions();
        options.Channels["Anomalies"] = new ChannelOptions { Capacity = 16 };
        var pipeline = new EventPipeline(new HashSet<string> { ModuleNames.Detection }, options, metrics);
        var outlet = pipeline.Outlet<Anomaly>(ModuleNames.Detection);
        Assert.True(outlet.HasConsumers);
        for (var i = 0; i < 20; i++)
        {
            outlet.TryPublish(Sample($"198.51.100.{i + 1}"));
        }
        Assert.Equal(4, metrics.Read("ja4_channel_dropped_total", ("channel", "Anomalies")));

        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)server.Client.LocalEndPoint!).Port;
        var sink = new SyslogAlertSink(new SyslogAlertOptions { Enabled = true, Port = port }, NullLogger.Instance);
        using var worker = new AlertWorker(pipeline, [sink], metrics);
        await worker.StartAsync(CancellationToken.None);
        try
        {
            var seen = new HashSet<string>();
            while (seen.Count < 16)
            {
                var got = await server.ReceiveAsync().WaitAsync(TimeSpan.FromSeconds(30));
                seen.Add(Encoding.UTF8.GetString(got.Buffer).Split("client_ip=\"")[1].Split('"')[0]);
            }
            Assert.Equal(Enumerable.Range(1, 16).Select(i => $"198.51.100.{i}").ToHashSet(), seen);
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
        Assert.Equal(16, metrics.Read("ja4_detection_alerts_sent_total", ("sink", "syslog")));
    }
}
