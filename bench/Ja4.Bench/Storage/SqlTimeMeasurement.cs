using System.Diagnostics;
using System.Globalization;
using Ja4.Modules.Storage;

namespace Ja4.Bench.Storage;

/// <summary>
/// Times the queries of a file (separated by lines holding only <c>;</c>) on an existing embedded
/// store: <c>--data DIR --file F [--runs N] [--format F] [--write 1]</c>, through the read-only connections the dashboard uses (the writer's with <c>--write 1</c>). Prints the median of N runs of each (after one
/// warm-up run), in milliseconds; for working on one query of a slow page.
/// </summary>
public sealed class SqlTimeMeasurement : IMeasurement
{
    public string Name => "sql-time";
    public string Description => "median latency and process CPU time of each query of a file on an existing embedded store";

    public async Task<int> RunAsync(string[] args)
    {
        var a = StorageIngestMeasurement.Args(args);
        var data = Path.GetFullPath(a["--data"]);
        var format = a.GetValueOrDefault("--format", "TabSeparated");
        // --write 1: through the writer's connection (inserts, DDL) instead of a read-only one.
        var write = a.GetValueOrDefault("--write", "0") == "1";
        var runs = int.Parse(a.GetValueOrDefault("--runs", "5"), CultureInfo.InvariantCulture);
        var queries = File.ReadAllText(a["--file"]).Split("\n;\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(q => q.Split('\n').Any(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith("--", StringComparison.Ordinal))).ToList();
        var options = new StorageOptions { Enabled = true, DataPath = data, SpillPath = Path.Combine(data, "spill") };
        await using var store = new StorageStore(options);
        foreach (var sql in queries)
        {
            // "-- param name=value" lines bind {name:Type} parameters, as the dashboard's queries do.
            var parameters = sql.Split('\n').Where(l => l.StartsWith("-- param ", StringComparison.Ordinal))
                .Select(l => l["-- param ".Length..].Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
            await (write ? store.Writer : store.Reader).QueryAsync(sql, parameters, format);
            var times = new List<double>();
            var cpu = new List<double>();
            using var self = Process.GetCurrentProcess();
            for (var i = 0; i < runs; i++)
            {
                self.Refresh();
                var cpuBefore = self.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                await (write ? store.Writer : store.Reader).QueryAsync(sql, parameters, format);
                times.Add(sw.Elapsed.TotalMilliseconds);
                self.Refresh();
                cpu.Add((self.TotalProcessorTime - cpuBefore).TotalMilliseconds);
            }
            if (times.Count == 0)
            {
                continue; // --runs 0: run each statement once (DDL), time nothing
            }
            times.Sort();
            cpu.Sort();
            var label = sql.Split('\n')[0];
            label = label[..Math.Min(label.Length, 80)];
            Row.Print("sql-time (chDB)", label, times[times.Count / 2]);
            // CPU time of the whole process (the engine's threads included), steadier than wall time on a shared machine.
            Row.Print("sql-time (chDB) CPU ms", label, cpu[cpu.Count / 2]);
        }
        return 0;
    }
}
