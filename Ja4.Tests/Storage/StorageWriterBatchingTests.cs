using System.Threading.Channels;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Writer;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Ja4.Tests.Storage.StorageTestKit;

namespace Ja4.Tests.Storage;

/// <summary>Batches close by row count or by age (a fake clock: no sleeps decide anything).</summary>
[Collection("chdb")]
public sealed class StorageWriterBatchingTests(ChdbFixture fixture)
{
    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "gave up waiting: " + what);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_batch_is_written_when_full_or_when_old_enough_and_not_before()
    {
        await using var store = fixture.Open("chdb");
        var o = fixture.Options("chdb", "batch");
        o.BatchSize = 1_000;
        o.BatchAge = TimeSpan.FromSeconds(30);
        var clock = new FakeTimeProvider(StorageEvents.T0);
        var metrics = new Ja4Metrics();
        var requests = Channel.CreateUnbounded<CorrelatedRequest>();
        var hellos = Channel.CreateUnbounded<TlsClientHello>();
        try
        {
            await MigrateAsync(store, o);
            using var spill = new SpillQueue(o.SpillPath, 1 << 20, 1 << 20, NullLogger.Instance);
            using var writer = new StorageWriter(store, o, requests.Reader, hellos.Reader, spill, metrics, clock, NullLogger.Instance);
            await writer.StartAsync(CancellationToken.None);
            var table = o.Database + ".http_logs";

            for (var i = 0; i < 10; i++)
            {
                requests.Writer.TryWrite(StorageEvents.Request(i, StorageEvents.T0));
            }
            hellos.Writer.TryWrite(StorageEvents.Hello(StorageEvents.T0));
            await Until(() => Task.FromResult(requests.Reader.Count == 0 && hellos.Reader.Count == 0), "the writer to take the rows");
            // Taken but not written: the batch is neither full nor 30 s old on the writer's clock.
            Assert.Equal(0, await CountAsync(store, table));
            clock.Advance(TimeSpan.FromSeconds(31));
            await Until(async () => await CountAsync(store, table) == 10, "the age-closed batch");
            Assert.Equal(1, await CountAsync(store, o.Database + ".tls_handshakes"));

            // A full batch goes at once, with the clock standing still.
            for (var i = 10; i < 1_010; i++)
            {
                requests.Writer.TryWrite(StorageEvents.Request(i, StorageEvents.T0));
            }
            await Until(async () => await CountAsync(store, table) == 1_010, "the count-closed batch");
            // Acknowledged once the loop collects the finished insert (the clock still standing still).
            await Until(() => Task.FromResult(metrics.Read("ja4_storage_batches_total", ("table", "http_logs")) == 2), "two batches counted");
            Assert.Equal((double?)1_011, metrics.Read("ja4_storage_rows_durable_total"));

            // Graceful shutdown writes the partial batch.
            requests.Writer.TryWrite(StorageEvents.Request(5_000, StorageEvents.T0));
            await Until(() => Task.FromResult(requests.Reader.Count == 0), "the writer to take the last row");
            await writer.StopAsync(CancellationToken.None);
            Assert.Equal(1_011, await CountAsync(store, table));
        }
        finally
        {
            await DropAsync(store, o);
        }
    }

    [Fact]
    public async Task A_store_closed_under_the_writer_at_a_late_stop_sends_the_batch_to_the_spill()
    {
        var o = fixture.Options("chdb", "closed");
        o.BatchSize = 1_000;
        o.BatchAge = TimeSpan.FromSeconds(30);
        o.InsertAttempts = 1;
        o.RetryDelay = TimeSpan.FromMilliseconds(10);
        o.RetryMaxDelay = TimeSpan.FromMilliseconds(10);
        var metrics = new Ja4Metrics();
        var requests = Channel.CreateUnbounded<CorrelatedRequest>();
        var clock = new FakeTimeProvider(StorageEvents.T0);
        await using var shared = fixture.Open("chdb");
        try
        {
            await MigrateAsync(shared, o);
            // A connection of the writer's own, closed under it as the host's disposal closes the store after a
            // stop that outlasted its deadline.
            await using var own = ChdbExecutor.Open(fixture.DataPath);
            using var spill = new SpillQueue(o.SpillPath, 1 << 20, 1 << 20, NullLogger.Instance);
            using var writer = new StorageWriter(own, o, requests.Reader, null, spill, metrics, clock, NullLogger.Instance);
            await writer.StartAsync(CancellationToken.None);
            for (var i = 0; i < 7; i++)
            {
                requests.Writer.TryWrite(StorageEvents.Request(i, StorageEvents.T0));
            }
            await Until(() => Task.FromResult(requests.Reader.Count == 0), "the writer to take the rows");
            await own.DisposeAsync();

            // The stop writes the partial batch: the closed store refuses it, the spill takes it.
            await writer.StopAsync(CancellationToken.None);
            Assert.True(spill.HasRecords);
            Assert.Equal((double?)7, metrics.Read("ja4_storage_spilled_rows_total"));
            Assert.Equal(0, metrics.Read("ja4_storage_rows_lost_total") ?? 0);
            Assert.Equal(0, await CountAsync(shared, o.Database + ".http_logs"));
        }
        finally
        {
            await DropAsync(shared, o);
        }
    }

    [Fact]
    public async Task A_batch_of_huge_requests_is_written_at_its_size_limit_before_its_row_count()
    {
        await using var store = fixture.Open("chdb");
        var o = fixture.Options("chdb", "batchbytes");
        o.BatchSize = 1_000;
        o.BatchMaxMb = 1;
        o.BatchAge = TimeSpan.FromSeconds(30);
        var clock = new FakeTimeProvider(StorageEvents.T0);
        var metrics = new Ja4Metrics();
        var requests = Channel.CreateUnbounded<CorrelatedRequest>();
        // One header of 150,000 characters: ~300 KB in memory per request, so a 1 MiB batch closes at its fourth.
        CorrelatedRequest Huge(int i)
        {
            var c = StorageEvents.Request(i, StorageEvents.T0);
            return c with { Request = c.Request with { Headers = [.. c.Request.Headers, new("X-Padding", new string('p', 150_000))] } };
        }
        try
        {
            await MigrateAsync(store, o);
            using var spill = new SpillQueue(o.SpillPath, 1 << 20, 1 << 20, NullLogger.Instance);
            using var writer = new StorageWriter(store, o, requests.Reader, null, spill, metrics, clock, NullLogger.Instance);
            await writer.StartAsync(CancellationToken.None);
            var table = o.Database + ".http_logs";
            for (var i = 0; i < 10; i++)
            {
                requests.Writer.TryWrite(Huge(i));
            }
            // The clock stands still: only the size closes batches, two of four rows; the last two wait.
            await Until(async () => await CountAsync(store, table) == 8, "two size-closed batches");
            await Until(() => Task.FromResult(metrics.Read("ja4_storage_batches_total", ("table", "http_logs")) == 2), "two batches counted");
            Assert.Equal(8, await CountAsync(store, table));

            // At a stop, what is still queued goes in batches of the same bound, not as one.
            for (var i = 10; i < 20; i++)
            {
                requests.Writer.TryWrite(Huge(i));
            }
            requests.Writer.Complete();
            await writer.StopAsync(CancellationToken.None);
            Assert.Equal(20, await CountAsync(store, table));
            Assert.Equal((double?)20, metrics.Read("ja4_storage_rows_durable_total"));
            // 2 + 10 rows left: three more batches of at most four.
            Assert.Equal((double?)5, metrics.Read("ja4_storage_batches_total", ("table", "http_logs")));
            Assert.Equal("150000", (await TextAsync(store, $"SELECT min(length(header_values[-1])) FROM {table}")).Trim());
        }
        finally
        {
            await DropAsync(store, o);
        }
    }
}
