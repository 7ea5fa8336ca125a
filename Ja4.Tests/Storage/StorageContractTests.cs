using System.Globalization;
using System.Net;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Queries;
using Ja4.Modules.Storage.Schema;
using Ja4.Modules.Storage.Writer;
using static Ja4.Tests.Storage.StorageTestKit;

namespace Ja4.Tests.Storage;

/// <summary>
/// The storage contract, run on every engine: chDB in process, the ClickHouse HTTP interface
/// (test fixture over chDB, through ClickHouse.Driver), and a real server when JA4_CLICKHOUSE_URL is set.
/// </summary>
[Collection("chdb")]
public sealed class StorageContractTests(ChdbFixture fixture)
{
    public static IEnumerable<object[]> Engines() => ChdbFixture.Engines();

    /// <summary>Runs <paramref name="body"/> on <paramref name="engine"/> in a database of its own, dropped afterwards.</summary>
    private async Task InStoreAsync(string engine, string name, Func<IStoreExecutor, StorageOptions, Task> body)
    {
        await using var store = fixture.Open(engine);
        var o = fixture.Options(engine, name);
        try
        {
            await body(store, o);
        }
        finally
        {
            await DropAsync(store, o);
        }
    }

    private static readonly string[] Tables =
    [
        "agg_host_ip_ja4_1h", "agg_host_ip_ja4_1h_mv", "agg_host_path_1h", "agg_host_path_1h_mv", "agg_traffic_1m", "agg_traffic_1m_mv", "http_logs", "known_fingerprints", "known_fingerprints_dict",
        "ml_all_scores", "ml_campaigns", "ml_detected_anomalies", "schema_migrations", "tls_handshakes",
    ];

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Migrations_apply_from_empty_and_a_rerun_changes_nothing(string engine)
    {
        await InStoreAsync(engine, "mig", async (store, o) =>
        {
            var runner = new MigrationRunner(store, o, Migration.LoadDirectory(SchemaDirectory));
            var before = await runner.StatusAsync(CancellationToken.None);
            Assert.All(before.Where(s => s.Version is <= 7 or 9 or 11 or 13 or 15 or 16), s => Assert.Equal(MigrationState.Pending, s.State));
            // The cluster-only migrations (Distributed tables) do not apply to a single store.
            Assert.All(before.Where(s => s.Version is 8 or 10 or 12 or 14 or 17), s => Assert.Equal(MigrationState.NotApplicable, s.State));
            // The embedded-only migrations (prompt removal of outdated parts, adaptive write buffers, three parts per merge)
            // apply to chDB, not to a server.
            var embedded = engine == "chdb";
            Assert.All(before.Where(s => s.Version is 18 or 19 or 20),
                s => Assert.Equal(embedded ? MigrationState.Pending : MigrationState.NotApplicable, s.State));

            var applied = await runner.MigrateAsync(CancellationToken.None);
            Assert.Equal(embedded ? [1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 15, 16, 18, 19, 20] : [1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 15, 16],
                applied.Select(m => m.Version));
            var tables = (await TextAsync(store, "SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name",
                new Dictionary<string, string> { ["db"] = o.Database })).Split('\n');
            Assert.Equal(Tables, tables);
            // Migration 15: vertical merges and 2 MiB merge blocks on the wide tables (the engine
            // keeps them in the table's definition).
            var engines = (await TextAsync(store, "SELECT name, engine_full FROM system.tables WHERE database = {db:String} " +
                "AND name IN ('http_logs', 'tls_handshakes') ORDER BY name",
                new Dictionary<string, string> { ["db"] = o.Database })).Split('\n');
            Assert.Equal(2, engines.Length);
            Assert.All(engines, wide =>
            {
                Assert.Contains("merge_max_block_size_bytes = 2097152", wide);
                Assert.Contains("vertical_merge_algorithm_min_rows_to_activate = 1", wide);
                Assert.Contains("vertical_merge_algorithm_min_columns_to_activate = 1", wide);
            });

            // Migration 19 (embedded only): write buffers that start small on the five tables written at every insert.
            var adaptive = (await TextAsync(store, "SELECT name FROM system.tables WHERE database = {db:String} " +
                "AND engine_full LIKE '%min_columns_to_activate_adaptive_write_buffer = 1%' ORDER BY name",
                new Dictionary<string, string> { ["db"] = o.Database })).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(embedded ? ["agg_host_ip_ja4_1h", "agg_host_path_1h", "agg_traffic_1m", "http_logs", "tls_handshakes"] : [],
                adaptive);

            var again = await runner.MigrateAsync(CancellationToken.None);
            Assert.Empty(again);
            Assert.Equal(embedded ? 15 : 12, await CountAsync(store, o.Database + ".schema_migrations"));
            var status = await runner.StatusAsync(CancellationToken.None);
            Assert.All(status.Where(s => s.Version <= 7), s => Assert.Equal(MigrationState.Applied, s.State));
        });
    }

