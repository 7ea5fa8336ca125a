using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Detection.Rules;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Queries;
using Ja4.Modules.Storage.Schema;
using Ja4.Modules.Storage.Writer;

namespace Ja4.Modules.Detection.Simulation;

/// <summary>What <see cref="DemoSeeder"/> generates.</summary>
public sealed record DemoSeedOptions
{
    /// <summary>Seed of the simulator: the same seed, hours and requests give the same traffic. Default: 7.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>Hours of traffic, ending at the clock's now. Default: 6.</summary>
    public int Hours { get; init; } = 6;

    /// <summary>About how many requests in all (the mix is scaled to it). Default: 120000.</summary>
    public int Requests { get; init; } = 120_000;

    /// <summary>Run detection once per simulated hour so that the <c>ml_*</c> tables are filled. Default: true.</summary>
    public bool RunDetection { get; init; } = true;

    /// <summary>Detection settings of those runs. Default: the defaults of <see cref="DetectionSettings"/>.</summary>
    public DetectionSettings Detection { get; init; } = new();

    /// <summary>Shipped JA4 → client table; empty means <c>known-fingerprints.csv</c> beside the program.</summary>
    public string KnownFingerprintsPath { get; init; } = "";

    /// <summary>Schema directory for the migrations; empty means the one found beside the program.</summary>
    public string SchemaDirectory { get; init; } = "";
}

/// <summary>What <see cref="DemoSeeder"/> wrote.</summary>
public sealed record DemoSeedResult(
    DateTimeOffset Start,
    DateTimeOffset End,
    long HttpLogs,
    long TlsHandshakes,
    int KnownFingerprints,
    int DetectionRuns,
    long Scores,
    long Anomalies,
    long Campaigns);

/// <summary>
/// Fills a store with labelled simulator traffic for demonstrations and browser tests: migrates
/// the schema, writes <c>http_logs</c> and <c>tls_handshakes</c> rows with the storage writer's
/// RowBinary encoding, loads the known-fingerprint table into <c>known_fingerprints</c>, then
/// runs detection over the stored rows once per hour (features by SQL, as the daemon does) so
/// that <c>ml_all_scores</c>, <c>ml_detected_anomalies</c> and <c>ml_campaigns</c> hold results.
/// </summary>
public static class DemoSeeder
{
    private const int BatchRows = 50_000;

    /// <summary>Requests one default <see cref="SimulationMix"/> hour holds, roughly (measured: ~21,000).</summary>
    private const double RequestsPerHumanHour = 62;

    public static async Task<DemoSeedResult> SeedAsync(IStoreExecutor store, StorageOptions storage, DemoSeedOptions options,
        TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        if (options.Hours is < 1 or > 24 * 31)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Hours must be between 1 and 744");
        }
        if (options.Requests is < 100 or > 100_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Requests must be between 100 and 100000000");
        }
        var schema = options.SchemaDirectory.Length > 0 ? options.SchemaDirectory : Migration.LocateDirectory();
        await new MigrationRunner(store, storage, Migration.LoadDirectory(schema)).MigrateAsync(cancellationToken).ConfigureAwait(false);

        var now = time.GetUtcNow();
        var end = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        var start = end - TimeSpan.FromHours(options.Hours);
        var httpTable = $"{storage.Database}.{TableBlock.TableName(StoreTable.HttpLogs)}";
        var tlsTable = $"{storage.Database}.{TableBlock.TableName(StoreTable.TlsHandshakes)}";
        long httpRows = 0, tlsRows = 0;
        for (var h = 0; h < options.Hours; h++)
        {
            var traffic = TrafficSimulator.Generate(options.Seed + h, Mix(options.Requests / options.Hours), start + TimeSpan.FromHours(h));
            httpRows += await InsertAsync(store, httpTable, new HttpLogsBlock(), traffic.Requests, (b, r) => b.Add(r),
                cancellationToken).ConfigureAwait(false);
            tlsRows += await InsertAsync(store, tlsTable, new TlsHandshakesBlock(), Handshakes(traffic.Requests),
                (b, hello) => b.Add(hello), cancellationToken).ConfigureAwait(false);
        }

