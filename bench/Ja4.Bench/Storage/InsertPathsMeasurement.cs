using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Writer;

namespace Ja4.Bench.Storage;

/// <summary>
/// Where the time of one insert goes: the managed encoding, the engine parsing the input
/// format, and the table's own work (parts, indexes, materialized views). Each step inserts the
/// same generated rows of <c>http_logs</c> and is measured in wall time and process CPU time
/// (the engine runs in process, so its threads count too).
/// </summary>
public sealed class InsertPathsMeasurement : IMeasurement
{
    public string Name => "storage-insert-paths";
    public string Description => "insert cost per step and format (encode, engine parse, table work) into chDB";

    public async Task<int> RunAsync(string[] args)
    {
        var a = StorageIngestMeasurement.Args(args);
        var data = a.GetValueOrDefault("--data", Path.Combine(Path.GetTempPath(), "ja4-bench-insert-paths"));
        var rows = int.Parse(a.GetValueOrDefault("--rows", "100000"), CultureInfo.InvariantCulture);
        var repeat = int.Parse(a.GetValueOrDefault("--repeat", "3"), CultureInfo.InvariantCulture);
        // The writer inserts with optimize_on_insert = 0 (StorageWriter); --settings "" measures without it.
        var settings = a.GetValueOrDefault("--settings", "optimize_on_insert=0");
        var dedup = a.GetValueOrDefault("--dedup", "1") == "1";
        var clients = int.Parse(a.GetValueOrDefault("--clients", "50000"), CultureInfo.InvariantCulture);
        if (Directory.Exists(data))
        {
            Directory.Delete(data, true);
        }
        var options = new StorageOptions { Enabled = true, DataPath = data, SpillPath = Path.Combine(data, "spill") };
        await using var store = new StorageStore(options);
        await store.EnsureMigratedAsync(CancellationToken.None);
        var chdb = (ChdbExecutor)store.Writer;
        await chdb.QueryAsync("CREATE TABLE ja4.bench_plain AS ja4.http_logs");
        foreach (var index in new[] { "idx_time", "idx_client_ip", "idx_ja4", "idx_status" })
        {
            await chdb.QueryAsync($"ALTER TABLE ja4.bench_plain DROP INDEX {index}");
        }
        await chdb.QueryAsync("CREATE TABLE ja4.bench_null ENGINE = Null EMPTY AS SELECT * FROM ja4.http_logs");
        await chdb.QueryAsync("CREATE TABLE ja4.bench_source AS ja4.bench_plain");

        var t0 = DateTimeOffset.UtcNow.AddMinutes(-30);
        var events = new CorrelatedRequest[rows];
        // What the storage-ingest producer spends per row besides the writer and the engine.
        Measure($"generate events, {rows} rows", rows, 1, () =>
        {
            for (var i = 0; i < rows; i++)
            {
                events[i] = StorageIngestMeasurement.Generate(i, t0, clients);
            }
        });
        var block = new HttpLogsBlock();
        var native = new ByteBuffer(1 << 24);
        Measure($"encode Native, {rows} rows", rows, repeat, () =>
        {
            block.Clear();
            foreach (var e in events)
            {
                block.Add(e);
            }
            native.Clear();
            block.Encode(native);
        });
        var body = native.Memory.ToArray();
        Console.Error.WriteLine($"Native: {body.Length / (double)rows:F0} bytes/row");
        var columns = TableBlock.Columns(StoreTable.HttpLogs);
        var extra = ParseSettings(settings);
        await chdb.InsertAsync("ja4.bench_source", columns, "Native", body, extra);
        // The same rows in RowBinary, as the engine writes them.
        var rowBinary = await chdb.QueryAsync($"SELECT {string.Join(", ", columns)} FROM ja4.bench_source", format: "RowBinary");
        Console.Error.WriteLine($"RowBinary: {rowBinary.Length / (double)rows:F0} bytes/row");

        // --part formats: each input format into three targets; --part views: the table's own work; default both.
        var part = a.GetValueOrDefault("--part", "all");
        foreach (var target in part is "all" or "formats" ? ["bench_null", "bench_plain", "http_logs"] : Array.Empty<string>())
        {
            await MeasureAsync($"RowBinary stream insert -> {target}", rows, repeat,
                () => chdb.InsertAsync("ja4." + target, columns, "RowBinary", rowBinary, extra));
            await MeasureAsync($"Native stream insert -> {target}", rows, repeat,
                () => chdb.InsertAsync("ja4." + target, columns, "Native", body, extra));
            var inline = Encoding.UTF8.GetBytes(ChdbExecutor.InsertStatement("ja4." + target, columns, extra) + " FORMAT Native\n")
                .Concat(body).ToArray();
            try
            {
                await MeasureAsync($"Native in the query (chdb_query_n) -> {target}", rows, repeat, () => chdb.QueryBytesAsync(inline));
            }
            catch (StoreException e)
            {
                // Data inline in the query counts against max_query_size (256 KiB by default).
                Console.Error.WriteLine($"Native in the query (chdb_query_n) -> {target}: {e.Message}");
            }
            // The engine copying rows it already holds (no input format), sorted as the target wants them.
            await MeasureAsync($"INSERT SELECT -> {target}", rows, repeat, () => chdb.QueryAsync(
                ChdbExecutor.InsertStatement("ja4." + target, columns, extra) + $" SELECT {string.Join(", ", columns)} FROM ja4.bench_source"));
        }
        if (part is not ("all" or "views"))
        {
            return 0;
        }
        // The table's own work, one part at a time: indexes, then each materialized view.
        var views = new[] { "agg_host_ip_ja4_1h_mv", "agg_host_path_1h_mv" };
        foreach (var (label, detached) in new (string, string[])[]
                 {
                     ("http_logs, both views", []),
                     ("http_logs + agg_host_ip_ja4_1h", ["agg_host_path_1h_mv"]),
                     ("http_logs + agg_host_path_1h", ["agg_host_ip_ja4_1h_mv"]),
                     ("http_logs, no views", views),
                 })
        {
            foreach (var v in detached)
            {
                await chdb.QueryAsync($"DETACH TABLE ja4.{v}");
            }
            await MeasureAsync($"Native stream insert -> {label}", rows, repeat,
                () => chdb.InsertAsync("ja4.http_logs", columns, "Native", body, extra));
            if (dedup)
            {
                var n = 0;
                await MeasureAsync($"Native stream insert, dedup token -> {label}", rows, repeat,
                    () => chdb.InsertAsync("ja4.http_logs", columns, "Native", body, new Dictionary<string, string>(extra)
                    {
                        ["insert_deduplicate"] = "1",
                        ["insert_deduplication_token"] = "bench-" + n++,
                        ["deduplicate_blocks_in_dependent_materialized_views"] = "1",
                    }));
            }
            foreach (var v in detached)
            {
                await chdb.QueryAsync($"ATTACH TABLE ja4.{v}");
            }
        }
        return 0;
    }

