namespace Ja4.Modules.Storage.Engines;

/// <summary>
/// The one small interface both engines implement: run SQL with server-side parameters
/// (<c>{name:Type}</c> placeholders, values never interpolated), bulk-insert rows already
/// encoded in a binary input format, and stream a result out in chunks.
/// </summary>
public interface IStoreExecutor : IAsyncDisposable
{
    /// <summary>"chdb" or "clickhouse", for logs and metrics.</summary>
    string EngineName { get; }

    /// <summary>Runs one statement and returns its whole output in <paramref name="format"/> (empty for DDL).</summary>
    Task<byte[]> QueryAsync(string sql, IReadOnlyDictionary<string, string>? parameters = null,
        string format = "TabSeparated", CancellationToken cancellationToken = default);

    /// <summary>
    /// Inserts rows encoded in <paramref name="format"/> (e.g. <c>Native</c>, <c>RowBinary</c>) into
    /// <paramref name="table"/> (qualified name) with the given columns and insert settings.
    /// </summary>
    /// <returns>Rows written as the engine reports them (materialized views included), or -1 when unknown.</returns>
    Task<long> InsertAsync(string table, IReadOnlyList<string> columns, string format, ReadOnlyMemory<byte> data,
        IReadOnlyDictionary<string, string>? settings = null, CancellationToken cancellationToken = default);

    /// <summary>Runs a query and hands its output to <paramref name="onChunk"/> chunk by chunk.</summary>
    Task StreamAsync(string sql, IReadOnlyDictionary<string, string>? parameters, string format,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> onChunk, CancellationToken cancellationToken = default);
}

/// <summary>An error reported by the store (bad SQL, missing table, ...) or the transport to it.</summary>
public sealed class StoreException : Exception
{
    public StoreException(string message, int code = 0, bool transient = false, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Transient = transient;
    }

    /// <summary>ClickHouse error code when known (e.g. 60 UNKNOWN_TABLE), else 0.</summary>
    public int Code { get; }

    /// <summary>True when retrying may succeed (connection refused, timeout, server overloaded).</summary>
    public bool Transient { get; }

    /// <summary>Parses "Code: 60. DB::Exception: ..." as chDB and the server report errors.</summary>
    public static StoreException FromEngineMessage(string message, bool transient = false)
    {
        var code = 0;
        const string prefix = "Code: ";
        var text = message.Trim();
        if (text.StartsWith(prefix, StringComparison.Ordinal))
        {
            var end = text.IndexOf('.', prefix.Length);
            if (end > prefix.Length)
            {
                _ = int.TryParse(text.AsSpan(prefix.Length, end - prefix.Length), out code);
            }
        }
        return new StoreException(text, code, transient);
    }
}