    [Fact]
    public async Task The_embedded_store_removes_parts_replaced_by_a_merge_within_seconds()
    {
        await InStoreAsync("chdb", "cleanup", async (store, o) =>
        {
            await MigrateAsync(store, o);
            var table = o.Database + ".http_logs";
            var outdated = $"SELECT count() FROM system.parts WHERE database = '{o.Database}' AND table = 'http_logs' AND NOT active";
            // Ten inserts, ten parts; a merge of all of them leaves one active part and the others outdated.
            async Task<TimeSpan> OutdateAndWait(int round, TimeSpan limit)
            {
                for (var i = 0; i < 10; i++)
                {
                    await store.QueryAsync($"INSERT INTO {table} (time, client_ip, path) VALUES (now64(6), '192.0.2.1', '/r{round}-{i}')");
                }
                await store.QueryAsync($"OPTIMIZE TABLE {table} FINAL");
                Assert.NotEqual("0", await TextAsync(store, outdated));
                var waited = System.Diagnostics.Stopwatch.StartNew();
                while (await TextAsync(store, outdated) != "0" && waited.Elapsed < limit)
                {
                    await Task.Delay(250);
                }
                Assert.Equal("0", await TextAsync(store, outdated));
                return waited.Elapsed;
            }

            // A new table's first cleanup comes 30-40 s after it is created, whatever its settings.
            await OutdateAndWait(1, TimeSpan.FromSeconds(90));
            // After that the engine paces itself to remove about 150 parts per run, up to 5 minutes apart: ten outdated
            // parts would wait 30 s at the very least (the pacing never goes below cleanup_delay_period, 30 s by
            // default), minutes in practice. Migration 18 keeps the runs 5-11 s apart; 25 s leaves room for a busy machine.
            await OutdateAndWait(2, TimeSpan.FromSeconds(25));
            Assert.Equal(20, await CountAsync(store, table));
        });
    }

