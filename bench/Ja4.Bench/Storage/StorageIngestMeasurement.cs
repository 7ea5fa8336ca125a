using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Threading.Channels;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Writer;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ja4.Bench.Storage;

/// <summary>
/// Sustained insert of correlated requests through the real storage writer into chDB.
/// <c>--mode bench</c> prints rows/s; <c>--mode child</c> ingests until killed, printing
/// <c>ACK n</c> whenever the count of acknowledged rows grows (used by the SIGKILL test);
/// <c>--mode verify</c> replays the spill queue, then prints <c>VERIFY count distinct min max</c>.
/// </summary>
public sealed class StorageIngestMeasurement : IMeasurement
{
    public string Name => "storage-ingest";
    public string Description => "rows/s of correlated requests written into chDB by the storage writer";

    public async Task<int> RunAsync(string[] args)
    {
        var a = Args(args);
        var mode = a.GetValueOrDefault("--mode", "bench");
        var data = a.GetValueOrDefault("--data", Path.Combine(Path.GetTempPath(), "ja4-bench-ingest"));
        var rows = long.Parse(a.GetValueOrDefault("--rows", "2000000"), CultureInfo.InvariantCulture);
        var batch = int.Parse(a.GetValueOrDefault("--batch", "100000"), CultureInfo.InvariantCulture);
        var clients = int.Parse(a.GetValueOrDefault("--clients", "50000"), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(a.GetValueOrDefault("--concurrency", "1"), CultureInfo.InvariantCulture);
        // Generate a pool of this many events before the clock starts (0: none); the producer then sends them,
        // and copies of them with their own connection id and time beyond the pool, so that the run measures the
        // writer and the engine rather than the benchmark's own event generator (about 2 µs of CPU a row).
        var pool = int.Parse(a.GetValueOrDefault("--pregenerate", "0"), CultureInfo.InvariantCulture);
        var pregenerate = pool > 0;
        if (mode == "bench" && Directory.Exists(data))
        {
            Directory.Delete(data, true);
        }
        var options = new StorageOptions
        {
            Enabled = true,
            DataPath = data,
            SpillPath = Path.Combine(data, "spill"),
            BatchSize = batch,
            BatchAge = TimeSpan.FromMilliseconds(mode == "child" ? 20 : 1000),
            InsertConcurrency = concurrency,
        };
        await using var store = new StorageStore(options);
        await store.EnsureMigratedAsync(CancellationToken.None);
        var metrics = new Ja4Metrics();
        var channel = Channel.CreateBounded<CorrelatedRequest>(new BoundedChannelOptions(Math.Max(2 * batch, 1024))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        var spill = new SpillQueue(options.SpillPath, options.SpillMaxMb << 20, (long)options.SpillSegmentMb << 20, NullLogger.Instance);
        using var writer = new StorageWriter(store.Inserter, options, mode == "verify" ? null : channel.Reader, null, spill, metrics,
            TimeProvider.System, NullLogger.Instance);
        await writer.StartAsync(CancellationToken.None);
        if (mode == "verify")
        {
            await writer.ExecuteTask!;
            var text = System.Text.Encoding.UTF8.GetString(await store.Writer.QueryAsync(
                "SELECT count(), uniqExact(connection_id), min(connection_id), max(connection_id) FROM ja4.http_logs"));
            Console.WriteLine("VERIFY " + text.Trim().Replace('\t', ' '));
            if (a.TryGetValue("--below", out var below))
            {
                // Rows of the first N connection ids stored: all N when the acknowledged prefix [0, N) is complete.
                var stored = System.Text.Encoding.UTF8.GetString(await store.Writer.QueryAsync(
                    "SELECT count() FROM ja4.http_logs WHERE connection_id < {n:UInt64}", new Dictionary<string, string> { ["n"] = below }));
                Console.WriteLine("BELOW " + stored.Trim());
            }
            return 0;
        }
        var start = long.Parse(a.GetValueOrDefault("--start", "0"), CultureInfo.InvariantCulture);
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-30);
        CorrelatedRequest[]? events = null;
        if (pregenerate)
        {
            events = new CorrelatedRequest[Math.Min(pool, rows)];
            for (var i = 0L; i < events.Length; i++)
            {
                events[i] = Generate(start + i, t0, clients);
            }
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        }
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var producer = Task.Run(async () =>
        {
            for (var i = start; i < start + rows; i++)
            {
                await channel.Writer.WriteAsync(events is null ? Generate(i, t0, clients) : Copy(events, i - start, start, t0));
            }
            channel.Writer.Complete();
        });
        if (mode == "child")
        {
            long last = -1;
            while (!writer.ExecuteTask!.IsCompleted)
            {
                var durable = writer.DurableRows;
                if (durable != last)
                {
                    // The prefix [start, start + durable) is acknowledged: batches are written in order.
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ACK {start + durable}"));
                    Console.Out.Flush();
                    last = durable;
                }
                await Task.Delay(5);
            }
            await producer;
            return 0;
        }
        await producer;
        await writer.ExecuteTask!;
        clock.Stop();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
        var written = metrics.Read("ja4_storage_rows_written_total", ("table", "http_logs")) ?? 0;
        var rate = written / clock.Elapsed.TotalSeconds;
        // Process CPU time: the engine runs in process, so this is generator + writer + engine.
        var setting = $"batch {batch}, {clients} clients" + (concurrency > 1 ? $", {concurrency} inserts at once" : "") +
                      (pregenerate ? ", events generated beforehand" : "");
        Console.Error.WriteLine($"storage-ingest: {written:N0} rows in {clock.Elapsed.TotalSeconds:F1} s, {setting}: {rate:N0} rows/s; " +
                                $"cpu {cpu:F1} s ({written / cpu:N0} rows per cpu-second); load {LoadAverage()}");
        // The target (docs/BENCHMARKS.md, Storage) is a sustained rate: shown beside the runs that measure one.
        var sustained = pregenerate && rows >= 10_000_000;
        Row.Print("storage insert (chDB)", $"rows/s, {setting}", rate, sustained ? "target" : null, sustained ? 500_000 : null);
        Row.Print("storage insert (chDB)", $"rows per cpu-second, {setting}", written / cpu);
        return written == rows ? 0 : 1;
    }

    private static readonly string[] Paths = ["/", "/index.html", "/login", "/cart", "/api/items", "/static/app.js", "/search", "/wp-login.php"];
    private static readonly string[] Agents = ["Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", "curl/8.5.0", "python-requests/2.32", "Mozilla/5.0 (iPhone) Safari/605.1"];
    private static readonly string[] Hosts = ["shop.example", "api.example", "www.example"];
    private static readonly string[] Ja4s = ["t13d1516h2_8daaf6152771_02713d6af862", "t13d1715h2_5b57614c22b0_3d5424432f57", "t13i311000_e8f1e7e78f70_d41ae481755e", "t12d1209h1_d34a8e72043a_b39be8c56a14"];

    /// <summary>
    /// A request from one of <paramref name="clients"/> clients (default 50,000), a few hosts, paths and
    /// fingerprints. With 50,000 clients nearly every request of a batch is a group of its own in the
    /// hourly host × client × JA4 aggregate: the views' worst case.
    /// </summary>
    internal static CorrelatedRequest Generate(long i, DateTimeOffset t0, int clients = 50_000)
    {
        var client = (uint)(i * 2654435761 % clients);
        var ip = new IPAddress(BitConverter.GetBytes(0x0A000000u + client).Reverse().ToArray());
        var time = t0.AddTicks(i * 100);
        var ja4 = Ja4s[client % Ja4s.Length];
        var hello = new TlsClientHello(time.AddMilliseconds(-3), FlowKey.Create(ip, (ushort)(1024 + i % 60000), IPAddress.Loopback, 443),
            Transport.Tcp, Hosts[i % Hosts.Length], ["h2", "http/1.1"], "1.3", 0x0303, ja4, ja4 + "_r", ja4, ja4 + "_ro",
            "cd08e31494f9531f560d64c695473da9", "771,4865-4866-4867,0-23-65281-10-11,29-23-24,0");
        var ua = Agents[client % Agents.Length];
        var request = new HttpRequest
        {
            Timestamp = time,
            Flow = hello.Flow,
            Method = i % 10 == 0 ? "POST" : "GET",
            Path = Paths[i % Paths.Length],
            Query = i % 3 == 0 ? "id=" + (i % 1000).ToString(CultureInfo.InvariantCulture) : null,
            Protocol = "HTTP/2.0",
            Host = hello.Sni,
            Headers = [new("Host", hello.Sni!), new("User-Agent", ua), new("Accept", "*/*"), new("Accept-Encoding", "gzip, br")],
            Status = i % 17 == 0 ? 404 : 200,
            BytesSent = 512 + i % 4096,
            DurationMicros = 200 + i % 5000,
            ConnectionId = i,
            KeepAliveIndex = (int)(i % 4),
            TlsProtocol = "TLSv1.3",
            TlsCipher = "TLS_AES_128_GCM_SHA256",
            TlsSni = hello.Sni,
            HeaderSignature = "9f8e7d6c5b4a",
            HeaderSignatureRaw = "host,user-agent,accept,accept-encoding",
        };
        return new CorrelatedRequest(request, hello, MatchStatus.Matched, time.AddMilliseconds(1));
    }

    /// <summary>Event <paramref name="n"/> of the run: from the pool, or a copy of a pooled one with its own connection id and time.</summary>
    private static CorrelatedRequest Copy(CorrelatedRequest[] pool, long n, long start, DateTimeOffset t0)
    {
        var e = pool[n % pool.Length];
        if (n < pool.Length)
        {
            return e;
        }
        var i = start + n;
        var time = t0.AddTicks(i * 100);
        return e with { Request = e.Request with { ConnectionId = i, Timestamp = time }, CorrelatedAt = time.AddMilliseconds(1) };
    }

    /// <summary>The 1-minute load average (the machine may be shared), or "?".</summary>
    internal static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    internal static Dictionary<string, string> Args(string[] args)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            d[args[i]] = args[i + 1];
        }
        return d;
    }
}
