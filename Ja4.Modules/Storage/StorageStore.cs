using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Schema;

namespace Ja4.Modules.Storage;

/// <summary>
/// The configured store of this process: one executor for the writer and a pool of
/// <c>ReaderConnections</c> read-only ones for readers (separate chDB connections, so that
/// dashboard queries never wait behind an insert and run side by side), the writer's insert
/// connections (<c>InsertConcurrency</c> of them, the first one the writer's own), and the migrations.
/// </summary>
public sealed class StorageStore : IAsyncDisposable
{
    private readonly SemaphoreSlim _migrateLock = new(1, 1);
    private bool _migrated;

    public StorageStore(StorageOptions options)
    {
        Options = options;
        Writer = Open(options);
        Reader = options.Engine == StorageEngineKind.Chdb
            ? new ExecutorPool(Enumerable.Range(0, options.ReaderConnections).Select(_ => Open(options, readOnly: true)).ToList())
            : Writer;
        Inserter = options.Engine == StorageEngineKind.Chdb && options.InsertConcurrency > 1
            ? new ExecutorPool([Writer, .. Enumerable.Range(1, options.InsertConcurrency - 1).Select(_ => Open(options))])
            : Writer;
    }

    public StorageOptions Options { get; }
    public IStoreExecutor Writer { get; }
    public IStoreExecutor Reader { get; }

    /// <summary>What the storage writer inserts through: <see cref="Writer"/>, or a pool of writable connections when inserts overlap.</summary>
    public IStoreExecutor Inserter { get; }

    /// <summary>Opens an executor for the configured engine.</summary>
    public static IStoreExecutor Open(StorageOptions options, bool readOnly = false) => options.Engine switch
    {
        StorageEngineKind.Chdb => ChdbExecutor.Open(options.DataPath, readOnly),
        StorageEngineKind.ClickHouse => new ClickHouseExecutor(options.ClickHouse, readOnly),
        _ => throw new ArgumentOutOfRangeException(nameof(options)),
    };

    /// <summary>The read-only executor <c>ja4 sql</c> and the admin socket use.</summary>
    public IStoreExecutor ReadOnly => Options.Engine == StorageEngineKind.Chdb ? Reader : _readOnly ??= Open(Options, readOnly: true);

    private IStoreExecutor? _readOnly;

    /// <summary>A migration runner over <c>schema/</c> for this store.</summary>
    public MigrationRunner Migrations(string? schemaDirectory = null) =>
        new(Writer, Options, Migration.LoadDirectory(schemaDirectory ?? Migration.LocateDirectory()));

    /// <summary>Applies pending migrations once per process (later calls return at once).</summary>
    public async Task<int> EnsureMigratedAsync(CancellationToken cancellationToken)
    {
        if (_migrated)
        {
            return 0;
        }
        await _migrateLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_migrated)
            {
                return 0;
            }
            var applied = await Migrations().MigrateAsync(cancellationToken).ConfigureAwait(false);
            _migrated = true;
            return applied.Count;
        }
        finally
        {
            _migrateLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!ReferenceEquals(Inserter, Writer))
        {
            // Closes the writer's connection too (closing it twice is a no-op).
            await Inserter.DisposeAsync().ConfigureAwait(false);
        }
        if (!ReferenceEquals(Reader, Writer))
        {
            await Reader.DisposeAsync().ConfigureAwait(false);
        }
        await Writer.DisposeAsync().ConfigureAwait(false);
        if (_readOnly is not null)
        {
            await _readOnly.DisposeAsync().ConfigureAwait(false);
        }
    }
}
