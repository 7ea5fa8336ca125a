using static Ja4.Tests.Storage.StorageTestKit;

namespace Ja4.Tests.Storage;

/// <summary>
/// The copy-and-swap procedure of docs/schema.md for a change ClickHouse cannot make in place
/// (here: a new partition key on http_logs), run step by step.
/// </summary>
[Collection("chdb")]
public sealed class CopyAndSwapTests(ChdbFixture fixture)
{
    [Fact]
    public async Task A_new_partition_key_is_applied_by_copy_and_swap_and_the_view_keeps_working()
    {
        await using var store = fixture.Open("chdb");
        var o = fixture.Options("chdb", "swap");
        var db = o.Database;
        try
        {
            await MigrateAsync(store, o);
            await WriteAsync(store, o, StorageContractTests.Mix(2_000, StorageEvents.T0));

            // 1. Create the new table from the current definition with the change.
            var create = System.Text.Encoding.UTF8.GetString(await store.QueryAsync(
                $"SELECT create_table_query FROM system.tables WHERE database = '{db}' AND name = 'http_logs'", null, "RawBLOB"));
            Assert.Contains("PARTITION BY toYYYYMMDD(time)", create);
            create = create.Replace($"{db}.http_logs", $"{db}.http_logs_new", StringComparison.Ordinal)
                .Replace("PARTITION BY toYYYYMMDD(time)", "PARTITION BY toMonday(time)", StringComparison.Ordinal);
            await store.QueryAsync(create);
            // 2. Copy the data (by partition on big tables).
            await store.QueryAsync($"INSERT INTO {db}.http_logs_new SELECT * FROM {db}.http_logs");
            Assert.Equal("2000", await TextAsync(store, $"SELECT count() FROM {db}.http_logs_new"));
            // 3. Swap atomically.
            await store.QueryAsync($"EXCHANGE TABLES {db}.http_logs AND {db}.http_logs_new");
            // 4. The old table is kept until checked, then dropped.
            await store.QueryAsync($"DROP TABLE {db}.http_logs_new SYNC");

            var key = await TextAsync(store, $"SELECT partition_key FROM system.tables WHERE database = '{db}' AND name = 'http_logs'");
            Assert.Equal("toMonday(time)", key);
            Assert.Equal("2000", await TextAsync(store, $"SELECT count() FROM {db}.http_logs"));
            // The materialized view reads from the swapped table: new rows still reach the aggregates.
            await WriteAsync(store, o, [StorageEvents.Request(5_000, StorageEvents.T0)]);
            Assert.Equal("2001", await TextAsync(store, $"SELECT sum(requests) FROM {db}.agg_host_ip_ja4_1h"));
            Assert.Equal("2001", await TextAsync(store, $"SELECT count() FROM {db}.http_logs"));
        }
        finally
        {
            await DropAsync(store, o);
        }
    }
}