    [Fact]
    public async Task The_embedded_store_merges_at_most_three_parts_at_a_time()
    {
        await InStoreAsync("chdb", "fanin", async (store, o) =>
        {
            await MigrateAsync(store, o);
            var table = o.Database + ".http_logs";
            // Nine inserts, nine parts of the same size, none merged yet: left to its defaults the engine's merge
            // selector takes all nine in one merge.
            await store.QueryAsync($"SYSTEM STOP MERGES {table}");
            for (var i = 0; i < 9; i++)
            {
                await store.QueryAsync($"INSERT INTO {table} (time, client_ip, path) VALUES (now64(6), '192.0.2.1', '/p{i}')");
            }
            await store.QueryAsync($"SYSTEM START MERGES {table}");
            var parts = $"SELECT level, max_block_number - min_block_number + 1 FROM system.parts " +
                $"WHERE database = '{o.Database}' AND table = 'http_logs' AND active ORDER BY min_block_number";
            string[] active = [];
            for (var round = 0; round < 20; round++)
            {
                // Without FINAL, OPTIMIZE runs the merge the selector picks, under the table's settings.
                await store.QueryAsync($"OPTIMIZE TABLE {table}");
                active = (await TextAsync(store, parts)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (active.Length == 1)
                {
                    break;
                }
            }
            Assert.Contains(active, p => p.Split('\t')[0] != "0");
            // A part made by merges of at most three parts each spans at most 3^level of the inserts' blocks.
            Assert.All(active, p =>
            {
                var f = p.Split('\t');
                Assert.True(long.Parse(f[1], CultureInfo.InvariantCulture) <= (long)Math.Pow(3, int.Parse(f[0], CultureInfo.InvariantCulture)),
                    $"a part at level {f[0]} spans {f[1]} blocks");
            });
            Assert.Equal(9, await CountAsync(store, table));
        });
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task An_applied_migration_that_was_edited_is_refused(string engine)
    {
        await using var store = fixture.Open(engine);
        var o = fixture.Options(engine, "edit");
        var dir = Directory.CreateTempSubdirectory("ja4-schema-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(SchemaDirectory, "*.sql"))
            {
                File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            }
            await new MigrationRunner(store, o, Migration.LoadDirectory(dir)).MigrateAsync(CancellationToken.None);
            File.AppendAllText(Path.Combine(dir, "03_http_logs.sql"), "\n-- an edit\n");
            var runner = new MigrationRunner(store, o, Migration.LoadDirectory(dir));
            var e = await Assert.ThrowsAsync<MigrationException>(() => runner.MigrateAsync(CancellationToken.None));
            Assert.Contains("schema/03_http_logs.sql was edited after it was applied", e.Message);
            Assert.Equal(MigrationState.Edited, (await runner.StatusAsync(CancellationToken.None)).Single(s => s.Version == 3).State);
        }
        finally
        {
            Directory.Delete(dir, true);
            await DropAsync(store, o);
        }
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Every_field_of_a_correlated_request_and_a_handshake_round_trips(string engine)
    {
        await InStoreAsync(engine, "rt", async (store, o) =>
        {
            await MigrateAsync(store, o);
            var v6 = StorageEvents.Request(7, StorageEvents.T0, clientIp: "2001:db8::42");
            var plain = StorageEvents.Request(8, StorageEvents.T0.AddSeconds(1), match: MatchStatus.PlainHttp);
            var hello = StorageEvents.Hello(StorageEvents.T0);
            await WriteAsync(store, o, [v6, plain], [hello]);

            var rows = await JsonRowsAsync(store, $"SELECT * FROM {o.Database}.http_logs ORDER BY connection_id FORMAT JSONEachRow");
            Assert.Equal(2, rows.Count);
            var r = rows[0];
            Assert.Equal("2026-11-20 10:15:30.000000", r.GetProperty("time").GetString());
            Assert.Equal("2001:db8::42", r.GetProperty("client_ip").GetString());
            Assert.Equal(50123, r.GetProperty("client_port").GetInt32());
            Assert.Equal("::ffff:198.51.100.7", r.GetProperty("server_ip").GetString());
            Assert.Equal(443, r.GetProperty("server_port").GetInt32());
            Assert.Equal("GET", r.GetProperty("method").GetString());
            Assert.Equal("shop.example", r.GetProperty("host").GetString());
            Assert.Equal("shop_vhost", r.GetProperty("vhost").GetString());
            Assert.Equal("/cart", r.GetProperty("path").GetString());
            Assert.Equal("q=1&x=%20", r.GetProperty("query").GetString());
            Assert.Equal("HTTP/2.0", r.GetProperty("protocol").GetString());
            Assert.Equal(200, r.GetProperty("status").GetInt32());
            Assert.Equal("1234", r.GetProperty("bytes_sent").ToString());
            Assert.Equal("5678", r.GetProperty("duration_us").ToString());
            Assert.Equal("7", r.GetProperty("connection_id").ToString());
            Assert.Equal(2, r.GetProperty("keepalive_index").GetInt32());
            Assert.Equal("Mozilla/5.0 (X11; Linux x86_64)", r.GetProperty("user_agent").GetString());
            Assert.Equal(["Host", "User-Agent", "Accept"], r.GetProperty("header_names").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(["shop.example", "Mozilla/5.0 (X11; Linux x86_64)", "*/*"], r.GetProperty("header_values").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("a1b2c3d4e5f6", r.GetProperty("header_signature").GetString());
            Assert.Equal("host,user-agent,accept", r.GetProperty("header_signature_raw").GetString());
            Assert.False(r.GetProperty("truncated").GetBoolean());
            Assert.Equal("TLSv1.3", r.GetProperty("req_tls_protocol").GetString());
            Assert.Equal("TLS_AES_128_GCM_SHA256", r.GetProperty("req_tls_cipher").GetString());
            Assert.Equal("shop.example", r.GetProperty("req_tls_sni").GetString());
            Assert.Equal("matched", r.GetProperty("match_status").GetString());
            Assert.Equal("2026-11-20 10:15:30.003000", r.GetProperty("correlated_at").GetString());
            Assert.Equal("2026-11-20 10:15:31.234567", r.GetProperty("tls_time").GetString());
            Assert.Equal("tcp", r.GetProperty("transport").GetString());
            Assert.Equal("shop.example", r.GetProperty("sni").GetString());
            Assert.Equal(["h2", "http/1.1"], r.GetProperty("alpn").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("1.3", r.GetProperty("tls_version").GetString());
            Assert.Equal(0x0303, r.GetProperty("legacy_version").GetInt32());
            Assert.Equal("t13d1516h2_8daaf6152771_02713d6af862", r.GetProperty("ja4").GetString());
            Assert.Equal("t13d1516h2_002f,0035,009c_0005,000a,000b", r.GetProperty("ja4_r").GetString());
            Assert.Equal("t13d1516h2_acb858a92679_18f69afefd3d", r.GetProperty("ja4_o").GetString());
            Assert.Equal("t13d1516h2_1301,1302_0000,0017", r.GetProperty("ja4_ro").GetString());
            Assert.Equal("cd08e31494f9531f560d64c695473da9", r.GetProperty("ja3").GetString());
            Assert.Equal("771,4865-4866,0-23,29-23,0", r.GetProperty("ja3_full").GetString());

            var p = rows[1];
            Assert.Equal("::ffff:192.0.2.10", p.GetProperty("client_ip").GetString());
            Assert.Equal("plain_http", p.GetProperty("match_status").GetString());
            Assert.Equal("", p.GetProperty("ja4").GetString());
            Assert.Equal("1970-01-01 00:00:00.000000", p.GetProperty("tls_time").GetString());

            var h = (await JsonRowsAsync(store, $"SELECT * FROM {o.Database}.tls_handshakes FORMAT JSONEachRow")).Single();
            Assert.Equal("2026-11-20 10:15:31.234567", h.GetProperty("time").GetString());
            Assert.Equal("::ffff:192.0.2.10", h.GetProperty("client_ip").GetString());
            Assert.Equal(50123, h.GetProperty("client_port").GetInt32());
            Assert.Equal("::ffff:198.51.100.7", h.GetProperty("server_ip").GetString());
            Assert.Equal(443, h.GetProperty("server_port").GetInt32());
            Assert.Equal("tcp", h.GetProperty("transport").GetString());
            Assert.Equal("shop.example", h.GetProperty("sni").GetString());
            Assert.Equal(["h2", "http/1.1"], h.GetProperty("alpn").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("1.3", h.GetProperty("tls_version").GetString());
            Assert.Equal(771, h.GetProperty("legacy_version").GetInt32());
            Assert.Equal("t13d1516h2_8daaf6152771_02713d6af862", h.GetProperty("ja4").GetString());
            Assert.Equal("t13d1516h2_002f,0035,009c_0005,000a,000b", h.GetProperty("ja4_r").GetString());
            Assert.Equal("t13d1516h2_acb858a92679_18f69afefd3d", h.GetProperty("ja4_o").GetString());
            Assert.Equal("t13d1516h2_1301,1302_0000,0017", h.GetProperty("ja4_ro").GetString());
            Assert.Equal("cd08e31494f9531f560d64c695473da9", h.GetProperty("ja3").GetString());
            Assert.Equal("771,4865-4866,0-23,29-23,0", h.GetProperty("ja3_full").GetString());
        });
    }

    /// <summary>A deterministic mix: 3 hosts, 40 IPs, 4 JA4s, 5 hours, every status class and method.</summary>
    internal static List<CorrelatedRequest> Mix(int count, DateTimeOffset start)
    {
        string[] hosts = ["a.example", "b.example", "c.example"];
        string[] methods = ["GET", "POST", "HEAD", "PUT"];
        int[] statuses = [101, 200, 204, 301, 404, 403, 500, 503];
        var list = new List<CorrelatedRequest>(count);
        for (var i = 0; i < count; i++)
        {
            var ip = $"10.0.{i % 5}.{i % 40}";
            var hello = StorageEvents.Hello(start) with { Ja4 = $"t13d15{i % 4}6h2_8daaf6152771_02713d6af862" };
            list.Add(StorageEvents.Request(i, start.AddSeconds(i * 17 % (5 * 3600)), clientIp: ip, host: hosts[i % 3],
                path: $"/p/{i % 23}", status: statuses[i % statuses.Length], method: methods[i % 4],
                userAgent: i % 9 == 0 ? "" : $"agent-{i % 6}", hello: hello,
                match: i % 7 == 0 ? MatchStatus.NoHandshakeSeen : MatchStatus.Matched));
        }
        return list;
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task The_materialized_view_equals_a_group_by_over_http_logs(string engine)
    {
        await InStoreAsync(engine, "mv", async (store, o) =>
        {
            o.BatchSize = 700;
            await MigrateAsync(store, o);
            await WriteAsync(store, o, Mix(3000, StorageEvents.T0));
            var db = o.Database;
            var fromView = await TextAsync(store, $"""
                SELECT hour, host, client_ip, ja4, sum(requests), min(first_seen), max(last_seen), sum(bytes_sent), sum(duration_us),
                       sum(status_1xx), sum(status_2xx), sum(status_3xx), sum(status_4xx), sum(status_5xx),
                       sum(method_get), sum(method_post), sum(method_head), sum(method_other), sum(no_user_agent), sum(tls_matched),
                       sum(keepalive_reused), uniqCombinedMerge(12)(distinct_paths), uniqCombinedMerge(12)(distinct_user_agents)
                FROM {db}.agg_host_ip_ja4_1h GROUP BY hour, host, client_ip, ja4 ORDER BY hour, host, client_ip, ja4
                """);
            var direct = await TextAsync(store, $"""
                SELECT toStartOfHour(time) AS hour, host, client_ip, ja4, count(), min(time), max(time), sum(bytes_sent), sum(duration_us),
                       countIf(status >= 100 AND status < 200), countIf(status >= 200 AND status < 300), countIf(status >= 300 AND status < 400),
                       countIf(status >= 400 AND status < 500), countIf(status >= 500 AND status < 600),
                       countIf(method = 'GET'), countIf(method = 'POST'), countIf(method = 'HEAD'), countIf(method NOT IN ('GET', 'POST', 'HEAD')),
                       countIf(user_agent = ''), countIf(match_status = 'matched'), countIf(keepalive_index > 0),
                       uniqExact(path), uniqExact(user_agent)
                FROM {db}.http_logs GROUP BY hour, host, client_ip, ja4 ORDER BY hour, host, client_ip, ja4
                """);
            Assert.Equal(direct, fromView);
            Assert.True(direct.Split('\n').Length > 100, "the mix spreads over many groups");
            Assert.Equal("3000", await TextAsync(store, $"SELECT sum(requests) FROM {db}.agg_host_ip_ja4_1h"));
            // Rows written since migration 16 leave the earlier uniq states empty.
            Assert.Equal("0\t0", await TextAsync(store, $"SELECT uniqMerge(paths), uniqMerge(user_agents) FROM {db}.agg_host_ip_ja4_1h"));
            Assert.Equal(await TrafficDirectAsync(store, db), await TrafficFromViewAsync(store, db));
        });
    }

    private static Task<string> TrafficFromViewAsync(IStoreExecutor store, string db) => TextAsync(store, $"""
        SELECT minute, host, match_status, tls_version, alpn, sum(requests), sum(bytes_sent), sum(status_4xx), sum(status_5xx),
               uniqMerge(client_ips), uniqMerge(ja4s)
        FROM {db}.agg_traffic_1m GROUP BY minute, host, match_status, tls_version, alpn ORDER BY ALL
        """);

    private static Task<string> TrafficDirectAsync(IStoreExecutor store, string db) => TextAsync(store, $"""
        SELECT toStartOfMinute(time) AS m, host, toString(match_status) AS ms, tls_version, if(empty(alpn), '', alpn[1]) AS a, count(),
               sum(bytes_sent), countIf(status >= 400 AND status < 500), countIf(status >= 500 AND status < 600),
               uniqExact(client_ip), uniqExactIf(ja4, ja4 != '')
        FROM {db}.http_logs GROUP BY m, host, ms, tls_version, a ORDER BY ALL
        """);

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task A_client_sending_every_request_with_a_new_path_and_user_agent_keeps_a_bounded_hourly_state(string engine)
    {
        await InStoreAsync(engine, "bounded", async (store, o) =>
        {
            o.BatchSize = 5000;
            await MigrateAsync(store, o);
            // One client, one host, one JA4, one hour: 20,000 requests, each with a path and a User-Agent of its own.
            const int n = 20_000;
            await WriteAsync(store, o, Enumerable.Range(0, n).Select(i =>
                StorageEvents.Request(i, StorageEvents.T0.AddMilliseconds(i * 50), "203.0.113.77", path: $"/scan/{i}", userAgent: $"rotating-{i}")));
            var db = o.Database;
            await store.QueryAsync($"OPTIMIZE TABLE {db}.agg_host_ip_ja4_1h FINAL", null, "TabSeparated", CancellationToken.None);
            Assert.Equal($"1\t{n}", await TextAsync(store, $"SELECT count(), sum(requests) FROM {db}.agg_host_ip_ja4_1h"));
            // uniqCombined(12) ends as a HyperLogLog of 2^12 cells: standard error 1.04 / sqrt(4096) = 1.6 %; 5 % is three of them.
            var q = new StorageQueries(store, o);
            var hour = Assert.Single((await q.IpAsync(IPAddress.Parse("203.0.113.77"), StorageEvents.T0.AddHours(-1), StorageEvents.T0.AddHours(2))).Hours);
            Assert.InRange(hour.UniquePaths, n * 0.95, n * 1.05);
            Assert.InRange(hour.UniqueUserAgents, n * 0.95, n * 1.05);
            // Each state is at most the sketch's 4,096 six-bit cells (3,072 bytes) and a small header, however many values it
            // saw; a uniq state writes 4 bytes a value (80,000 bytes for these).
            var sizes = (await TextAsync(store, $"SELECT length(toString(distinct_paths)), length(toString(distinct_user_agents)) FROM {db}.agg_host_ip_ja4_1h"))
                .Split('\t').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToList();
            Assert.All(sizes, size => Assert.InRange(size, 3_072, 4_096));
            Assert.InRange(int.Parse(await TextAsync(store, $"SELECT length(toString(uniqState(path))) FROM {db}.http_logs"), CultureInfo.InvariantCulture),
                4 * n, 4 * n + 16);
            // The per-IP projection carries the new states too, so the per-IP hours keep reading it.
            Assert.Equal("distinct_paths\ndistinct_user_agents", await TextAsync(store, $"""
                SELECT DISTINCT column FROM system.projection_parts_columns
                WHERE database = '{db}' AND table = 'agg_host_ip_ja4_1h' AND active AND column LIKE 'distinct_%' ORDER BY column
                """));
        });
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Distinct_paths_and_user_agents_written_before_the_bounded_states_still_read(string engine)
    {
        await InStoreAsync(engine, "bounded_upgrade", async (store, o) =>
        {
            await MigrateBelowAsync(store, o, 16);
            var db = o.Database;
            var h0 = new DateTimeOffset(2026, 11, 20, 8, 10, 0, TimeSpan.Zero);
            var h1 = h0.AddHours(1);
            var h2 = h0.AddHours(2);
            CorrelatedRequest At(int seq, DateTimeOffset t, string path, string ua) => StorageEvents.Request(seq, t, "198.51.100.44", path: path, userAgent: ua);
            // Before the upgrade: hour 0 with 3 paths and 2 User-Agents, and the start of hour 1 with 1 path and 1 User-Agent.
            await WriteAsync(store, o, [At(1, h0, "/a", "ua-1"), At(2, h0.AddMinutes(1), "/b", "ua-2"), At(3, h0.AddMinutes(2), "/c", "ua-1"),
                At(4, h1, "/d", "ua-1")]);
            await MigrateAsync(store, o);
            var columns = await TextAsync(store, $"SELECT name FROM system.columns WHERE database = '{db}' AND table = 'agg_host_ip_ja4_1h' " +
                "AND name IN ('paths', 'user_agents', 'distinct_paths', 'distinct_user_agents', 'client_ports', 'header_signatures') ORDER BY name");
            Assert.Equal("distinct_paths\ndistinct_user_agents\npaths\nuser_agents", columns);
            // After it: the rest of hour 1 with 2 other paths and 3 User-Agents, and hour 2 with 4 paths and 1 User-Agent.
            await WriteAsync(store, o, [At(5, h1.AddMinutes(30), "/e", "ua-1"), At(6, h1.AddMinutes(31), "/f", "ua-3"), At(7, h1.AddMinutes(32), "/e", "ua-4"),
                At(8, h2, "/g", "ua-5"), At(9, h2.AddMinutes(1), "/h", "ua-5"), At(10, h2.AddMinutes(2), "/i", "ua-5"), At(11, h2.AddMinutes(3), "/j", "ua-5")]);
            var hours = (await new StorageQueries(store, o).IpAsync(IPAddress.Parse("198.51.100.44"), h0.AddHours(-1), h2.AddHours(1))).Hours;
            // Hour 0 from the earlier states, hour 2 from the new ones; hour 1, split by the upgrade, counts its larger half
            // (paths 1 before, 2 after; User-Agents 1 before, 3 after).
            Assert.Equal([(h0.Hour, 3L, 3L, 2L), (h1.Hour, 4L, 2L, 3L), (h2.Hour, 4L, 4L, 1L)],
                hours.Select(h => (h.Hour.Hour, h.Requests, h.UniquePaths, h.UniqueUserAgents)));
        });
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task The_per_minute_aggregates_take_in_the_requests_stored_before_their_migration(string engine)
    {
        await InStoreAsync(engine, "backfill", async (store, o) =>
        {
            await MigrateBelowAsync(store, o, 11);
            await WriteAsync(store, o, Mix(1200, StorageEvents.T0));
            await MigrateAsync(store, o);
            var db = o.Database;
            var direct = await TrafficDirectAsync(store, db);
            Assert.True(direct.Split('\n').Length > 20, "the mix spreads over many minutes and TLS facts");
            Assert.Equal(direct, await TrafficFromViewAsync(store, db));
            // Later requests reach it through the view, the earlier ones are not counted twice.
            await WriteAsync(store, o, Mix(300, StorageEvents.T0.AddHours(5)));
            Assert.Equal("1500", await TextAsync(store, $"SELECT sum(requests) FROM {db}.agg_traffic_1m"));
            Assert.Equal(await TrafficDirectAsync(store, db), await TrafficFromViewAsync(store, db));
        });
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task User_agents_stored_before_the_low_cardinality_migration_read_the_same_after_it(string engine)
    {
        await InStoreAsync(engine, "lcua", async (store, o) =>
        {
            await MigrateBelowAsync(store, o, 13);
            var db = o.Database;
            var typeSql = $"SELECT type FROM system.columns WHERE database = '{db}' AND table = 'http_logs' AND name = 'user_agent'";
            Assert.Equal("String", await TextAsync(store, typeSql));
            // Hostile and unusual values beside the mix's: quotes, control characters, non-ASCII, 8 KB, and one per request.
            string[] odd = ["<script>alert(1)</script>", "a'b\"c\\d\te\nf", "Mözilla/5.0 (日本語) 🤖", new string('x', 8192)];
            var before = Mix(900, StorageEvents.T0).Concat(odd.Select((ua, i) =>
                StorageEvents.Request(10_000 + i, StorageEvents.T0.AddMinutes(i), userAgent: ua)))
                .Concat(Enumerable.Range(0, 300).Select(i => StorageEvents.Request(20_000 + i, StorageEvents.T0.AddMinutes(30), userAgent: $"rnd-{i * 7919}")))
                .ToList();
            // The writer sends LowCardinality(String): the engine converts it into the String column of a store not yet migrated.
            await WriteAsync(store, o, before);
            var listSql = $"SELECT user_agent, count() FROM {db}.http_logs GROUP BY user_agent ORDER BY user_agent";
            var listed = await TextAsync(store, listSql);
            async Task ExpectValuesAsync()
            {
                Assert.Equal(before.Select(r => r.Request.UserAgent).Distinct().Count().ToString(CultureInfo.InvariantCulture),
                    await TextAsync(store, $"SELECT uniqExact(user_agent) FROM {db}.http_logs"));
                // (The 8 KB one by its length: a parameter that long exceeds the HTTP fixture's URL limit.)
                Assert.Equal("1", await TextAsync(store, $"SELECT count() FROM {db}.http_logs WHERE user_agent = repeat('x', 8192)"));
                foreach (var ua in odd[..^1])
                {
                    Assert.Equal("1", await TextAsync(store, $"SELECT count() FROM {db}.http_logs WHERE user_agent = {{ua:String}}",
                        new Dictionary<string, string> { ["ua"] = ua }));
                }
            }
            await ExpectValuesAsync();

            await MigrateBelowAsync(store, o, 16);
            Assert.Equal("LowCardinality(String)", await TextAsync(store, typeSql));
            Assert.Equal(listed, await TextAsync(store, listSql));
            await ExpectValuesAsync();
            // Requests after it land in the new column; a substring search sees both, and the hourly aggregates'
            // distinct User-Agents (uniq states from the String column and from the new one) still merge.
            await WriteAsync(store, o, [StorageEvents.Request(30_000, StorageEvents.T0.AddMinutes(5), userAgent: "<script>alert(1)</script>"),
                StorageEvents.Request(30_001, StorageEvents.T0.AddMinutes(6), userAgent: "after-the-migration")]);
            Assert.Equal("2", await TextAsync(store,
                $"SELECT count() FROM {db}.http_logs WHERE positionCaseInsensitiveUTF8(user_agent, {{q:String}}) > 0",
                new Dictionary<string, string> { ["q"] = "<SCRIPT>" }));
            Assert.Equal((before.Select(r => r.Request.UserAgent).Distinct().Count() + 1).ToString(CultureInfo.InvariantCulture),
                await TextAsync(store, $"SELECT uniqMerge(user_agents) FROM {db}.agg_host_ip_ja4_1h"));
            // A batch spilled by an earlier release holds the column as String: replayed after the upgrade, it converts.
            var spilled = new NativeBlockEncoder();
            var time = spilled.Add("time", new FixedColumn<long>("DateTime64(6, 'UTC')"));
            var ua = spilled.Add("user_agent", new StringColumn());
            time.Add(StorageEvents.T0.ToUnixTimeMilliseconds() * 1000);
            ua.Add("spilled-before-the-upgrade");
            spilled.EndRow();
            var body = new ByteBuffer();
            spilled.Encode(body);
            await store.InsertAsync(db + ".http_logs", spilled.ColumnNames, "Native", body.Memory);
            Assert.Equal("1", await TextAsync(store, $"SELECT count() FROM {db}.http_logs WHERE user_agent = 'spilled-before-the-upgrade'"));
        });
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Retention_drops_expired_parts_and_follows_the_configuration(string engine)
    {
        await InStoreAsync(engine, "ttl", async (store, o) =>
        {
            o.Retention.HttpLogsDays = 3;
            await MigrateAsync(store, o);
            var now = DateTimeOffset.UtcNow;
            await WriteAsync(store, o, [StorageEvents.Request(1, now.AddDays(-10)), StorageEvents.Request(2, now.AddDays(-5))]);
            await WriteAsync(store, o, [StorageEvents.Request(3, now.AddMinutes(-5))]);
            await store.QueryAsync($"OPTIMIZE TABLE {o.Database}.http_logs FINAL");
            Assert.Equal("3", await TextAsync(store, $"SELECT arrayStringConcat(groupArray(toString(connection_id)), ',') FROM {o.Database}.http_logs"));

            // A new retention is applied by ALTER at start-up, without a new migration.
            o.Retention.HttpLogsDays = 9;
            await MigrateAsync(store, o);
            var engineFull = await TextAsync(store, "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'http_logs'",
                new Dictionary<string, string> { ["db"] = o.Database });
            Assert.Contains("toIntervalDay(9)", engineFull);
            Assert.Contains("ttl_only_drop_parts = 1", engineFull);
        });
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Scores_anomalies_and_known_fingerprints_are_written_and_read(string engine)
    {
        await InStoreAsync(engine, "ml", async (store, o) =>
        {
            await MigrateAsync(store, o);
            var queries = new StorageQueries(store, o);
            var t = StorageEvents.T0;
            ScoreRecord Score(int i, bool anomaly, string level) => new(t.AddMinutes(i), t.AddMinutes(i - 5), t.AddMinutes(i),
                "shop.example", IPAddress.Parse($"203.0.113.{i}"), "t13d1516h2_8daaf6152771_02713d6af862", 0.5f + i / 100f, level,
                anomaly ? "python-requests" : "", anomaly, "iforest-1",
                new Dictionary<string, double> { ["requests"] = 10 * i, ["uniq_paths"] = i }, anomaly ? $"burst of {10 * i} requests" : "");
            await queries.WriteScoresAsync([Score(1, false, "none"), Score(2, true, "high"), Score(3, true, "medium")], store);
            Assert.Equal(3, await CountAsync(store, o.Database + ".ml_all_scores"));

            var anomalies = await queries.AnomaliesAsync(t, t.AddHours(1));
            Assert.Equal(["203.0.113.3", "203.0.113.2"], anomalies.Select(a => a.ClientIp.ToString()));
            var high = Assert.Single(await queries.AnomaliesAsync(t, t.AddHours(1), ["high"]));
            Assert.Equal("python-requests", high.BotName);
            Assert.Equal(0.52f, high.Score, 3);
            Assert.Equal(20, high.Features["requests"]);
            Assert.Equal("burst of 20 requests", high.Explanation);
            Assert.Equal(t.AddMinutes(2), high.Time);
            Assert.Equal(t.AddMinutes(-3), high.WindowStart);

            var ipScores = await queries.ScoresForIpAsync(IPAddress.Parse("203.0.113.1"), t, t.AddHours(1));
            Assert.False(Assert.Single(ipScores).IsAnomaly);

            await queries.UpsertKnownFingerprintsAsync([new KnownFingerprint("t13d1516h2_8daaf6152771_02713d6af862", "Chrome", "BoringSSL",
                "desktop", "any", "browser", "foxio", "")], store);
            await WriteAsync(store, o, [StorageEvents.Request(1, t)]);
            var d = await queries.Ja4Async("t13d1516h2_8daaf6152771_02713d6af862", t.AddHours(-1), t.AddHours(1));
            Assert.Equal("Chrome", d.Application);
            Assert.Equal("browser", d.Category);
            Assert.Equal(1, d.Requests);
        });
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Queries_return_what_was_written(string engine)
    {
        await InStoreAsync(engine, "q", async (store, o) =>
        {
            await MigrateAsync(store, o);
            var t = StorageEvents.T0;
            var ja4A = "t13d1516h2_8daaf6152771_02713d6af862";
            var ja4B = "t13d0000h1_000000000000_000000000000";
            var events = new List<CorrelatedRequest>();
            // 5 requests from 10.1.1.1 (ja4 A, /a), 3 from 10.1.1.2 (ja4 B, /b, 404), 1 from 10.1.1.3 outside the range.
            for (var i = 0; i < 5; i++)
            {
                events.Add(StorageEvents.Request(i, t.AddMinutes(i), "10.1.1.1", path: "/a", hello: StorageEvents.Hello(t) with { Ja4 = ja4A }));
            }
            for (var i = 0; i < 3; i++)
            {
                events.Add(StorageEvents.Request(10 + i, t.AddMinutes(10 + i), "10.1.1.2", host: "b.example", path: "/b", status: 404,
                    hello: StorageEvents.Hello(t) with { Ja4 = ja4B }));
            }
            events.Add(StorageEvents.Request(99, t.AddDays(-2), "10.1.1.3", path: "/old"));
            await WriteAsync(store, o, events);
            var q = new StorageQueries(store, o);
            var from = t.AddHours(-1);
            var to = t.AddHours(1);

            var stats = await q.StatsAsync(from, to);
            Assert.Equal(new TrafficStats(8, 2, 2, 2, 8 * 1234, 3, 0, 8), stats);

            var topJa4 = await q.TopAsync(TopDimension.Ja4, from, to);
            Assert.Equal([(ja4A, 5L), (ja4B, 3L)], topJa4.Select(e => (e.Key, e.Requests)));
            var topHosts = await q.TopAsync(TopDimension.Host, from, to);
            Assert.Equal([("shop.example", 5L), ("b.example", 3L)], topHosts.Select(e => (e.Key, e.Requests)));
            var topIps = await q.TopAsync(TopDimension.ClientIp, from, to, 1);
            Assert.Equal([("::ffff:10.1.1.1", 5L)], topIps.Select(e => (e.Key, e.Requests)));
            var topPaths = await q.TopAsync(TopDimension.Path, from, to);
            Assert.Equal([("/a", 5L), ("/b", 3L)], topPaths.Select(e => (e.Key, e.Requests)));

            var ip = await q.IpAsync(IPAddress.Parse("10.1.1.2"), from, to);
            var hour = Assert.Single(ip.Hours);
            Assert.Equal((new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero), "b.example", ja4B, 3L, 1L, 3L), (hour.Hour, hour.Host, hour.Ja4, hour.Requests, hour.UniquePaths, hour.Status4xx));
            Assert.Equal([12L, 11L, 10L], ip.RecentRequests.Select(r => (long)(r.Time - t).TotalMinutes));
            Assert.All(ip.RecentRequests, r => Assert.Equal(("/b", 404, "matched"), (r.Path, r.Status, r.MatchStatus)));

            var old = await q.IpAsync(IPAddress.Parse("10.1.1.3"), from, to);
            Assert.Empty(old.Hours);
            Assert.Empty(old.RecentRequests);

            var d = await q.Ja4Async(ja4A, from, to);
            Assert.Equal((5L, 1L), (d.Requests, d.UniqueIps));
            Assert.Equal("::ffff:10.1.1.1", Assert.Single(d.TopIps).Key);
            Assert.Null(d.Application);
        });
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public async Task Parameters_bind_server_side_and_errors_carry_the_engine_code(string engine)
    {
        await using var store = fixture.Open(engine);
        var p = new Dictionary<string, string> { ["ip"] = "192.0.2.1", ["s"] = "it's \"quoted\"", ["n"] = "42" };
        var text = await TextAsync(store, "SELECT toString({ip:IPv6}), length({s:String}), {n:UInt32} + 1", p);
        Assert.Equal("::ffff:192.0.2.1\t13\t43", text);
        if (engine == "http")
        {
            // The driver sent the values as the server's param_* values, not spliced into the SQL.
            lock (fixture.Http.Requests)
            {
                Assert.Contains(fixture.Http.Requests, r => r.Contains("param_ip=192.0.2.1", StringComparison.Ordinal));
            }
        }
        var e = await Assert.ThrowsAsync<StoreException>(() => store.QueryAsync("SELECT no_such_column FROM system.one"));
        Assert.Equal(47, e.Code);
        Assert.Contains("UNKNOWN_IDENTIFIER", e.Message);
        var missing = await Assert.ThrowsAsync<StoreException>(() =>
            store.InsertAsync("no_such_db.no_such_table", ["a"], "RowBinary", new byte[] { 1, 0, 0, 0 }));
        Assert.Contains(missing.Code, new[] { 60, 81 });
    }
}
