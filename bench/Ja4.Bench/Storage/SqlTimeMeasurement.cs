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
    public string Description => "median latency of each query of a file on an existing embedded store";

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
            for (var i = 0; i < runs; i++)
            {
                var sw = Stopwatch.StartNew();
                await (write ? store.Writer : store.Reader).QueryAsync(sql, parameters, format);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            if (times.Count == 0)
            {
                continue; // --runs 0: run each statement once (DDL), time nothing
            }
            times.Sort();
            var label = sql.Split('\n')[0];
            Row.Print("sql-time (chDB)", label[..Math.Min(label.Length, 80)], times[times.Count / 2]);
        }
        return 0;
    }
}