    private static Dictionary<string, string> ParseSettings(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries)
        .Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim(), StringComparer.Ordinal);

    private static void Measure(string what, int rows, int repeat, Action action) =>
        MeasureAsync(what, rows, repeat, () => { action(); return Task.CompletedTask; }).GetAwaiter().GetResult();

    /// <summary>Runs <paramref name="action"/> once to warm up, then <paramref name="repeat"/> times; prints the median.</summary>
    private static async Task MeasureAsync(string what, int rows, int repeat, Func<Task> action)
    {
        await action();
        var walls = new List<double>();
        var cpus = new List<double>();
        var process = Process.GetCurrentProcess();
        for (var i = 0; i < repeat; i++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await action();
            clock.Stop();
            process.Refresh();
            walls.Add(clock.Elapsed.TotalSeconds);
            cpus.Add((process.TotalProcessorTime - cpu0).TotalSeconds);
        }
        walls.Sort();
        cpus.Sort();
        var wall = walls[walls.Count / 2];
        var cpu = cpus[cpus.Count / 2];
        Console.Error.WriteLine($"{what}: wall {wall * 1000:F0} ms ({rows / wall:N0} rows/s), cpu {cpu * 1000:F0} ms ({rows / cpu:N0} rows/cpu-s)");
        Row.Print("storage insert path", what + ", rows/s", rows / wall);
    }
}
