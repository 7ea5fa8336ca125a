using System.Globalization;
using System.Threading.Channels;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Writer;
using Microsoft.Extensions.Logging.Abstractions;
using static Ja4.Tests.Storage.StorageTestKit;

namespace Ja4.Tests.Storage;

/// <summary>
/// The writer against a ClickHouse server that goes away: the HTTP interface fixture over chDB
/// is stopped (connections refused) and started again on the same port.
/// </summary>
[Collection("chdb")]
public sealed class StorageWriterFaultTests(ChdbFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "gave up waiting: " + what);
            await Task.Delay(20);
        }
    }

    private StorageOptions Options(ClickHouseHttpFixture server, string prefix)
    {
        var o = fixture.Options("http", prefix);
        o.ClickHouse.ConnectionString = server.ConnectionString;
        o.ClickHouse.CommandTimeout = TimeSpan.FromSeconds(20);
        o.BatchSize = 500;
        o.BatchAge = TimeSpan.FromMilliseconds(50);
        o.InsertAttempts = 2;
        o.RetryDelay = TimeSpan.FromMilliseconds(20);
        o.RetryMaxDelay = TimeSpan.FromMilliseconds(200);
        return o;
    }

    /// <summary>Part block ranges must follow sequence ranges: batches reached the table in order.</summary>
    private static async Task AssertInsertOrderAsync(IStoreExecutor store, string db)
    {
        var lines = (await TextAsync(store, $"SELECT _part, min(connection_id), max(connection_id) FROM {db}.http_logs GROUP BY _part"))
            .Split('\n');
        var parts = lines.Select(l => l.Split('\t'))
            .Select(f => (Block: long.Parse(f[0].Split('_')[1], CultureInfo.InvariantCulture),
                Min: long.Parse(f[1], CultureInfo.InvariantCulture), Max: long.Parse(f[2], CultureInfo.InvariantCulture)))
            .OrderBy(p => p.Block).ToList();
        for (var i = 1; i < parts.Count; i++)
        {
            Assert.True(parts[i - 1].Max < parts[i].Min, $"part {parts[i].Block} holds rows older than part {parts[i - 1].Block}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_store_outage_during_sustained_ingest_loses_nothing_and_keeps_order(int concurrency)
    {
        await using var server = new ClickHouseHttpFixture(fixture.DataPath);
        await server.StartAsync();
        var o = Options(server, "outage" + concurrency);
        o.InsertConcurrency = concurrency;
        await using var store = new ClickHouseExecutor(o.ClickHouse);
        await using var direct = fixture.Open("chdb");
        await MigrateAsync(direct, o);
        var metrics = new Ja4Metrics();
        var channel = Channel.CreateBounded<CorrelatedRequest>(new BoundedChannelOptions(5000) { FullMode = BoundedChannelFullMode.Wait });
        using var spill = new SpillQueue(o.SpillPath, o.SpillMaxMb << 20, 1 << 20, NullLogger.Instance);
        using var writer = new StorageWriter(store, o, channel.Reader, null, spill, metrics, TimeProvider.System, NullLogger.Instance);
        await writer.StartAsync(CancellationToken.None);
        const int total = 30_000;
        try
        {
            for (var i = 0; i < total; i++)
            {
                await channel.Writer.WriteAsync(StorageEvents.Request(i, StorageEvents.T0.AddMilliseconds(i)));
                if (i == 5_000)
                {
                    await Until(() => writer.DurableRows >= 4_000, "first rows written");
                    await server.StopAsync();
                }
                if (i == 20_000)
                {
                    await Until(() => metrics.Read("ja4_storage_spilled_rows_total") >= 5_000, "rows spilled during the outage");
                    await server.StartAsync();
                }
            }
            channel.Writer.Complete();
            await writer.ExecuteTask!.WaitAsync(Patience);

            Assert.Equal($"{total}\t{total}\t0\t{total - 1}",
                await TextAsync(direct, $"SELECT count(), uniqExact(connection_id), min(connection_id), max(connection_id) FROM {o.Database}.http_logs"));
            Assert.Equal(total.ToString(CultureInfo.InvariantCulture), await TextAsync(direct, $"SELECT sum(requests) FROM {o.Database}.agg_host_ip_ja4_1h"));
            if (concurrency == 1)
            {
                // With overlapping inserts, two batches in flight together may be committed either way round.
                await AssertInsertOrderAsync(direct, o.Database);
            }
            Assert.True(metrics.Read("ja4_storage_replayed_rows_total") >= 5_000);
            Assert.Equal(metrics.Read("ja4_storage_spilled_rows_total"), metrics.Read("ja4_storage_replayed_rows_total"));
            Assert.True(metrics.Read("ja4_storage_insert_errors_total") > 0);
            Assert.Equal(total, metrics.Read("ja4_storage_rows_durable_total"));
            Assert.Equal(0, spill.Bytes);
        }
        finally
        {
            await DropAsync(direct, o);
        }
    }

    public static IEnumerable<object[]> FullSpills()
    {
        yield return ["size-cap"];
        if (Environment.UserName == "root" && File.Exists("/bin/mount"))
        {
            yield return ["tmpfs"];
        }
    }

    [Theory]
    [MemberData(nameof(FullSpills))]
    public async Task A_full_spill_disk_back_pressures_ingest_without_crashing_and_recovers(string kind)
    {
        await using var server = new ClickHouseHttpFixture(fixture.DataPath);
        await server.StartAsync();
        var o = Options(server, "full");
        var mount = Directory.CreateTempSubdirectory("ja4-spill-tmpfs-").FullName;
        if (kind == "tmpfs")
        {
            // A real small filesystem: writes fail with ENOSPC long before SpillMaxMb.
            Assert.Equal(0, Run("mount", $"-t tmpfs -o size=512k tmpfs {mount}"));
            o.SpillPath = mount;
            o.SpillMaxMb = 1024;
        }
        else
        {
            o.SpillMaxMb = 1;
        }
        await using var store = new ClickHouseExecutor(o.ClickHouse);
        await using var direct = fixture.Open("chdb");
        await MigrateAsync(direct, o);
        await server.StopAsync();
        var metrics = new Ja4Metrics();
        var channel = Channel.CreateBounded<CorrelatedRequest>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.Wait });
        var spill = new SpillQueue(o.SpillPath, o.SpillMaxMb << 20, 256 << 10, NullLogger.Instance);
        using var writer = new StorageWriter(store, o, channel.Reader, null, spill, metrics, TimeProvider.System, NullLogger.Instance);
        await writer.StartAsync(CancellationToken.None);
        try
        {
            var accepted = 0;
            var refusedInARow = 0;
            // Offer rows without waiting until the writer stops taking them: back-pressure.
            while (refusedInARow < 200)
            {
                if (channel.Writer.TryWrite(StorageEvents.Request(accepted, StorageEvents.T0.AddMilliseconds(accepted))))
                {
                    accepted++;
                    refusedInARow = 0;
                }
                else
                {
                    refusedInARow++;
                    await Task.Delay(5);
                }
                Assert.True(accepted < 200_000, "the writer never pushed back");
            }
            await Until(() => metrics.Read("ja4_storage_spill_full_total") > 0, "the spill queue to report full");
            Assert.False(writer.ExecuteTask!.IsCompleted, "the writer must keep running");
            Assert.True(metrics.Read("ja4_storage_spilled_rows_total") > 0);
            Assert.Equal(0, metrics.Read("ja4_storage_rows_lost_total"));

            await server.StartAsync();
            for (var i = 0; i < 2_000; i++)
            {
                await channel.Writer.WriteAsync(StorageEvents.Request(accepted, StorageEvents.T0.AddMilliseconds(accepted)));
                accepted++;
            }
            channel.Writer.Complete();
            await writer.ExecuteTask.WaitAsync(Patience);
            Assert.Equal($"{accepted}\t{accepted}",
                await TextAsync(direct, $"SELECT count(), uniqExact(connection_id) FROM {o.Database}.http_logs"));
            await AssertInsertOrderAsync(direct, o.Database);
        }
        finally
        {
            spill.Dispose();
            if (kind == "tmpfs")
            {
                Run("umount", mount);
            }
            Directory.Delete(mount, true);
            await DropAsync(direct, o);
        }
    }

    private static int Run(string file, string args)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        p.WaitForExit();
        return p.ExitCode;
    }

    [Fact]
    public async Task Rows_spilled_before_a_shutdown_are_replayed_by_the_next_writer()
    {
        await using var server = new ClickHouseHttpFixture(fixture.DataPath);
        await server.StartAsync();
        var o = Options(server, "restart");
        await using var store = new ClickHouseExecutor(o.ClickHouse);
        await using var direct = fixture.Open("chdb");
        await MigrateAsync(direct, o);
        await server.StopAsync();
        try
        {
            // First run: the server is down the whole time; graceful shutdown leaves the rows in the spill queue.
            var first = new Ja4Metrics();
            var channel = Channel.CreateUnbounded<CorrelatedRequest>();
            for (var i = 0; i < 3_000; i++)
            {
                channel.Writer.TryWrite(StorageEvents.Request(i, StorageEvents.T0.AddMilliseconds(i)));
            }
            using (var spill = new SpillQueue(o.SpillPath, o.SpillMaxMb << 20, 1 << 20, NullLogger.Instance))
            using (var writer = new StorageWriter(store, o, channel.Reader, null, spill, first, TimeProvider.System, NullLogger.Instance))
            {
                await writer.StartAsync(CancellationToken.None);
                await Until(() => writer.DurableRows == 3_000, "the rows to be spilled");
                // The writer keeps retrying the queue until it is stopped: a graceful shutdown.
                await writer.StopAsync(CancellationToken.None);
            }
            Assert.Equal(3_000, first.Read("ja4_storage_spilled_rows_total"));
            Assert.Equal(3_000, first.Read("ja4_storage_rows_durable_total"));
            Assert.Equal("0", await TextAsync(direct, $"SELECT count() FROM {o.Database}.http_logs"));

            // Second run: the server is back; the queue is replayed before anything new.
            await server.StartAsync();
            var second = new Ja4Metrics();
            await WriteAsync(store, o, Enumerable.Range(3_000, 1_000).Select(i => StorageEvents.Request(i, StorageEvents.T0.AddMilliseconds(i))), metrics: second);
            // New batches queue behind the spilled ones (order), so they are replayed too.
            Assert.Equal(3_000 + second.Read("ja4_storage_spilled_rows_total"), second.Read("ja4_storage_replayed_rows_total"));
            Assert.Equal("4000\t4000", await TextAsync(direct, $"SELECT count(), uniqExact(connection_id) FROM {o.Database}.http_logs"));
            await AssertInsertOrderAsync(direct, o.Database);
            Assert.Empty(Directory.GetFiles(o.SpillPath, "*.spill"));
        }
        finally
        {
            await DropAsync(direct, o);
        }
    }
}
