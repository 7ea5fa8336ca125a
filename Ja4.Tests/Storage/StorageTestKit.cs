using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Schema;
using Ja4.Modules.Storage.Writer;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ja4.Tests.Storage;

/// <summary>Helpers shared by the storage tests.</summary>
internal static class StorageTestKit
{
    public static string SchemaDirectory => Migration.LocateDirectory();

    public static async Task MigrateAsync(IStoreExecutor store, StorageOptions options) =>
        await new MigrationRunner(store, options, Migration.LoadDirectory(SchemaDirectory)).MigrateAsync(CancellationToken.None);

    /// <summary>Applies the migrations below <paramref name="version"/> only: a store as an earlier release left it.</summary>
    public static async Task MigrateBelowAsync(IStoreExecutor store, StorageOptions options, int version) =>
        await new MigrationRunner(store, options, Migration.LoadDirectory(SchemaDirectory).Where(m => m.Version < version).ToList())
            .MigrateAsync(CancellationToken.None);

    /// <summary>Writes events through a real <see cref="StorageWriter"/> and waits until it has flushed them.</summary>
    public static async Task<Ja4Metrics> WriteAsync(IStoreExecutor store, StorageOptions options,
        IEnumerable<CorrelatedRequest>? requests = null, IEnumerable<TlsClientHello>? hellos = null, Ja4Metrics? metrics = null)
    {
        metrics ??= new Ja4Metrics();
        var rc = Channel.CreateUnbounded<CorrelatedRequest>();
        var hc = Channel.CreateUnbounded<TlsClientHello>();
        foreach (var r in requests ?? [])
        {
            rc.Writer.TryWrite(r);
        }
        foreach (var h in hellos ?? [])
        {
            hc.Writer.TryWrite(h);
        }
        rc.Writer.Complete();
        hc.Writer.Complete();
        using var spill = new SpillQueue(options.SpillPath, options.SpillMaxMb << 20, (long)options.SpillSegmentMb << 20, NullLogger.Instance);
        using var writer = new StorageWriter(store, options, rc.Reader, hc.Reader, spill, metrics, TimeProvider.System, NullLogger.Instance);
        await writer.StartAsync(CancellationToken.None);
        await writer.ExecuteTask!.WaitAsync(TimeSpan.FromMinutes(2));
        return metrics;
    }

    public static async Task<string> TextAsync(IStoreExecutor store, string sql, IReadOnlyDictionary<string, string>? p = null) =>
        Encoding.UTF8.GetString(await store.QueryAsync(sql, p, "TabSeparated")).TrimEnd('\n');

    public static async Task<long> CountAsync(IStoreExecutor store, string table) =>
        long.Parse(await TextAsync(store, $"SELECT count() FROM {table}"), System.Globalization.CultureInfo.InvariantCulture);

    public static async Task<List<JsonElement>> JsonRowsAsync(IStoreExecutor store, string sql)
    {
        var text = Encoding.UTF8.GetString(await store.QueryAsync(sql, null, "JSONEachRow"));
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    public static async Task DropAsync(IStoreExecutor store, StorageOptions options)
    {
        try
        {
            await store.QueryAsync($"DROP DATABASE IF EXISTS {options.Database} SYNC");
        }
        catch (StoreException)
        {
        }
        if (Directory.Exists(options.SpillPath))
        {
            Directory.Delete(options.SpillPath, recursive: true);
        }
    }
}
