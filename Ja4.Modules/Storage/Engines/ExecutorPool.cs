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

    public async Task<byte[]> QueryAsync(string sql, IReadOnlyDictionary<string, string>? parameters = null,
        string format = "TabSeparated", CancellationToken cancellationToken = default)
    {
        var e = await _free.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await e.QueryAsync(sql, parameters, format, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _free.Writer.TryWrite(e);
        }
    }

    public async Task<long> InsertAsync(string table, IReadOnlyList<string> columns, string format, ReadOnlyMemory<byte> data,
        IReadOnlyDictionary<string, string>? settings = null, CancellationToken cancellationToken = default)
    {
        var e = await _free.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await e.InsertAsync(table, columns, format, data, settings, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _free.Writer.TryWrite(e);
        }
    }

    public async Task StreamAsync(string sql, IReadOnlyDictionary<string, string>? parameters, string format,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> onChunk, CancellationToken cancellationToken = default)
    {
        var e = await _free.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await e.StreamAsync(sql, parameters, format, onChunk, cancellationToken).ConfigureAwait(false);
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
