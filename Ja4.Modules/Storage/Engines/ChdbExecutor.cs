using System.Runtime.InteropServices;
using System.Text;

namespace Ja4.Modules.Storage.Engines;

/// <summary>
/// The embedded ClickHouse engine (chDB). The engine holds one data path per process: the first
/// connection boots it with its path and every later connection must name the same path. A
/// connection runs one statement at a time, so calls on one executor are serialised; separate
/// executors (the writer, the query service) have separate connections and run side by side.
/// </summary>
public sealed class ChdbExecutor : IStoreExecutor
{
    private static readonly Lock BootLock = new();
    private static string? _bootedPath;
    private static int _openConnections;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IntPtr _connPtr;
    private IntPtr _conn;

    private unsafe ChdbExecutor(IntPtr connPtr)
    {
        _connPtr = connPtr;
        _conn = *(IntPtr*)connPtr;
    }

    public string EngineName => "chdb";

    /// <summary>The data path the engine was booted with in this process, or null.</summary>
    public static string? BootedPath
    {
        get
        {
            lock (BootLock)
            {
                return _bootedPath;
            }
        }
    }

    /// <summary>The library's version string, e.g. "26.7.3".</summary>
    public static string LibraryVersion()
    {
        ChdbNative.InstallResolver();
        return Marshal.PtrToStringUTF8(ChdbNative.chdb_version()) ?? "";
    }

    /// <summary>
    /// Server settings the embedded engine boots with (the first connection of the process sets them). The engine
    /// removes outdated parts with a pool of up to 128 threads, and its global thread pool keeps up to 1,000 idle
    /// threads: a few minutes into steady ingest the daemon went from ~40 to ~170 threads, each idle engine thread
    /// keeping three descriptors open (its /proc task statistics), so descriptors grew for minutes. Four
    /// cleaning threads are plenty for one machine's parts, and eight idle threads are kept for reuse.
    /// The engine's JIT (LLVM, linked into libchdb.so) is off: after three runs of the same expression it compiled
    /// the materialized views' expressions and aggregates on every insert's block of a few thousand rows, a gain of
    /// microseconds that kept LLVM's code and working memory resident (at 5,000 requests/s over 10 minutes: 449 → 411 MB
    /// resident on average). Inserts are faster without it; the dashboard's queries are unchanged within the spread
    /// except the largest IP-block page, about a tenth slower. The engine runs at most two background merges at a
    /// time (two threads, concurrency ratio 1; its defaults here allow four): each merge of a few seconds of data holds
    /// 10-60 MB while it runs, and up to three ran together at 5,000 requests/s (83 MB between them), the daemon's
    /// highest peaks. One at a time measured lower still, but then a long merge of a large partition (minutes on a
    /// busy day's requests) would hold back every other table's merges while inserts add a part a second to each.
    /// docs/BENCHMARKS.md, Soak and Dashboard.
    /// </summary>
    internal static readonly string[] EngineServerSettings =
    [
        "--max_parts_cleaning_thread_pool_size=4", "--max_thread_pool_free_size=8",
        "--compile_expressions=0", "--compile_aggregate_expressions=0", "--compile_sort_description=0",
        "--background_pool_size=2", "--background_merges_mutations_concurrency_ratio=1",
    ];

    /// <summary>Opens a connection to the engine with its data under <paramref name="dataPath"/>.</summary>
    /// <exception cref="StoreException">Another data path is already open in this process, or the engine failed to start.</exception>
    /// <param name="dataPath">Data directory (created when missing).</param>
    /// <param name="readOnly">Open with <c>readonly = 2</c>: the engine refuses writes and DDL on this connection.</param>
    public static unsafe ChdbExecutor Open(string dataPath, bool readOnly = false)
    {
        var full = Path.GetFullPath(dataPath);
        lock (BootLock)
        {
            if (_bootedPath is not null && _bootedPath != full && _openConnections > 0)
            {
                throw new StoreException(
                    $"chDB holds one data path per process: {_bootedPath} is open, {full} was asked for");
            }
            Directory.CreateDirectory(full);
            ChdbNative.InstallResolver();
            // The engine's own signal handlers would replace the runtime's (SIGSEGV → NullReferenceException).
            ChdbNative.chdb_set_signal_handlers_enabled(0);
            string[] args = readOnly
                ? ["ja4", "--path=" + full, "--readonly=2", "--output_format_json_escape_forward_slashes=0"]
                : ["ja4", "--path=" + full];
            args = [.. args, .. EngineServerSettings];
            var handles = args.Select(a => Marshal.StringToCoTaskMemUTF8(a)).ToArray();
            try
            {
                fixed (IntPtr* argv = handles)
                {
                    var connPtr = ChdbNative.chdb_connect(args.Length, argv);
                    if (connPtr == IntPtr.Zero || *(IntPtr*)connPtr == IntPtr.Zero)
                    {
                        throw new StoreException($"chDB failed to open its data path {full}");
                    }
                    _bootedPath = full;
                    _openConnections++;
                    return new ChdbExecutor(connPtr);
                }
            }
            finally
            {
                foreach (var h in handles)
                {
                    Marshal.FreeCoTaskMem(h);
                }
            }
        }
    }

