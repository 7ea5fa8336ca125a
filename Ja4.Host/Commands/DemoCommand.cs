using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ja4.Modules.Detection.Simulation;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Engines;

namespace Ja4.Host.Commands;

/// <summary><c>ja4 demo</c>: a store filled with labelled simulator traffic and detection results, then the dashboard on it.</summary>
public sealed class DemoCommand : ICommand
{
    public string Name => "demo";
    public string Summary => "seed a store with simulated traffic, run detection, start the dashboard on it";
    public string Help => """
        Usage: ja4 demo [--data DIR] [--hours N] [--seed N] [--requests N] [--seed-only] [--urls URL]

        Creates an embedded store (chDB) under DIR, fills http_logs and tls_handshakes with
        the labelled traffic simulator (humans on real browser fingerprints; scrapers,
        credential stuffers, User-Agent spoofers, rotating campaigns, low-and-slow and
        declared crawlers), loads the known-fingerprint table, runs detection once per
        simulated hour so that ml_all_scores, ml_detected_anomalies and ml_campaigns hold
        results, then starts the daemon with storage, detection and the dashboard on that
        store (no capture, no ingest) until Ctrl-C.

        Options:
          --data DIR      data directory (default: a new temporary directory)
          --hours N       hours of traffic ending now, 1-744 (default: 6)
          --seed N        simulator seed: the same seed gives the same traffic (default: 7)
          --requests N    about how many requests in all (default: 120000)
          --seed-only     seed and run detection, then exit without starting the daemon
          --urls URL      dashboard listen URLs (default: http://127.0.0.1:8080)

        The daemon's configuration is written to DIR/appsettings.demo.json;
        'ja4 run --config DIR/appsettings.demo.json' reopens the demonstration later.

        Afterwards: ja4 sql --config DIR/appsettings.demo.json "SELECT threat_level, count()
        FROM ja4.ml_detected_anomalies GROUP BY 1".

        """;

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var reader = new ArgReader(args, ["--data", "--hours", "--seed", "--requests", "--urls"], ["--seed-only"]);
        if (reader.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{reader.Positionals[0]}'");
        }
        var seed = new DemoSeedOptions
        {
            Hours = Int("--hours", reader.Value("--hours"), 6, 1, 744),
            Seed = Int("--seed", reader.Value("--seed"), 7, int.MinValue, int.MaxValue),
            Requests = Int("--requests", reader.Value("--requests"), 120_000, 100, 100_000_000),
        };
        var dir = Path.GetFullPath(reader.Value("--data") ?? Directory.CreateTempSubdirectory("ja4-demo-").FullName);
        var storage = new StorageOptions
        {
            Enabled = true,
            DataPath = Path.Combine(dir, "clickhouse"),
            SpillPath = Path.Combine(dir, "spill"),
            AdminSocketPath = Path.Combine(dir, "admin.sock"),
            AdminSocketGroup = "",
        };

        DemoSeedResult result;
        try
        {
            await using var store = StorageCommandSupport.Open(storage, readOnly: false);
            result = await DemoSeeder.SeedAsync(store, storage, seed, TimeProvider.System, cancellationToken);
        }
        catch (StoreException e)
        {
            throw new CommandFailedException(e.Message);
        }
        var inv = CultureInfo.InvariantCulture;
        Console.Out.WriteLine(string.Create(inv,
            $"seeded {storage.DataPath} (database {storage.Database}): {result.HttpLogs} http_logs rows, {result.TlsHandshakes} tls_handshakes rows, {result.KnownFingerprints} known fingerprints, {result.Start:yyyy-MM-dd HH:mm}..{result.End:HH:mm} UTC"));
        Console.Out.WriteLine(string.Create(inv,
            $"detection: {result.DetectionRuns} runs, {result.Scores} scores, {result.Anomalies} anomalies, {result.Campaigns} campaigns"));

        // The daemon's configuration for this store, kept beside it: `ja4 run --config` on it later
        // reopens the demonstration.
        var urls = reader.Value("--urls") ?? "http://127.0.0.1:8080";
        var config = new JsonObject
        {
            ["Modules"] = new JsonObject
            {
                ["Storage"] = new JsonObject
                {
                    ["Enabled"] = true,
                    ["Engine"] = "Chdb",
                    ["DataPath"] = storage.DataPath,
                    ["Database"] = storage.Database,
                    ["SpillPath"] = storage.SpillPath,
                    ["AdminSocketPath"] = storage.AdminSocketPath,
                    ["AdminSocketGroup"] = "",
                },
                ["Detection"] = new JsonObject
                {
                    ["Enabled"] = true,
                    ["ModelPath"] = Path.Combine(dir, "detection", "model.bin"),
                    ["Dns"] = new JsonObject { ["Server"] = "none" },
                },
                ["Dashboard"] = new JsonObject { ["Enabled"] = true, ["Urls"] = urls },
            },
        };
        var configPath = Path.Combine(dir, "appsettings.demo.json");
        await File.WriteAllTextAsync(configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
        Console.Out.WriteLine($"configuration: {configPath}");
        if (reader.Flag("--seed-only"))
        {
            return Cli.Ok;
        }
        Console.Out.WriteLine($"dashboard: {urls} (Ctrl-C stops)");
        return await new RunCommand().RunAsync(["--config", configPath], cancellationToken);
    }

    private static int Int(string name, string? text, int fallback, int min, int max)
    {
        if (text is null)
        {
            return fallback;
        }
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
        {
            throw new UsageException($"{name} must be an integer between {min} and {max}");
        }
        return v;
    }
}
