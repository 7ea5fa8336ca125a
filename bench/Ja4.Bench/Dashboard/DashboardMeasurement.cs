using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Ja4.Bench.Storage;
using Ja4.Host;
using Ja4.Modules.Storage;

namespace Ja4.Bench.Dashboard;

/// <summary>
/// The dashboard on a generated store: <c>--rows</c> http_logs rows over 24 hours (default 10
/// million, the storage benchmark's generator), its 200,000 anomalies and 1,000 campaigns; then
/// the real daemon (in this process, chDB) answers each REST endpoint and renders each page
/// at least <c>--warmup</c> times (default 30) and until the runtime stops compiling its code, then
/// <c>--calls</c> times (default 20). Prints the p95 latency of
/// those calls, in milliseconds, and on stderr the first call's time (the cold cost: code not yet
/// compiled, engine caches empty), the median and the CPU per call.
/// </summary>
public sealed class DashboardMeasurement : IMeasurement
{
    public string Name => "dashboard";
    public string Description => "p95 latency of every dashboard API endpoint and page render on a generated store";

    // Warm-up calls at most, whether or not the runtime is still compiling.
    private const int MaxWarmup = 300;

    public async Task<int> RunAsync(string[] args)
    {
        var a = StorageIngestMeasurement.Args(args);
        var rows = long.Parse(a.GetValueOrDefault("--rows", "10000000"), CultureInfo.InvariantCulture);
        var calls = int.Parse(a.GetValueOrDefault("--calls", "20"), CultureInfo.InvariantCulture);
        // A daemon serves its pages for days: what a call costs once the runtime has compiled its code at the
        // final tier is measured; the first call (code not yet compiled, engine caches cold) is printed beside it.
        var warmup = int.Parse(a.GetValueOrDefault("--warmup", "30"), CultureInfo.InvariantCulture);
        var data = Path.GetFullPath(a.GetValueOrDefault("--data", Path.Combine(Path.GetTempPath(), "ja4-bench-dashboard")));
        // --reuse keeps a store an earlier run left with --keep (same --rows), --only runs the calls whose URL contains it.
        var reuse = a.ContainsKey("--reuse") && Directory.Exists(Path.Combine(data, "store-ready"));
        var keep = a.ContainsKey("--keep");
        var only = a.GetValueOrDefault("--only", "");
        if (Directory.Exists(data) && !reuse)
        {
            Directory.Delete(data, true);
        }
        var options = new StorageOptions { Enabled = true, DataPath = data, SpillPath = Path.Combine(data, "spill") };
        options.Retention.HttpLogsDays = options.Retention.AggregatesDays = options.Retention.AnomaliesDays = options.Retention.ScoresDays = 3650;
        var load = Stopwatch.StartNew();
        if (!reuse)
        {
            await using (var store = new StorageStore(options))
            {
                await store.EnsureMigratedAsync(CancellationToken.None);
                await StorageQueryMeasurement.GenerateAsync(store, rows);
                // 1,000 campaigns of 20 generated addresses each, two runs apiece (the page reads the latest).
                await store.Writer.QueryAsync("""
                    INSERT INTO ja4.ml_campaigns (time, id, key, size, user_agents, first_seen, last_seen, risk, threat_level, returning, model_version, members)
                    SELECT toDateTime64('2026-11-20 12:00:00', 3, 'UTC') + toIntervalSecond(number * 20), concat('c-', toString(number % 1000)),
                           concat('ja4=t13d15', toString(number % 50), 'h2_8daaf6152771_02713d6af862'), 20, 2,
                           toDateTime64('2026-11-20 06:00:00', 3, 'UTC'), toDateTime64('2026-11-20 18:00:00', 3, 'UTC'),
                           0.5 + (number % 50) / 100, ['low', 'medium', 'high', 'critical'][number % 4 + 1], number % 7 = 0, 'bench',
                           arrayMap(i -> (toIPv6(IPv4NumToString(toUInt32(167772160 + (number * 20 + i) % 200000))),
                                          concat('t13d15', toString(number % 50), 'h2_8daaf6152771_02713d6af862'), 'shop.example'), range(20))
                    FROM numbers(2000)
                    """);
            }
            Directory.CreateDirectory(Path.Combine(data, "store-ready"));
        }
        Console.Error.WriteLine($"dashboard: loaded {rows:N0} rows in {load.Elapsed.TotalSeconds:F1} s");

        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        var config = Path.Combine(data, "appsettings.json");
        await File.WriteAllTextAsync(config, "{}");
        var app = DaemonHost.Build(DaemonHost.LoadConfiguration(config, new Dictionary<string, string?>
        {
            ["Logging:Console:Format"] = "none",
            ["Modules:Storage:Enabled"] = "true",
            ["Modules:Storage:DataPath"] = data,
            ["Modules:Storage:SpillPath"] = options.SpillPath,
            ["Modules:Storage:AdminSocketPath"] = Path.Combine(data, "admin.sock"),
            ["Modules:Storage:AdminSocketGroup"] = "",
            ["Modules:Storage:Retention:HttpLogsDays"] = "3650",
            ["Modules:Storage:Retention:AggregatesDays"] = "3650",
            ["Modules:Storage:Retention:AnomaliesDays"] = "3650",
            ["Modules:Storage:Retention:ScoresDays"] = "3650",
            ["Modules:Dashboard:Enabled"] = "true",
            ["Modules:Dashboard:Urls"] = baseUrl,
        }));
        DaemonHost.ValidateOptions(app.Services);
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(2) };
            var day = "from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z";
            var half = "from=2026-11-20T12:00:00Z&to=2026-11-21T00:00:00Z";
            var hour = "from=2026-11-20T20:00:00Z&to=2026-11-20T21:00:00Z";
            var ja4 = "t13d157h2_8daaf6152771_02713d6af862";
            (string Kind, string Url)[] cases =
            [
                ("api", $"/api/stats?{half}"),
                ("api", $"/api/top?dimension=ja4&{half}"),
                ("api", $"/api/top?dimension=ip&{half}"),
                ("api", $"/api/top?dimension=path&{half}"),
                ("api", $"/api/timeseries?metric=requests&{day}"),
                ("api", $"/api/timeseries?metric=requests&{hour}"),
                ("api", $"/api/timeseries?metric=anomalies&{day}"),
                ("api", $"/api/anomalies?{hour}"),
                ("api", $"/api/anomalies?level=high,critical&sort=score&{day}"),
                ("api", $"/api/ip?addr=10.0.1.44&{day}"),
                ("api", $"/api/ip?addr=10.0.0.0/16&{half}"),
                ("api", $"/api/ja4?ja4={ja4}&{half}"),
                ("api", $"/api/campaigns?{day}"),
                ("api", $"/api/campaigns/c-7?{day}"),
                ("api", $"/api/search?q=10.0.1.44&{day}"),
                ("api", $"/api/search?q=t13d157&{half}"),
                ("api", $"/api/search?q=agent-3&{hour}"),
                ("api", $"/api/search?q=agent-3&{half}"),
                ("api", $"/api/export/anomalies?format=csv&{hour}"),
                ("api", $"/api/export/search?q=10.0.1.44&format=jsonl&{day}"),
                ("api", $"/api/export/campaigns/c-7?format=nftables&{day}"),
                ("page", $"/?{half}"),
                ("page", $"/?{day}"),
                ("page", $"/ip?addr=10.0.1.44&{day}"),
                ("page", $"/ip?addr=10.0.0.0/16&{half}"),
                ("page", $"/ip?addr=10.0.1.0/24&{half}"),
                ("page", $"/fingerprint?ja4={ja4}&{half}"),
                ("page", $"/anomalies?{half}"),
                ("page", $"/campaigns?{day}"),
                ("page", $"/campaigns?id=c-7&{day}"),
                ("page", $"/search?q=agent-3&{hour}"),
                ("page", $"/search?q=10.0.1.44&{day}"),
                ("page", "/status"),
                ("page", "/live"),
            ];
            foreach (var (kind, url) in cases.Where(c => c.Url.Contains(only, StringComparison.Ordinal)))
            {
                var cold = Stopwatch.StartNew();
                await Call(http, url);
                var first = cold.Elapsed.TotalMilliseconds;
                // Warm up until the runtime has finished compiling what the call runs: at least --warmup calls, then
                // until ten calls in a row compiled fewer than ten methods (tiered compilation with dynamic PGO takes a
                // method through three versions, so a page whose components run once per render needs about a hundred).
                var warmed = 1;
                var window = new Queue<long>();
                window.Enqueue(System.Runtime.JitInfo.GetCompiledMethodCount());
                while (warmed < warmup || (warmed < MaxWarmup && (window.Count < 11 || window.Last() - window.Peek() >= 10)))
                {
                    await Call(http, url);
                    warmed++;
                    window.Enqueue(System.Runtime.JitInfo.GetCompiledMethodCount());
                    if (window.Count > 11)
                    {
                        window.Dequeue();
                    }
                }
                var times = new List<double>();
                using var self = Process.GetCurrentProcess();
                var cpuBefore = self.TotalProcessorTime;
                for (var i = 0; i < calls; i++)
                {
                    var sw = Stopwatch.StartNew();
                    await Call(http, url);
                    times.Add(sw.Elapsed.TotalMilliseconds);
                }
                self.Refresh();
                // CPU time of the whole process (daemon, engine and client) per call: steadier than wall time on a shared machine.
                var cpuPerCall = (self.TotalProcessorTime - cpuBefore).TotalMilliseconds / calls;
                times.Sort();
                var p95 = times[Math.Max(0, (int)Math.Ceiling(0.95 * times.Count) - 1)];
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"dashboard: {Shorten(url)}: first call {first:0} ms; after {warmed} warm-up calls median {times[times.Count / 2]:0} ms, CPU {cpuPerCall:0} ms per call"));
                Row.Print(kind == "api" ? "dashboard API (chDB)" : "dashboard page render", $"{Shorten(url)} p95 ms @{rows / 1_000_000}M", p95);
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            if (!keep)
            {
                Directory.Delete(data, true);
            }
        }
        return 0;
    }

    private static async Task Call(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseContentRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>The URL with its time range named by its span: "/api/top?dimension=ja4 12h".</summary>
    private static string Shorten(string url)
    {
        var span = url.Contains("from=2026-11-20T00:", StringComparison.Ordinal) ? " 24h"
            : url.Contains("from=2026-11-20T12:", StringComparison.Ordinal) ? " 12h"
            : url.Contains("from=2026-11-20T20:", StringComparison.Ordinal) ? " 1h" : "";
        var bare = string.Join("&", url.Split('?', '&').Skip(1).Where(p => !p.StartsWith("from=", StringComparison.Ordinal) && !p.StartsWith("to=", StringComparison.Ordinal)));
        return url.Split('?')[0] + (bare.Length > 0 ? "?" + bare : "") + span;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
