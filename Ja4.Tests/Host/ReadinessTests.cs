using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ja4.Host;
using Ja4.Tests.EndToEnd;
using Ja4.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Ja4.Tests.Host;

/// <summary>The detection part of <c>/readyz</c>: was the latest run a failure?</summary>
public sealed class DetectionRunTrackerTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Before_any_run_nothing_is_failing()
    {
        var tracker = new DetectionRunTracker();
        Assert.False(tracker.Observe(null, 0, T0, Interval));
    }

    [Fact]
    public void A_failure_then_a_success_then_a_failure()
    {
        var tracker = new DetectionRunTracker();
        Assert.True(tracker.Observe(null, 1, T0 + Interval, Interval));
        Assert.True(tracker.Observe(null, 1, T0 + Interval + TimeSpan.FromMinutes(1), Interval)); // nothing new: still failing
        Assert.False(tracker.Observe(T0 + (2 * Interval), 1, T0 + (2 * Interval) + TimeSpan.FromSeconds(3), Interval));
        Assert.False(tracker.Observe(T0 + (2 * Interval), 1, T0 + (2 * Interval) + TimeSpan.FromMinutes(4), Interval));
        Assert.True(tracker.Observe(T0 + (2 * Interval), 2, T0 + (3 * Interval) + TimeSpan.FromSeconds(2), Interval));
    }

    [Fact]
    public void Success_and_failure_since_the_last_probe_are_ordered_by_the_interval()
    {
        // Both a failure and a success happened since the previous probe. A success younger than
        // one interval is the latest run; an older one was followed by the failing run.
        var recent = new DetectionRunTracker();
        Assert.False(recent.Observe(T0, 1, T0 + TimeSpan.FromMinutes(1), Interval));
        var old = new DetectionRunTracker();
        Assert.True(old.Observe(T0, 1, T0 + Interval + TimeSpan.FromSeconds(1), Interval));
    }
}

/// <summary>Listening sockets read from the kernel's table.</summary>
public sealed class UnixSocketTableTests
{
    [Fact]
    public void Listening_flag_and_exact_path_are_required()
    {
        // Lines as /proc/net/unix prints them: Flags 00010000 is __SO_ACCEPTCON (listen() called).
        const string table = """
            Num       RefCount Protocol Flags    Type St Inode Path
            0000000000000000: 00000002 00000000 00010000 0005 01 41210 /run/ja4/reqin.sock
            0000000000000000: 00000003 00000000 00000000 0005 03 41211 /run/ja4/reqin.sock
            0000000000000000: 00000002 00000000 00000000 0002 01 41212 /run/ja4/other.sock
            0000000000000000: 00000002 00000000 00010000 0001 01 41213 /run/ja4/with space.sock
            0000000000000000: 00000003 00000000 00000000 0001 03 41214
            """;
        Assert.True(UnixSocketTable.IsListening(table, "/run/ja4/reqin.sock"));
        Assert.False(UnixSocketTable.IsListening(table, "/run/ja4/other.sock"));
        Assert.False(UnixSocketTable.IsListening(table, "/run/ja4/reqin"));
        Assert.True(UnixSocketTable.IsListening(table, "/run/ja4/with space.sock"));
        Assert.False(UnixSocketTable.IsListening("", "/run/ja4/reqin.sock"));
    }

