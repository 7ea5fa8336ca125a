using System.Diagnostics;
using System.Globalization;
using Ja4.Modules.Detection;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Detection.Rules;
using Ja4.Modules.Detection.Simulation;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Queries;
using Ja4.Modules.Storage.Schema;
using Ja4.Modules.Storage.Writer;

namespace Ja4.Bench.Detection;

/// <summary>
/// A whole detection run as the daemon does it with storage on: features by SQL over about a
/// million <c>http_logs</c> rows in the embedded engine (chDB), training, scoring, rules,
/// campaigns, and the writes to <c>ml_all_scores</c>, <c>ml_detected_anomalies</c> and
/// <c>ml_campaigns</c>. Wall and CPU time (the process's, engine threads included) of a first
/// and a second run. Usage: detection-run-store REPO_ROOT [humans].
/// </summary>
public sealed class StoreDetectionRunMeasurement : IMeasurement
{
    public string Name => "detection-run-store";
    public string Description => "a whole detection run over ~1 million http_logs rows in chDB (features by SQL, ml_* writes)";

    public async Task<int> RunAsync(string[] args)
    {
        var root = args.Length > 0 ? args[0] : ".";
        var humans = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 17_000;
        var now = DateTimeOffset.UtcNow;
        var end = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        var traffic = TrafficSimulator.Generate(99, DetectionRunMeasurement.Mix(humans), end - TimeSpan.FromHours(1));
        var dir = Directory.CreateTempSubdirectory("ja4-bench-detection-").FullName;
        try
        {
            var options = new StorageOptions { Enabled = true, DataPath = dir, Database = "ja4" };
            await using var store = ChdbExecutor.Open(dir);
            await new MigrationRunner(store, options, Migration.LoadDirectory(Path.Combine(root, "schema"))).MigrateAsync(CancellationToken.None);
            var load = Stopwatch.StartNew();
            var block = new HttpLogsBlock();
            var buffer = new ByteBuffer(64 << 20);
            for (var i = 0; i < traffic.Requests.Count; i++)
            {
                block.Add(traffic.Requests[i]);
                if (block.Rows == 100_000 || i == traffic.Requests.Count - 1)
                {
                    buffer.Clear();
                    block.Encode(buffer);
                    await store.InsertAsync("ja4.http_logs", TableBlock.Columns(StoreTable.HttpLogs), "Native", buffer.Memory);
                    block.Clear();
                }
            }
            await store.QueryAsync("OPTIMIZE TABLE ja4.http_logs FINAL");
            load.Stop();
            Console.WriteLine($"{traffic.Requests.Count} rows loaded in {load.Elapsed.TotalSeconds:0.0} s");

            var known = KnownFingerprintTable.Load(Path.Combine(root, "data", "known-fingerprints.csv"), null);
            var engine = new DetectionEngine(new DetectionSettings(), known, new ConsistencyRules(known), null);
            var queries = new StorageQueries(store, options);
            var source = new StoreFeatureSource(store, "ja4.http_logs");
            var writer = new DetectionStoreWriter(queries, store, Ja4.Modules.Core.Events.ThreatLevel.Medium);
            var label = $"detection run (store) {traffic.Requests.Count / 1000}k rows";
            Row.Print(label, "http_logs rows", traffic.Requests.Count);
            for (var run = 1; run <= 2; run++)
            {
                var process = Process.GetCurrentProcess();
                var cpu0 = process.TotalProcessorTime;
                var total = Stopwatch.StartNew();
                var (features, requests) = await source.ComputeAsync(traffic.Start, traffic.End, CancellationToken.None);
                var sql = total.Elapsed;
                process.Refresh();
                var sqlCpu = process.TotalProcessorTime - cpu0;
                var result = await engine.RunAsync(features, traffic.End + TimeSpan.FromMinutes(run), CancellationToken.None);
                var stored = await writer.WriteAsync(result, CancellationToken.None);
                total.Stop();
                process.Refresh();
                var cpu = process.TotalProcessorTime - cpu0;
                Console.WriteLine($"run {run}: {requests} requests, {features.Entities.Count} entities, {stored.Anomalies} anomalies, " +
                                  $"{stored.Campaigns} campaigns, retrained {result.Retrained}");
                var tag = run == 1 ? "" : " (2nd run)";
                if (run == 1)
                {
                    Row.Print(label, "entities", features.Entities.Count);
                }
                Row.Print(label, "features SQL ms" + tag, sql.TotalMilliseconds);
                Row.Print(label, "features SQL CPU ms" + tag, sqlCpu.TotalMilliseconds);
                Row.Print(label, "whole run ms" + tag, total.Elapsed.TotalMilliseconds);
                Row.Print(label, "whole run CPU ms" + tag, cpu.TotalMilliseconds);
            }
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
