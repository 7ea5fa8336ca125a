using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Ja4.Modules.Storage.Engines;

namespace Ja4.Modules.Storage.Schema;

/// <summary>State of one migration as <c>ja4 migrate --status</c> lists it.</summary>
public enum MigrationState
{
    Applied,
    Pending,
    /// <summary>Applied, but the file changed since: refused.</summary>
    Edited,
    /// <summary>Recorded as applied, but the file is gone.</summary>
    Missing,
    /// <summary>A cluster-only migration on a single node, or an embedded-only one on a server.</summary>
    NotApplicable,
}

public sealed record MigrationStatus(int Version, string Name, MigrationState State, DateTimeOffset? AppliedAt);

/// <summary>
/// Applies <c>schema/NN_*.sql</c> in order, records each in <c>schema_migrations</c> with its
/// checksum, refuses to run when an applied file was edited, and sets each table's TTL from
/// <see cref="RetentionOptions"/>. Placeholders (<c>${database}</c>, <c>${ttl_http_logs}</c>, ...)
/// come only from validated options, never from user input.
/// </summary>
public sealed partial class MigrationRunner(IStoreExecutor store, StorageOptions options, IReadOnlyList<Migration> migrations)
{
    private string Db => options.Database;

    /// <summary>Placeholder values of this configuration.</summary>
    public IReadOnlyDictionary<string, string> Values()
    {
        var cluster = options.Engine == StorageEngineKind.ClickHouse ? options.ClickHouse.Cluster : null;
        var clustered = !string.IsNullOrEmpty(cluster);
        var inv = CultureInfo.InvariantCulture;
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["database"] = Db,
            ["cluster"] = clustered ? cluster! : "",
            ["on_cluster"] = clustered ? $"ON CLUSTER {cluster}" : "",
            ["replicated"] = clustered ? "Replicated" : "",
            ["ttl_http_logs"] = options.Retention.HttpLogsDays.ToString(inv),
            ["ttl_tls_handshakes"] = options.Retention.TlsHandshakesDays.ToString(inv),
            ["ttl_aggregates"] = options.Retention.AggregatesDays.ToString(inv),
            ["ttl_scores"] = options.Retention.ScoresDays.ToString(inv),
            ["ttl_anomalies"] = options.Retention.AnomaliesDays.ToString(inv),
        };
    }

    private bool Clustered => options.Engine == StorageEngineKind.ClickHouse && !string.IsNullOrEmpty(options.ClickHouse.Cluster);

    /// <summary>Applied and pending migrations, and files edited or missing since they were applied.</summary>
    public async Task<IReadOnlyList<MigrationStatus>> StatusAsync(CancellationToken cancellationToken)
    {
        var applied = await AppliedAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<MigrationStatus>();
        foreach (var m in migrations)
        {
            if (applied.TryGetValue(m.Version, out var a))
            {
                list.Add(new MigrationStatus(m.Version, m.Name, a.Checksum == m.Checksum ? MigrationState.Applied : MigrationState.Edited, a.AppliedAt));
            }
            else
            {
                var applies = (!m.ClusterOnly || Clustered) && (!m.EmbeddedOnly || options.Engine == StorageEngineKind.Chdb);
                list.Add(new MigrationStatus(m.Version, m.Name, applies ? MigrationState.Pending : MigrationState.NotApplicable, null));
            }
        }
        foreach (var (version, a) in applied.Where(a => migrations.All(m => m.Version != a.Key)))
        {
            list.Add(new MigrationStatus(version, a.Name, MigrationState.Missing, a.AppliedAt));
        }
        list.Sort((x, y) => x.Version.CompareTo(y.Version));
        return list;
    }

    /// <summary>Applies every pending migration in order, then the configured retention.</summary>
    /// <returns>The migrations applied by this call.</returns>
    /// <exception cref="MigrationException">An applied file was edited or removed, or a statement failed.</exception>
    public async Task<IReadOnlyList<Migration>> MigrateAsync(CancellationToken cancellationToken)
    {
        var status = await StatusAsync(cancellationToken).ConfigureAwait(false);
        var problems = status.Where(s => s.State is MigrationState.Edited or MigrationState.Missing).ToList();
        if (problems.Count > 0)
        {
            throw new MigrationException(string.Join("; ", problems.Select(p => p.State == MigrationState.Edited
                ? $"schema/{p.Name} was edited after it was applied (its checksum no longer matches schema_migrations): restore the file and put the change in a new migration"
                : $"migration {p.Version} ({p.Name}) is recorded as applied but its file is missing from schema/")));
        }
        var applied = new List<Migration>();
        var values = Values();
        foreach (var s in status.Where(s => s.State == MigrationState.Pending))
        {
            var m = migrations.First(x => x.Version == s.Version);
            var started = System.Diagnostics.Stopwatch.StartNew();
            foreach (var statement in m.Statements(values))
            {
                try
                {
                    await store.QueryAsync(statement, null, "TabSeparated", cancellationToken).ConfigureAwait(false);
                }
                catch (StoreException e)
                {
                    throw new MigrationException($"schema/{m.Name} failed: {e.Message}", e);
                }
            }
            await store.QueryAsync(
                $"INSERT INTO {Db}.schema_migrations (version, name, checksum, applied_at, duration_ms) " +
                "VALUES ({v:UInt32}, {n:String}, {c:String}, now64(3), {d:UInt64})",
                new Dictionary<string, string>
                {
                    ["v"] = m.Version.ToString(CultureInfo.InvariantCulture),
                    ["n"] = m.Name,
                    ["c"] = m.Checksum,
                    ["d"] = started.ElapsedMilliseconds.ToString(CultureInfo.InvariantCulture),
                }, "TabSeparated", cancellationToken).ConfigureAwait(false);
            applied.Add(m);
        }
        await ApplyRetentionAsync(cancellationToken).ConfigureAwait(false);
        return applied;
    }

    /// <summary>TTL expression of each table and the configured days.</summary>
    internal IReadOnlyList<(string Table, string Expression, int Days)> RetentionTargets() =>
    [
        ("http_logs", "toDateTime(time)", options.Retention.HttpLogsDays),
        ("tls_handshakes", "toDateTime(time)", options.Retention.TlsHandshakesDays),
        ("agg_host_ip_ja4_1h", "hour", options.Retention.AggregatesDays),
        ("agg_host_path_1h", "hour", options.Retention.AggregatesDays),
        ("agg_traffic_1m", "minute", options.Retention.AggregatesDays),
        ("ml_all_scores", "toDateTime(time)", options.Retention.ScoresDays),
        ("ml_detected_anomalies", "toDateTime(time)", options.Retention.AnomaliesDays),
    ];

    [GeneratedRegex(@"TTL .*toIntervalDay\((\d+)\)")]
    private static partial Regex TtlDays();

    /// <summary>
    /// Makes each table's TTL match <c>Modules:Storage:Retention</c> (an ALTER only when it differs;
    /// existing parts are re-evaluated by merges, whole parts are dropped).
    /// </summary>
    public async Task ApplyRetentionAsync(CancellationToken cancellationToken)
    {
        var rows = Encoding.UTF8.GetString(await store.QueryAsync(
            "SELECT name, engine_full FROM system.tables WHERE database = {db:String}",
            new Dictionary<string, string> { ["db"] = Db }, "TabSeparated", cancellationToken).ConfigureAwait(false));
        var current = new Dictionary<string, int?>(StringComparer.Ordinal);
        foreach (var line in rows.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var tab = line.IndexOf('\t');
            var m = TtlDays().Match(line[(tab + 1)..]);
            current[line[..tab]] = m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
        }
        var onCluster = Values()["on_cluster"];
        foreach (var (table, expression, days) in RetentionTargets())
        {
            if (current.TryGetValue(table, out var have) && have != days)
            {
                await store.QueryAsync(
                    $"ALTER TABLE {Db}.{table} {onCluster} MODIFY TTL {expression} + toIntervalDay({days.ToString(CultureInfo.InvariantCulture)}) " +
                    "SETTINGS materialize_ttl_after_modify = 0", null, "TabSeparated", cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<Dictionary<int, (string Name, string Checksum, DateTimeOffset AppliedAt)>> AppliedAsync(CancellationToken cancellationToken)
    {
        var exists = Encoding.UTF8.GetString(await store.QueryAsync(
            "SELECT count() FROM system.tables WHERE database = {db:String} AND name = 'schema_migrations'",
            new Dictionary<string, string> { ["db"] = Db }, "TabSeparated", cancellationToken).ConfigureAwait(false)).Trim();
        var result = new Dictionary<int, (string, string, DateTimeOffset)>();
        if (exists == "0")
        {
            return result;
        }
        var text = Encoding.UTF8.GetString(await store.QueryAsync(
            $"SELECT version, name, checksum, toUnixTimestamp64Milli(applied_at) FROM {Db}.schema_migrations ORDER BY version",
            null, "TabSeparated", cancellationToken).ConfigureAwait(false));
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            result[int.Parse(f[0], CultureInfo.InvariantCulture)] =
                (f[1], f[2], DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(f[3], CultureInfo.InvariantCulture)));
        }
        return result;
    }
}