    [Fact]
    public void A_real_socket_counts_only_once_it_listens()
    {
        var dir = Directory.CreateTempSubdirectory("ja4-unixtable-").FullName;
        try
        {
            var path = Path.Combine(dir, "probe.sock");
            using var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            Assert.False(UnixSocketTable.IsListening(File.ReadAllText(UnixSocketTable.ProcPath), path));
            socket.Listen(1);
            Assert.True(UnixSocketTable.IsListening(File.ReadAllText(UnixSocketTable.ProcPath), path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary><c>/readyz</c> of the real daemon reflects each enabled module.</summary>
[Trait("Category", "EndToEnd")]
public sealed class ReadinessEndpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-readyz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static async Task<(HttpStatusCode Code, JsonElement Body)> ReadyzAsync(DaemonInstance daemon)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(daemon.BaseUrl + "/readyz");
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        return (response.StatusCode, doc.RootElement.Clone());
    }

    internal static string CheckStatus(JsonElement body, string check) =>
        body.GetProperty("checks").GetProperty(check).GetProperty("status").GetString()!;

    [Fact]
    public async Task Ingest_socket_check_fails_when_the_socket_is_gone()
    {
        var socketPath = Path.Combine(_dir, "reqin.sock");
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:HttpIngest:Enabled"] = "true",
            ["Modules:HttpIngest:SocketPath"] = socketPath,
            ["Modules:HttpIngest:SocketGroup"] = "",
            ["Modules:Correlation:Enabled"] = "true",
        });
        var (code, body) = await ReadyzAsync(daemon);
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("Healthy", CheckStatus(body, "HttpIngest"));
        Assert.Equal("Healthy", CheckStatus(body, "Pipeline"));
        Assert.False(body.GetProperty("checks").TryGetProperty("Capture", out _)); // disabled: no check
        Assert.False(body.GetProperty("checks").TryGetProperty("Storage", out _));

        // Apache reaches the daemon by the path: once it is unlinked, the daemon is not ready.
        File.Delete(socketPath);
        (code, body) = await ReadyzAsync(daemon);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", CheckStatus(body, "HttpIngest"));
        Assert.Contains("missing", body.GetProperty("checks").GetProperty("HttpIngest").GetProperty("description").GetString());
    }

    [Fact]
    public async Task Ingest_without_a_consumer_is_ready_and_says_why_nothing_listens()
    {
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:HttpIngest:Enabled"] = "true",
            ["Modules:HttpIngest:SocketPath"] = Path.Combine(_dir, "reqin.sock"),
            ["Modules:HttpIngest:SocketGroup"] = "",
        });
        var (code, body) = await ReadyzAsync(daemon);
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Contains("no consumer", body.GetProperty("checks").GetProperty("HttpIngest").GetProperty("description").GetString());
    }

    [Fact]
    public async Task Capture_check_reports_the_open_handle()
    {
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:Capture:Enabled"] = "true",
            ["Modules:Capture:Interface"] = "lo",
            ["Modules:Capture:Filter"] = $"tcp port {DaemonInstance.FreePort()}",
            ["Modules:Correlation:Enabled"] = "true",
        });
        var (code, body) = await ReadyzAsync(daemon);
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("Healthy", CheckStatus(body, "Capture"));
        Assert.StartsWith("capturing on lo", body.GetProperty("checks").GetProperty("Capture").GetProperty("description").GetString());
    }

    [Fact]
    public async Task Detection_check_reports_the_latest_run()
    {
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:Detection:Enabled"] = "true",
            ["Modules:Detection:ModelPath"] = Path.Combine(_dir, "model.bin"),
            ["Modules:Detection:Dns:Server"] = "none",
        });
        var (code, body) = await ReadyzAsync(daemon);
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("no detection run yet", body.GetProperty("checks").GetProperty("Detection").GetProperty("description").GetString());

        var worker = daemon.Services.GetRequiredService<Ja4.Modules.Detection.DetectionWorker>();
        var run = await worker.RunOnceAsync(CancellationToken.None);
        (code, body) = await ReadyzAsync(daemon);
        Assert.Equal(HttpStatusCode.OK, code);
        var detection = body.GetProperty("checks").GetProperty("Detection");
        Assert.Equal("Healthy", detection.GetProperty("status").GetString());
        Assert.StartsWith($"last run {run.At.ToString("u", System.Globalization.CultureInfo.InvariantCulture)}; 1 runs, 0 failures",
            detection.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Process_and_gc_gauges_are_on_metrics()
    {
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>());
        using var http = new HttpClient();
        var values = Ja4.Host.Commands.StatusCommand.ParseMetrics(await http.GetStringAsync(daemon.BaseUrl + "/metrics"));
        // The daemon runs in this process: its resident size is this process's VmRSS (kB), give or
        // take what is allocated between the two readings.
        var rss = values["ja4_process_resident_memory_bytes"];
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var ownKb = double.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(rss, ownKb * 1024 / 2, ownKb * 1024 * 2);
        Assert.InRange(values["ja4_process_open_fds"], 3, double.MaxValue);
        Assert.InRange(values["ja4_dotnet_gc_heap_bytes"], 1, double.MaxValue);
        for (var g = 0; g <= GC.MaxGeneration; g++)
        {
            Assert.True(values.ContainsKey($"ja4_dotnet_gc_collections{{generation=\"{g}\"}}"), $"generation {g}");
        }
    }
}

/// <summary><c>/readyz</c> with the store: reachable, then the server gone.</summary>
[Collection("chdb")]
[Trait("Category", "EndToEnd")]
public sealed class StorageReadinessTests(ChdbFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-readyz-store-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Store_check_follows_the_server()
    {
        await using var server = new ClickHouseHttpFixture(fixture.DataPath);
        await server.StartAsync();
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:Storage:Enabled"] = "true",
            ["Modules:Storage:Engine"] = "ClickHouse",
            ["Modules:Storage:ClickHouse:ConnectionString"] = server.ConnectionString,
            ["Modules:Storage:Database"] = "readyz_" + Guid.NewGuid().ToString("N")[..12],
            ["Modules:Storage:SpillPath"] = Path.Combine(_dir, "spill"),
            ["Modules:Storage:AdminSocketPath"] = Path.Combine(_dir, "admin.sock"),
            ["Modules:Storage:InsertAttempts"] = "1",
        });
        var (code, body) = await ReadinessEndpointTests.ReadyzAsync(daemon);
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal("Healthy", ReadinessEndpointTests.CheckStatus(body, "Storage"));
        var storage = body.GetProperty("checks").GetProperty("Storage");
        Assert.Equal(0, storage.GetProperty("data").GetProperty("spill_bytes").GetDouble());

        await server.StopAsync();
        (code, body) = await ReadinessEndpointTests.ReadyzAsync(daemon);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        storage = body.GetProperty("checks").GetProperty("Storage");
        Assert.Equal("Unhealthy", storage.GetProperty("status").GetString());
        Assert.StartsWith("clickhouse store unreachable", storage.GetProperty("description").GetString());
        Assert.False(string.IsNullOrEmpty(storage.GetProperty("error").GetString()));
    }
}
