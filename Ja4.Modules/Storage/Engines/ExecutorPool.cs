using System.Threading.Channels;

namespace Ja4.Modules.Storage.Engines;

/// <summary>
/// Several connections of one engine behind one executor: each call takes a free connection and
/// gives it back when done, so that independent reads (the panels of a dashboard page, several
/// analysts at once) run side by side instead of queueing behind one embedded-engine connection.
/// Calls wait, in arrival order, while every connection is busy.
/// </summary>
public sealed class ExecutorPool : IStoreExecutor
{
    private readonly IReadOnlyList<IStoreExecutor> _all;
    private readonly Channel<IStoreExecutor> _free;

    public ExecutorPool(IReadOnlyList<IStoreExecutor> executors)
    {
        ArgumentOutOfRangeException.ThrowIfZero(executors.Count);
        _all = executors;
        _free = Channel.CreateUnbounded<IStoreExecutor>();
        foreach (var e in executors)
        {
            _free.Writer.TryWrite(e);
        }
    }

    /// <summary>Connections in the pool.</summary>
    public int Size => _all.Count;

    public string EngineName => _all[0].EngineName;

    /// <summary>One connection of the pool, for engine-specific questions that do not run a query (how the engine parses a statement).</summary>
    public IStoreExecutor First => _all[0];

    public Task<byte[]> QueryAsync(string sql, IReadOnlyDictionary<string, string>? parameters = null,
        string format = "TabSeparated", CancellationToken cancellationToken = default) =>
        WithConnectionAsync(e => e.QueryAsync(sql, parameters, format, cancellationToken), cancellationToken);

    public Task<long> InsertAsync(string table, IReadOnlyList<string> columns, string format, ReadOnlyMemory<byte> data,
        IReadOnlyDictionary<string, string>? settings = null, CancellationToken cancellationToken = default) =>
        WithConnectionAsync(e => e.InsertAsync(table, columns, format, data, settings, cancellationToken), cancellationToken);

    public Task StreamAsync(string sql, IReadOnlyDictionary<string, string>? parameters, string format,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> onChunk, CancellationToken cancellationToken = default) =>
        WithConnectionAsync(async e =>
        {
            await e.StreamAsync(sql, parameters, format, onChunk, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Runs <paramref name="work"/> on a free connection and gives it back, whatever happens.</summary>
    private async Task<T> WithConnectionAsync<T>(Func<IStoreExecutor, Task<T>> work, CancellationToken cancellationToken)
    {
        var e = await _free.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await work(e).ConfigureAwait(false);
        }
        finally
        {
            _free.Writer.TryWrite(e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _free.Writer.TryComplete();
        foreach (var e in _all)
        {
            await e.DisposeAsync().ConfigureAwait(false);
        }
    }
}
