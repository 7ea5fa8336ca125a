using System.Data.Common;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using ClickHouse.Driver;
using ClickHouse.Driver.ADO;
using ClickHouse.Driver.ADO.Parameters;

namespace Ja4.Modules.Storage.Engines;

/// <summary>
/// A ClickHouse server (or cluster node) over HTTP through ClickHouse.Driver. Parameters are
/// sent as the server's <c>param_*</c> values, never spliced into the SQL; inserts post the
/// encoded batch as it is (<c>INSERT ... FORMAT Native</c>, the same block the embedded engine
/// takes). Thread-safe: the client pools HTTP connections.
/// </summary>
public sealed class ClickHouseExecutor : IStoreExecutor
{
    private readonly ClickHouseClient _client;
    private readonly TimeSpan _timeout;

    private readonly bool _readOnly;

    /// <param name="options">Connection string and timeout.</param>
    /// <param name="readOnly">Send <c>readonly = 2</c> with every query: the server refuses writes and DDL.</param>
    public ClickHouseExecutor(ClickHouseServerOptions options, bool readOnly = false)
    {
        _readOnly = readOnly;
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ConnectionString);
        _timeout = options.CommandTimeout;
        var settings = new ClickHouseClientSettings(options.ConnectionString) { Timeout = options.CommandTimeout };
        _client = new ClickHouseClient(settings);
    }

    public string EngineName => "clickhouse";

    public async Task<byte[]> QueryAsync(string sql, IReadOnlyDictionary<string, string>? parameters = null,
        string format = "TabSeparated", CancellationToken cancellationToken = default)
    {
        try
        {
            using var connection = _client.CreateConnection();
            using var command = Command(connection, sql, parameters, format);
            using var raw = await command.ExecuteRawResultAsync(cancellationToken).ConfigureAwait(false);
            return await raw.ReadAsByteArrayAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (Translate(e, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    private ClickHouseCommand Command(ClickHouseConnection connection, string sql,
        IReadOnlyDictionary<string, string>? parameters, string format)
    {
        var command = connection.CreateCommand(sql);
        command.CustomSettings["default_format"] = format;
        if (_readOnly)
        {
            command.CustomSettings["readonly"] = "2";
            command.CustomSettings["output_format_json_escape_forward_slashes"] = "0";
        }
        if (parameters is not null)
        {
            foreach (var (name, value) in parameters)
            {
                command.Parameters.Add(new ClickHouseDbParameter { ParameterName = name, Value = value, ClickHouseType = "String" });
            }
        }
        return command;
    }

    public async Task<long> InsertAsync(string table, IReadOnlyList<string> columns, string format, ReadOnlyMemory<byte> data,
        IReadOnlyDictionary<string, string>? settings = null, CancellationToken cancellationToken = default)
    {
        try
        {
            var stream = MemoryMarshal.TryGetArray(data, out var segment)
                ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
                : new MemoryStream(data.ToArray(), writable: false);
            await using (stream.ConfigureAwait(false))
            {
                var options = new QueryOptions { CustomSettings = settings?.ToDictionary(kv => kv.Key, kv => (object)kv.Value) ?? [] };
                using var response = await _client.InsertRawStreamAsync(table, stream, format, columns, false, options, cancellationToken)
                    .ConfigureAwait(false);
                return -1;
            }
        }
        catch (Exception e) when (Translate(e, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    public async Task StreamAsync(string sql, IReadOnlyDictionary<string, string>? parameters, string format,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> onChunk, CancellationToken cancellationToken = default)
    {
        try
        {
            using var connection = _client.CreateConnection();
            using var command = Command(connection, sql, parameters, format);
            using var raw = await command.ExecuteRawResultAsync(cancellationToken).ConfigureAwait(false);
            var stream = await raw.ReadAsStreamAsync().ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[1 << 16];
                int n;
                while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await onChunk(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (Translate(e, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Server errors keep their code; transport failures are transient.</summary>
    private StoreException? Translate(Exception e, CancellationToken token)
    {
        if (e is StoreException)
        {
            return null;
        }
        return e switch
        {
            ClickHouseServerException s => StoreException.FromEngineMessage(s.Message.StartsWith("Code:", StringComparison.Ordinal)
                ? s.Message : $"Code: {s.ErrorCode}. {s.Message}"),
            DbException d => new StoreException(d.Message, d.ErrorCode, transient: false, d),
            HttpRequestException or SocketException or IOException => new StoreException(
                $"ClickHouse server unreachable: {e.Message}", 0, transient: true, e),
            TaskCanceledException or TimeoutException when !token.IsCancellationRequested => new StoreException(
                $"ClickHouse server did not answer within {_timeout}", 0, transient: true, e),
            _ => null,
        };
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