    public async Task<byte[]> QueryAsync(string sql, IReadOnlyDictionary<string, string>? parameters = null,
        string format = "TabSeparated", CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_conn == IntPtr.Zero, this);
            return await Task.Run(() => Query(sql, parameters, format), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private byte[] Query(string sql, IReadOnlyDictionary<string, string>? parameters, string format) =>
        Query(Encoding.UTF8.GetBytes(sql), parameters, format);

    /// <summary>
    /// Runs a query given as bytes: an <c>INSERT ... FORMAT f</c> followed by its data in the same
    /// buffer, as clickhouse-local reads a query with inline data (compared with the streaming
    /// insert in the insert-paths benchmark).
    /// </summary>
    internal async Task<byte[]> QueryBytesAsync(byte[] query, string format = "TabSeparated")
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_conn == IntPtr.Zero, this);
            return await Task.Run(() => Query(query, null, format), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private unsafe byte[] Query(byte[] q, IReadOnlyDictionary<string, string>? parameters, string format)
    {
        using var p = new NativeParams(parameters, !ParametersAreEscaped);
        var f = Encoding.UTF8.GetBytes(format);
        IntPtr result;
        fixed (byte* qp = q)
        fixed (byte* fp = f)
        {
            result = p.Count == 0
                ? ChdbNative.chdb_query_n(_conn, qp, (nuint)q.Length, fp, (nuint)f.Length)
                : ChdbNative.chdb_query_with_params_n(_conn, qp, (nuint)q.Length, fp, (nuint)f.Length,
                    p.Names, p.NameLens, p.Values, p.ValueLens, (nuint)p.Count);
        }
        try
        {
            ThrowOnError(result);
            return Copy(result).ToArray();
        }
        finally
        {
            if (result != IntPtr.Zero)
            {
                ChdbNative.chdb_destroy_query_result(result);
            }
        }
    }

    public async Task<long> InsertAsync(string table, IReadOnlyList<string> columns, string format, ReadOnlyMemory<byte> data,
        IReadOnlyDictionary<string, string>? settings = null, CancellationToken cancellationToken = default)
    {
        var sql = InsertStatement(table, columns, settings);
        return await InsertRawAsync(sql, format, data, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="sql"/> (an INSERT without FORMAT or data) with <paramref name="data"/> in <paramref name="format"/>.</summary>
    public async Task<long> InsertRawAsync(string sql, string format, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_conn == IntPtr.Zero, this);
            return await Task.Run(() => Insert(sql, format, data), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><c>INSERT INTO t (a, b) SETTINGS k = 'v'</c>; names and values were validated by the caller.</summary>
    internal static string InsertStatement(string table, IReadOnlyList<string> columns, IReadOnlyDictionary<string, string>? settings)
    {
        var sb = new StringBuilder("INSERT INTO ").Append(table).Append(" (").AppendJoin(", ", columns).Append(')');
        if (settings is { Count: > 0 })
        {
            sb.Append(" SETTINGS ").AppendJoin(", ", settings.Select(kv => $"{kv.Key} = '{EscapeLiteral(kv.Value)}'"));
        }
        return sb.ToString();
    }

    /// <summary>
    /// True when parameter values already come in the engine's escaped text form (the ClickHouse
    /// HTTP interface's <c>param_*</c> values, as the test fixture receives them); false (the default)
    /// escapes them here, so that a value holding a backslash, tab or line feed arrives unchanged.
    /// </summary>
    internal bool ParametersAreEscaped { get; set; }

    /// <summary>
    /// A parameter value in the escaped text form the engine reads parameters in: backslash, tab,
    /// line feed and carriage return are written as escape sequences.
    /// </summary>
    internal static string EscapeParameter(string value)
    {
        if (value.AsSpan().IndexOfAny("\\\t\n\r") < 0)
        {
            return value;
        }
        var sb = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => sb.Append("\\\\"),
                '\t' => sb.Append("\\t"),
                '\n' => sb.Append("\\n"),
                '\r' => sb.Append("\\r"),
                _ => sb.Append(c),
            };
        }
        return sb.ToString();
    }

    internal static string EscapeLiteral(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("'", "\\'", StringComparison.Ordinal);

    private unsafe long Insert(string sql, string format, ReadOnlyMemory<byte> data)
    {
        var q = Encoding.UTF8.GetBytes(sql);
        var f = Encoding.UTF8.GetBytes(format);
        IntPtr stream;
        fixed (byte* qp = q)
        fixed (byte* fp = f)
        {
            stream = ChdbNative.chdb_stream_insert_n(_conn, qp, (nuint)q.Length, fp, (nuint)f.Length);
        }
        try
        {
            var err = ChdbNative.chdb_stream_insert_error(stream);
            if (err != IntPtr.Zero)
            {
                throw StoreException.FromEngineMessage(Marshal.PtrToStringUTF8(err) ?? "insert failed");
            }
            // Large chunks amortise the per-call cost; the engine copies what it is given.
            const int chunk = 1 << 20;
            using (var pin = data.Pin())
            {
                var basePtr = (byte*)pin.Pointer;
                for (var off = 0; off < data.Length; off += chunk)
                {
                    var len = Math.Min(chunk, data.Length - off);
                    if (ChdbNative.chdb_stream_append(stream, basePtr + off, (nuint)len) != 0)
                    {
                        var e = ChdbNative.chdb_stream_insert_error(stream);
                        throw StoreException.FromEngineMessage(e != IntPtr.Zero ? Marshal.PtrToStringUTF8(e) ?? "" : "insert append failed");
                    }
                }
            }
            var result = ChdbNative.chdb_stream_done(stream);
            try
            {
                ThrowOnError(result);
                return result == IntPtr.Zero ? -1 : (long)ChdbNative.chdb_result_rows_written(result);
            }
            finally
            {
                if (result != IntPtr.Zero)
                {
                    ChdbNative.chdb_destroy_query_result(result);
                }
            }
        }
        finally
        {
            ChdbNative.chdb_destroy_insert_stream(stream);
        }
    }

    /// <summary>Header lines a text format writes before its rows (names, and types for the *AndTypes formats).</summary>
    internal static int HeaderLines(string format) =>
        format.EndsWith("WithNamesAndTypes", StringComparison.OrdinalIgnoreCase) ? 2
        : format.EndsWith("WithNames", StringComparison.OrdinalIgnoreCase) ? 1
        : 0;

    /// <summary><paramref name="chunk"/> without its first <paramref name="lines"/> lines.</summary>
    internal static ReadOnlyMemory<byte> WithoutHeader(ReadOnlyMemory<byte> chunk, int lines)
    {
        var span = chunk.Span;
        var start = 0;
        for (var i = 0; i < lines; i++)
        {
            var nl = span[start..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                return ReadOnlyMemory<byte>.Empty;
            }
            start += nl + 1;
        }
        return chunk[start..];
    }

    public async Task StreamAsync(string sql, IReadOnlyDictionary<string, string>? parameters, string format,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> onChunk, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var stream = IntPtr.Zero;
        try
        {
            ObjectDisposedException.ThrowIf(_conn == IntPtr.Zero, this);
            stream = await Task.Run(() => StartStream(sql, parameters, format), CancellationToken.None).ConfigureAwait(false);
            var finished = false;
            var chunks = 0;
            var headerLines = HeaderLines(format);
            try
            {
                while (true)
                {
                    var chunk = await Task.Run(() =>
                    {
                        var r = ChdbNative.chdb_stream_fetch_result(_conn, stream);
                        try
                        {
                            ThrowOnError(r);
                            return Copy(r).ToArray();
                        }
                        finally
                        {
                            if (r != IntPtr.Zero)
                            {
                                ChdbNative.chdb_destroy_query_result(r);
                            }
                        }
                    }, CancellationToken.None).ConfigureAwait(false);
                    if (chunk.Length == 0)
                    {
                        finished = true;
                        break;
                    }
                    // The engine formats every streamed block on its own, so text formats with a
                    // header repeat it per block; the caller gets one result with one header.
                    var body = chunks++ == 0 ? (ReadOnlyMemory<byte>)chunk : WithoutHeader(chunk, headerLines);
                    if (body.Length > 0)
                    {
                        await onChunk(body, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            finally
            {
                if (!finished)
                {
                    ChdbNative.chdb_stream_cancel_query(_conn, stream);
                }
            }
        }
        finally
        {
            if (stream != IntPtr.Zero)
            {
                ChdbNative.chdb_destroy_query_result(stream);
            }
            _gate.Release();
        }
    }

    private unsafe IntPtr StartStream(string sql, IReadOnlyDictionary<string, string>? parameters, string format)
    {
        using var p = new NativeParams(parameters, !ParametersAreEscaped);
        var q = Encoding.UTF8.GetBytes(sql);
        var f = Encoding.UTF8.GetBytes(format);
        IntPtr result;
        fixed (byte* qp = q)
        fixed (byte* fp = f)
        {
            result = ChdbNative.chdb_stream_query_with_params_n(_conn, qp, (nuint)q.Length, fp, (nuint)f.Length,
                p.Names, p.NameLens, p.Values, p.ValueLens, (nuint)p.Count);
        }
        if (result == IntPtr.Zero)
        {
            throw new StoreException("chDB returned no stream handle");
        }
        var err = ChdbNative.chdb_result_error(result);
        if (err != IntPtr.Zero)
        {
            var message = Marshal.PtrToStringUTF8(err) ?? "query failed";
            ChdbNative.chdb_destroy_query_result(result);
            throw StoreException.FromEngineMessage(message);
        }
        return result;
    }

    /// <summary>
    /// What the engine's parser says <paramref name="sql"/> does, without running it:
    /// true only for one read-only statement (SELECT, SHOW, DESCRIBE, EXPLAIN, EXISTS, CHECK).
    /// </summary>
    public async Task<bool> IsReadOnlyAsync(string sql, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_conn == IntPtr.Zero, this);
            return Classify(sql);
        }
        finally
        {
            _gate.Release();
        }
    }

    private unsafe bool Classify(string sql)
    {
        var q = Encoding.UTF8.GetBytes(sql);
        ChdbNative.QueryAnalysis a = default;
        a.StructSize = (uint)sizeof(ChdbNative.QueryAnalysis);
        int state;
        fixed (byte* qp = q)
        {
            state = ChdbNative.chdb_classify_query_n(_conn, qp, (nuint)q.Length, null, 0, &a);
        }
        return state == 0 && a.StatementCount == 1 && a.QueryClass == 0;
    }

    private static void ThrowOnError(IntPtr result)
    {
        if (result == IntPtr.Zero)
        {
            throw new StoreException("chDB returned no result");
        }
        var err = ChdbNative.chdb_result_error(result);
        if (err != IntPtr.Zero)
        {
            throw StoreException.FromEngineMessage(Marshal.PtrToStringUTF8(err) ?? "query failed");
        }
    }

    /// <summary>The result's bytes; the buffer is NULL for statements without output.</summary>
    private static unsafe ReadOnlySpan<byte> Copy(IntPtr result)
    {
        var buf = ChdbNative.chdb_result_buffer(result);
        var len = ChdbNative.chdb_result_length(result);
        return buf == null || len == 0 ? [] : new ReadOnlySpan<byte>(buf, checked((int)len));
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_connPtr == IntPtr.Zero)
            {
                return;
            }
            ChdbNative.chdb_close_conn(_connPtr);
            _connPtr = IntPtr.Zero;
            _conn = IntPtr.Zero;
            lock (BootLock)
            {
                _openConnections--;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Parameter names and values as pinned UTF-8 buffers for the <c>_n</c> calls.</summary>
    private sealed unsafe class NativeParams : IDisposable
    {
        private readonly IntPtr _block;

        public NativeParams(IReadOnlyDictionary<string, string>? parameters, bool escape)
        {
            Count = parameters?.Count ?? 0;
            if (Count == 0)
            {
                return;
            }
            var encoded = parameters!.Select(kv => (Encoding.UTF8.GetBytes(kv.Key),
                Encoding.UTF8.GetBytes(escape ? EscapeParameter(kv.Value) : kv.Value))).ToArray();
            var bytes = encoded.Sum(e => e.Item1.Length + e.Item2.Length) + Count * 4 * sizeof(IntPtr);
            _block = Marshal.AllocHGlobal(bytes);
            var ptrs = (IntPtr*)_block;
            Names = (byte**)ptrs;
            Values = (byte**)(ptrs + Count);
            NameLens = (nuint*)(ptrs + 2 * Count);
            ValueLens = (nuint*)(ptrs + 3 * Count);
            var data = (byte*)(ptrs + 4 * Count);
            for (var i = 0; i < Count; i++)
            {
                var (n, v) = encoded[i];
                n.CopyTo(new Span<byte>(data, n.Length));
                Names[i] = data;
                NameLens[i] = (nuint)n.Length;
                data += n.Length;
                v.CopyTo(new Span<byte>(data, v.Length));
                Values[i] = data;
                ValueLens[i] = (nuint)v.Length;
                data += v.Length;
            }
        }

        public int Count { get; }
        public byte** Names { get; }
        public byte** Values { get; }
        public nuint* NameLens { get; }
        public nuint* ValueLens { get; }

        public void Dispose()
        {
            if (_block != IntPtr.Zero)
            {
                Marshal.FreeHGlobal(_block);
            }
        }
    }
}
