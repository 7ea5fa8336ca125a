using System.Diagnostics;
using System.Globalization;
using System.Net;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Queries;

namespace Ja4.Bench.Storage;

/// <summary>
/// Latency of the dashboard's main queries (the <see cref="StorageQueries"/> methods) on a
/// generated data set of <c>--rows</c> http_logs rows (default 10 million) over 24 hours, with
/// the hourly aggregates filled by the materialized view and 200,000 anomalies.
/// </summary>
public sealed class StorageQueryMeasurement : IMeasurement
{
    public string Name => "storage-queries";
    public string Description => "median latency of the dashboard queries on a generated http_logs data set";

    public async Task<int> RunAsync(string[] args)
    {
        var a = StorageIngestMeasurement.Args(args);
        var rows = long.Parse(a.GetValueOrDefault("--rows", "10000000"), CultureInfo.InvariantCulture);
        var data = a.GetValueOrDefault("--data", Path.Combine(Path.GetTempPath(), "ja4-bench-queries"));
        var runs = int.Parse(a.GetValueOrDefault("--runs", "5"), CultureInfo.InvariantCulture);
        if (Directory.Exists(data))
        {
            Directory.Delete(data, true);
        }
        var options = new StorageOptions { Enabled = true, DataPath = data, SpillPath = Path.Combine(data, "spill") };
        options.Retention.HttpLogsDays = 3650;
        options.Retention.AggregatesDays = 3650;
        options.Retention.AnomaliesDays = 3650;
        await using var store = new StorageStore(options);
        await store.EnsureMigratedAsync(CancellationToken.None);
        var start = Start;
        var load = Stopwatch.StartNew();
        await GenerateAsync(store, rows);
        load.Stop();
        Console.Error.WriteLine($"storage-queries: loaded {rows:N0} rows in {load.Elapsed.TotalSeconds:F1} s");

        var q = new StorageQueries(store.Reader, options);
        var from = start.AddHours(12);
        var to = start.AddHours(24);
        var ip = IPAddress.Parse("10.0.1.44");
        var ja4 = "t13d157h2_8daaf6152771_02713d6af862";
        var cases = new (string Name, Func<Task> Run)[]
        {
            ("stats 12h", () => q.StatsAsync(from, to)),
            ("top JA4s 12h", () => q.TopAsync(TopDimension.Ja4, from, to)),
            ("top hosts 12h", () => q.TopAsync(TopDimension.Host, from, to)),
            ("top IPs 12h", () => q.TopAsync(TopDimension.ClientIp, from, to)),
            ("top paths 12h", () => q.TopAsync(TopDimension.Path, from, to)),
            ("IP drill-down 24h", () => q.IpAsync(ip, start, to)),
            ("JA4 drill-down 12h", () => q.Ja4Async(ja4, from, to)),
            ("anomalies 1h", () => q.AnomaliesAsync(start.AddHours(20), start.AddHours(21), ["high", "critical"])),
        };
        var worst = 0.0;
        foreach (var (name, run) in cases)
        {
            await run();
            var times = new List<double>();
            for (var i = 0; i < runs; i++)
            {
                var sw = Stopwatch.StartNew();
                await run();
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            var median = times[times.Count / 2];
            worst = Math.Max(worst, median);
            Row.Print("storage query (chDB)", $"{name} ms @{rows / 1_000_000}M", median);
        }
        Directory.Delete(data, true);
        return 0;
    }

    /// <summary>Start of the generated day (the data covers 24 hours from here).</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Fills <c>ja4.http_logs</c> with <paramref name="rows"/> generated requests over the day from
    /// <see cref="Start"/> (200,000 client addresses, 50 JA4s, 3 hosts, 1000 paths; the hourly
    /// aggregates follow through their materialized views) and 200,000 anomalies.
    /// </summary>
    public static async Task GenerateAsync(StorageStore store, long rows)
    {
        // Generated in the engine, in chunks of 2 million rows (one insert each, like a writer's batches).
        const long chunk = 2_000_000;
        for (long offset = 0; offset < rows; offset += chunk)
        {
            var n = Math.Min(chunk, rows - offset);
            await store.Writer.QueryAsync($"""
                INSERT INTO ja4.http_logs (time, client_ip, client_port, server_ip, server_port, method, host, path, query, protocol,
                    status, bytes_sent, duration_us, connection_id, user_agent, header_signature, match_status, ja4, ja3)
                SELECT toDateTime64('2026-11-20 00:00:00', 6, 'UTC') + toIntervalMicrosecond(intDiv((number + {offset}) * 86400000000, {rows})),
                       toIPv6(IPv4NumToString(toUInt32(167772160 + (cityHash64(intDiv(number + {offset}, 50)) % 200000)))),
                       toUInt16(1024 + number % 60000), toIPv6('10.255.0.1'), 443,
                       ['GET', 'GET', 'GET', 'POST', 'HEAD'][number % 5 + 1],
                       ['shop.example', 'api.example', 'www.example'][cityHash64(number, 1) % 3 + 1],
                       concat('/p/', toString(cityHash64(number, 2) % 1000)), '', 'HTTP/2.0',
                       [200, 200, 200, 304, 404, 500][number % 6 + 1], 512 + number % 4096, 200 + number % 5000, number + {offset},
                       concat('agent-', toString(cityHash64(intDiv(number + {offset}, 50)) % 40)), 'sig',
                       if(number % 10 = 0, 'no_handshake_seen', 'matched'),
                       concat('t13d15', toString(cityHash64(intDiv(number + {offset}, 50)) % 50), 'h2_8daaf6152771_02713d6af862'), 'ja3'
                FROM numbers({n})
                """);
        }
        await store.Writer.QueryAsync("""
            INSERT INTO ja4.ml_detected_anomalies (time, window_start, window_end, host, client_ip, ja4, score, threat_level, bot_name)
            SELECT toDateTime64('2026-11-20 00:00:00', 3, 'UTC') + toIntervalMillisecond(number * 432),
                   toDateTime('2026-11-20 00:00:00', 'UTC'), toDateTime('2026-11-20 00:05:00', 'UTC'), 'shop.example',
                   toIPv6(IPv4NumToString(toUInt32(167772160 + number % 200000))), 'ja4', 0.8,
                   ['low', 'medium', 'high', 'critical'][number % 4 + 1], 'bot'
            FROM numbers(200000)
            """);
        await store.Writer.QueryAsync("OPTIMIZE TABLE ja4.agg_host_ip_ja4_1h FINAL");
    }

}
