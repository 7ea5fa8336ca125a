using System.Text;
using Ja4.Modules.Storage.Engines;

namespace Ja4.Tests.Storage;

/// <summary>The reader pool on real chDB connections (the collection's data path, opened read-only).</summary>
[Collection("chdb")]
public sealed class ExecutorPoolTests(ChdbFixture fixture)
{
    private ExecutorPool Pool(int size) =>
        new(Enumerable.Range(0, size).Select(_ => (IStoreExecutor)ChdbExecutor.Open(fixture.DataPath, readOnly: true)).ToList());

    private static async Task<string> Text(IStoreExecutor e, string sql) => Encoding.UTF8.GetString(await e.QueryAsync(sql)).Trim();

    [Fact]
    public async Task Two_connections_run_two_queries_at_once()
    {
        await using var pool = Pool(2);
        // A long query holds one connection; the other one sees it running. Through one connection the
        // second query could only start after the first ended, and would never see it.
        var slow = pool.QueryAsync("SELECT sleep(2) /* ja4-pool-probe */");
        var seen = "0";
        for (var i = 0; i < 40 && seen == "0" && !slow.IsCompleted; i++)
        {
            seen = await Text(pool, "SELECT count() FROM system.processes WHERE query LIKE '%ja4-pool-probe */' AND query NOT LIKE '%system.processes%'");
        }
        await slow;
        Assert.Equal("1", seen);
    }

    [Fact]
    public async Task A_failed_query_gives_its_connection_back_and_every_caller_gets_its_own_answer()
    {
        await using var pool = Pool(1);
        await Assert.ThrowsAsync<StoreException>(() => pool.QueryAsync("SELECT * FROM no_such_table_anywhere"));
        await Assert.ThrowsAsync<StoreException>(() => pool.QueryAsync("CREATE TABLE default.t (x UInt8) ENGINE = Memory"));
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Text(pool, $"SELECT {i} * 7")));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (i * 7).ToString(System.Globalization.CultureInfo.InvariantCulture)), answers);
        Assert.Equal(1, pool.Size);
    }

    [Fact]
    public async Task An_empty_pool_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExecutorPool([]));
        await Task.CompletedTask;
    }
}