        var known = KnownFingerprintTable.Load(
            options.KnownFingerprintsPath.Length > 0 ? options.KnownFingerprintsPath : Path.Combine(AppContext.BaseDirectory, "known-fingerprints.csv"),
            null);
        var queries = new StorageQueries(store, storage, time);
        var writer = new DetectionStoreWriter(queries, store, options.Detection.AlertLevel);
        await writer.UpsertKnownFingerprintsAsync(known, cancellationToken).ConfigureAwait(false);

        int runs = 0;
        long scores = 0, anomalies = 0, campaigns = 0;
        if (options.RunDetection)
        {
            var settings = options.Detection;
            var engine = new DetectionEngine(settings, known, new ConsistencyRules(known), null);
            var source = new StoreFeatureSource(store, queries.TableName("http_logs"));
            for (var h = 1; h <= options.Hours; h++)
            {
                var at = start + TimeSpan.FromHours(h);
                var (features, _) = await source.ComputeAsync(at - TimeSpan.FromHours(1), at, cancellationToken).ConfigureAwait(false);
                var result = await engine.RunAsync(features, at, cancellationToken).ConfigureAwait(false);
                var stored = await writer.WriteAsync(result, cancellationToken).ConfigureAwait(false);
                runs++;
                scores += stored.Scores;
                anomalies += stored.Anomalies;
                campaigns += stored.Campaigns;
            }
        }
        return new DemoSeedResult(start, end, httpRows, tlsRows, known.Count, runs, scores, anomalies, campaigns);
    }

    /// <summary>The default mix scaled to about <paramref name="requests"/> requests in one hour.</summary>
    public static SimulationMix Mix(int requests)
    {
        var humans = Math.Max(20, (int)(requests / RequestsPerHumanHour));
        return new SimulationMix
        {
            Humans = humans,
            Scrapers = Math.Max(2, humans / 25),
            CredentialStuffers = Math.Max(1, humans / 40),
            UaSpoofers = Math.Max(2, humans / 15),
            RotatorCampaigns = Math.Clamp(humans / 100, 1, 6),
            RotatorAddresses = Math.Clamp(humans / 25, 4, 40),
            LowAndSlow = Math.Max(1, humans / 30),
            GoodCrawlers = Math.Clamp(humans / 75, 1, 10),
        };
    }

    /// <summary>One ClientHello per connection: the handshake of its first request.</summary>
    private static IEnumerable<TlsClientHello> Handshakes(IEnumerable<CorrelatedRequest> requests)
    {
        var seen = new HashSet<FlowKey>();
        foreach (var r in requests)
        {
            if (r.Handshake is { } h && seen.Add(h.Flow))
            {
                yield return h;
            }
        }
    }

    private static async Task<long> InsertAsync<TBlock, T>(IStoreExecutor store, string table, TBlock block, IEnumerable<T> items,
        Action<TBlock, T> add, CancellationToken cancellationToken) where TBlock : TableBlock
    {
        var encoded = new ByteBuffer(1 << 20);
        long rows = 0;
        foreach (var item in items)
        {
            add(block, item);
            if (block.Rows >= BatchRows)
            {
                rows += await FlushAsync(store, table, block, encoded, cancellationToken).ConfigureAwait(false);
            }
        }
        return rows + await FlushAsync(store, table, block, encoded, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> FlushAsync(IStoreExecutor store, string table, TableBlock block, ByteBuffer encoded,
        CancellationToken cancellationToken)
    {
        var rows = block.Rows;
        if (rows > 0)
        {
            encoded.Clear();
            block.Encode(encoded);
            await store.InsertAsync(table, TableBlock.Columns(block.Table), "Native", encoded.Memory, null, cancellationToken).ConfigureAwait(false);
            block.Clear();
        }
        return rows;
    }
}
