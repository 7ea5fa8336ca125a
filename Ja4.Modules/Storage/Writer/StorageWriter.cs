using System.Threading.Channels;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Storage.Engines;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Storage.Writer;

/// <summary>
/// Writes correlated requests to <c>http_logs</c> and ClientHellos to <c>tls_handshakes</c> in
/// batches closed by row count, size or age, each one <c>Native</c> block (column-oriented: the engine
/// reads it without parsing rows). A batch whose insert fails after a few
/// attempts goes to the on-disk spill queue; while the queue holds anything, new batches are
/// appended behind it so that order is kept, and the queue is replayed oldest first. Every insert
/// carries a deduplication token, so a batch replayed twice (a crash between the insert and
/// the queue's commit) is stored once. When the queue is full too, the writer stops reading
/// its channels: back-pressure, never unbounded memory. A row is acknowledged (counted in
/// <c>ja4_storage_rows_durable_total</c>) once it is in the store or fsynced in the queue.
/// </summary>
public sealed class StorageWriter : BackgroundService, IPipelineStage
{
    public PipelineStage Stage => PipelineStage.Consume;

    private readonly IStoreExecutor _store;
    private readonly StorageOptions _options;
    private readonly ChannelReader<CorrelatedRequest>? _requests;
    private readonly ChannelReader<TlsClientHello>? _handshakes;
    private readonly SpillQueue _spill;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<CancellationToken, Task>? _ensureSchema;
    private readonly ulong _runId = (ulong)Random.Shared.NextInt64();
    private ulong _sequence;
    private readonly Batch _http;
    private readonly Batch _tls;
    private readonly Stack<ByteBuffer> _freeBuffers = new();
    private readonly Queue<Pending> _inFlight = new();
    private readonly Batch[] _batches;
    private readonly long _batchMaxBytes;
    private DateTimeOffset _nextReplayAt;
    private TimeSpan _replayDelay;
    private bool _spillFullReported;
    private bool _schemaReady;
    private long _replayedSinceEmpty;

    private readonly Counter _durable;
    private readonly Counter _retries;
    private readonly Counter _insertErrors;
    private readonly Counter _spilledRows;
    private readonly Counter _spilledBytes;
    private readonly Counter _spillFull;
    private readonly Counter _replayedRows;
    private readonly Counter _replayedBatches;
    private readonly Counter _lost;

    public StorageWriter(IStoreExecutor store, StorageOptions options, ChannelReader<CorrelatedRequest>? requests,
        ChannelReader<TlsClientHello>? handshakes, SpillQueue spill, Ja4Metrics metrics, TimeProvider time, ILogger logger,
        Func<CancellationToken, Task>? ensureSchema = null)
    {
        _store = store;
        _options = options;
        _requests = requests;
        _handshakes = handshakes;
        _spill = spill;
        _time = time;
        _logger = logger;
        _ensureSchema = ensureSchema;
        _schemaReady = ensureSchema is null;
        _http = new Batch(new HttpLogsBlock(), metrics);
        _tls = new Batch(new TlsHandshakesBlock(), metrics);
        _batches = [_http, _tls];
        _batchMaxBytes = (long)options.BatchMaxMb << 20;
        // One encoding buffer per insert in flight: a batch is encoded once fewer than InsertConcurrency are.
        for (var i = 0; i < options.InsertConcurrency; i++)
        {
            _freeBuffers.Push(new ByteBuffer(1 << 20));
        }
        _replayDelay = options.RetryDelay;
        _durable = metrics.Counter("ja4_storage_rows_durable_total", "Rows acknowledged: in the store or fsynced in the spill queue.");
        _retries = metrics.Counter("ja4_storage_insert_retries_total", "Insert attempts repeated after a failure.");
        _insertErrors = metrics.Counter("ja4_storage_insert_errors_total", "Failed insert attempts.");
        _spilledRows = metrics.Counter("ja4_storage_spilled_rows_total", "Rows written to the spill queue.");
        _spilledBytes = metrics.Counter("ja4_storage_spilled_bytes_total", "Bytes written to the spill queue.");
        _spillFull = metrics.Counter("ja4_storage_spill_full_total", "Times a batch could not be spilled (queue full or disk error).");
        _replayedRows = metrics.Counter("ja4_storage_replayed_rows_total", "Rows replayed from the spill queue into the store.");
        _replayedBatches = metrics.Counter("ja4_storage_replayed_batches_total", "Batches replayed from the spill queue.");
        _lost = metrics.Counter("ja4_storage_rows_lost_total", "Rows lost: refused by store and spill at shutdown, or corrupt in the spill.");
        metrics.Gauge("ja4_storage_spill_bytes", "Bytes waiting in the spill queue.", () => _spill.Bytes);
        if (_spill.HasRecords)
        {
            StorageLog.SpillFound(_logger, _spill.Bytes, options.SpillPath);
        }
    }

    /// <summary>Rows acknowledged so far (in the store or the spill queue), in arrival order.</summary>
    public long DurableRows => _durable.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var batchAge = _options.BatchAge;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await HarvestAsync(stoppingToken).ConfigureAwait(false);
                await ReplayAsync(stoppingToken).ConfigureAwait(false);
                var drained = Drain(_requests, _http, stoppingToken) | Drain(_handshakes, _tls, stoppingToken);
                var now = _time.GetUtcNow();
                foreach (var b in _batches)
                {
                    if (Full(b) || b.Block.Rows > 0 && now - b.OpenedAt >= batchAge)
                    {
                        await FlushAsync(b, shuttingDown: false, stoppingToken).ConfigureAwait(false);
                    }
                }
                if (Completed(_requests) && Completed(_handshakes) && _http.Block.Rows == 0 && _tls.Block.Rows == 0 && _inFlight.Count == 0)
                {
                    if (!_spill.HasRecords)
                    {
                        break;
                    }
                }
                if (drained)
                {
                    continue;
                }
                await WaitAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await ShutdownAsync().ConfigureAwait(false);
    }

    /// <summary>Drains what is already queued, flushes it (to the store, else to the spill queue).</summary>
    private async Task ShutdownAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await HarvestAsync(deadline.Token, wait: _inFlight.Count).ConfigureAwait(false);
        await FlushQueuedAsync(_requests, _http, deadline.Token).ConfigureAwait(false);
        await FlushQueuedAsync(_handshakes, _tls, deadline.Token).ConfigureAwait(false);
        StorageLog.WriterStopped(_logger, _http.Written.Value + _tls.Written.Value, _spill.Bytes);
    }

    /// <summary>Flushes the batch and everything still queued for it, one full batch at a time.</summary>
    private async Task FlushQueuedAsync<T>(ChannelReader<T>? reader, Batch batch, CancellationToken ct)
    {
        while (true)
        {
            Drain(reader, batch, CancellationToken.None);
            var more = Full(batch);
            if (batch.Block.Rows > 0)
            {
                await FlushAsync(batch, shuttingDown: true, ct).ConfigureAwait(false);
            }
            if (!more)
            {
                return;
            }
        }
    }

    /// <summary>The batch holds <c>BatchSize</c> rows or <c>BatchMaxMb</c> of events.</summary>
    private bool Full(Batch batch) => batch.Block.Rows >= _options.BatchSize || batch.Bytes >= _batchMaxBytes;

    private static bool Completed<T>(ChannelReader<T>? reader) => reader is null || reader.Completion.IsCompleted;

    /// <summary>Moves queued events into the batch until it is full (<c>BatchSize</c> rows or <c>BatchMaxMb</c>); true when anything was read.</summary>
    private bool Drain<T>(ChannelReader<T>? reader, Batch batch, CancellationToken token)
    {
        if (reader is null)
        {
            return false;
        }
        var any = false;
        while (!Full(batch) && reader.TryRead(out var item))
        {
            if (batch.Block.Rows == 0)
            {
                batch.OpenedAt = _time.GetUtcNow();
            }
            batch.Bytes += item is ISizedEvent sized ? sized.ApproximateBytes : 0;
            switch (item)
            {
                case CorrelatedRequest c:
                    ((HttpLogsBlock)batch.Block).Add(c);
                    break;
                case TlsClientHello h:
                    ((TlsHandshakesBlock)batch.Block).Add(h);
                    break;
            }
            any = true;
        }
        return any && !token.IsCancellationRequested;
    }

    private async Task WaitAsync(CancellationToken token)
    {
        var now = _time.GetUtcNow();
        var wake = TimeSpan.FromSeconds(1);
        foreach (var b in _batches)
        {
            if (b.Block.Rows > 0)
            {
                var left = b.OpenedAt + _options.BatchAge - now;
                wake = left < wake ? left : wake;
            }
        }
        if (_spill.HasRecords)
        {
            var left = _nextReplayAt - now;
            wake = left < wake ? left : wake;
        }
        if (wake <= TimeSpan.Zero)
        {
            return;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
        var waits = new List<Task> { Task.Delay(wake, _time, cts.Token) };
        if (_requests is not null && !_requests.Completion.IsCompleted)
        {
            waits.Add(_requests.WaitToReadAsync(cts.Token).AsTask());
        }
        if (_handshakes is not null && !_handshakes.Completion.IsCompleted)
        {
            waits.Add(_handshakes.WaitToReadAsync(cts.Token).AsTask());
        }
        // The oldest insert in flight finishing wakes the loop too (it is acknowledged then), but is not waited for below.
        await (_inFlight.TryPeek(out var oldest) ? Task.WhenAny(Task.WhenAny(waits), oldest.Insert) : Task.WhenAny(waits)).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(waits.Select(t => t.ContinueWith(static _ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        token.ThrowIfCancellationRequested();
    }

    private async Task<bool> TryInsertAsync(SpillRecord record, int attempt, CancellationToken ct)
    {
        var table = record.Table;
        var rows = record.Rows;
        try
        {
            if (!_schemaReady)
            {
                await _ensureSchema!(ct).ConfigureAwait(false);
                _schemaReady = true;
            }
            await _store.InsertAsync(_options.Database + "." + TableBlock.TableName(table), TableBlock.Columns(table),
                record.Format.ToString(), record.Payload, new Dictionary<string, string>
                {
                    ["insert_deduplicate"] = "1",
                    ["insert_deduplication_token"] = record.Token,
                    ["deduplicate_blocks_in_dependent_materialized_views"] = "1",
                    // The views' aggregate tables would merge equal keys within each inserted block: the views'
                    // GROUP BY already made their keys unique, so that pass is pure cost (about a quarter of the
                    // insert's CPU time when every row is a group of its own, docs/BENCHMARKS.md).
                    ["optimize_on_insert"] = "0",
                }, ct).ConfigureAwait(false);
            return true;
        }
        // ObjectDisposedException: the store was closed under the insert (a stop that outlasted the host's shutdown
        // deadline): the batch fails like any other insert and goes to the spill rather than being lost with the writer.
        catch (Exception e) when (e is StoreException or HttpRequestException or IOException or TimeoutException
                                       or Schema.MigrationException or ObjectDisposedException
                                       || e is OperationCanceledException && !ct.IsCancellationRequested)
        {
            _insertErrors.Increment();
            StorageLog.InsertFailed(_logger, rows, TableBlock.TableName(table), attempt, e.Message);
            return false;
        }
    }

    /// <summary>
    /// Encodes the batch and starts its insert, after waiting for the oldest insert in flight when
    /// <c>InsertConcurrency</c> of them already are. While the spill queue holds anything (where a failed insert goes
    /// once collected), nothing overlaps: the inserts in flight are completed first and the batch goes behind the queue.
    /// </summary>
    private async Task FlushAsync(Batch batch, bool shuttingDown, CancellationToken ct)
    {
        await HarvestAsync(ct, wait: _inFlight.Count >= _options.InsertConcurrency ? 1 : 0).ConfigureAwait(false);
        var rows = batch.Block.Rows;
        var buffer = _freeBuffers.Pop();
        buffer.Clear();
        batch.Block.Encode(buffer);
        batch.Block.Clear();
        batch.Bytes = 0;
        // The encoded block is read in place (the insert and the spill are done with it before its buffer is
        // encoded into again): a copy per batch was several megabytes on the large-object heap, each one a step
        // towards a full collection.
        var record = new SpillRecord(batch.Block.Table, rows, _runId, ++_sequence, buffer.Memory, InsertFormat.Native);
        if (_spill.HasRecords)
        {
            await SpillAsync(record, shuttingDown, ct).ConfigureAwait(false);
            _freeBuffers.Push(buffer);
            return;
        }
        var attempts = shuttingDown ? 1 : _options.InsertAttempts;
        _inFlight.Enqueue(new Pending(batch, record, buffer, shuttingDown, InsertWithRetriesAsync(record, attempts, ct)));
        if (shuttingDown)
        {
            await HarvestAsync(ct, wait: _inFlight.Count).ConfigureAwait(false);
        }
    }

    /// <summary>Attempts one insert up to <paramref name="attempts"/> times with back-off; false when every attempt failed.</summary>
    private async Task<bool> InsertWithRetriesAsync(SpillRecord record, int attempts, CancellationToken ct)
    {
        var delay = _options.RetryDelay;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            if (attempt > 1)
            {
                _retries.Increment();
                try
                {
                    await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
                delay = Min(delay * 2, _options.RetryMaxDelay);
            }
            if (await TryInsertAsync(record, attempt, CancellationToken.None).ConfigureAwait(false))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Completes the inserts in flight oldest first: those already finished, and at least <paramref name="wait"/>
    /// of them even if that means waiting; all of them while the spill queue holds anything, so that nothing
    /// overlaps the queue's replay and new batches go behind it. A stored batch is acknowledged; a failed one goes
    /// to the spill queue. Completing them in the order they started keeps the acknowledged rows a prefix of the
    /// arrival order.
    /// </summary>
    private async Task HarvestAsync(CancellationToken ct, int wait = 0)
    {
        while (_inFlight.TryPeek(out var p) && (wait > 0 || p.Insert.IsCompleted || _spill.HasRecords))
        {
            _inFlight.Dequeue();
            wait--;
            if (await p.Insert.ConfigureAwait(false))
            {
                p.Batch.Written.Add(p.Record.Rows);
                p.Batch.Batches.Increment();
                _durable.Add(p.Record.Rows);
            }
            else
            {
                await SpillAsync(p.Record, p.ShuttingDown, ct).ConfigureAwait(false);
            }
            _freeBuffers.Push(p.Buffer);
        }
    }

    /// <summary>Appends to the spill queue; when it is full, holds the batch (back-pressure) until the store or the queue takes it.</summary>
    private async Task SpillAsync(SpillRecord record, bool shuttingDown, CancellationToken ct)
    {
        var delay = _options.RetryDelay;
        while (true)
        {
            var result = _spill.Append(record);
            if (result == SpillAppend.Stored)
            {
                _spilledRows.Add(record.Rows);
                _spilledBytes.Add(record.Payload.Length + SpillQueue.HeaderSize);
                _durable.Add(record.Rows);
                StorageLog.Spilled(_logger, record.Rows, TableBlock.TableName(record.Table), _spill.Bytes);
                _spillFullReported = false;
                return;
            }
            _spillFull.Increment();
            if (!_spillFullReported)
            {
                StorageLog.SpillFull(_logger, result == SpillAppend.Full ? $"SpillMaxMb={_options.SpillMaxMb} reached" : "disk error",
                    _spill.Bytes, _options.SpillPath);
                _spillFullReported = true;
            }
            if (shuttingDown || ct.IsCancellationRequested)
            {
                _lost.Add(record.Rows);
                StorageLog.LostAtShutdown(_logger, record.Rows);
                return;
            }
            // The queue is full: make room by replaying, or write straight through once the store is back.
            if (_spill.HasRecords)
            {
                await ReplayAsync(ct, force: true).ConfigureAwait(false);
            }
            else if (await TryInsertAsync(record, 0, CancellationToken.None).ConfigureAwait(false))
            {
                (record.Table == StoreTable.HttpLogs ? _http : _tls).Written.Add(record.Rows);
                _durable.Add(record.Rows);
                return;
            }
            try
            {
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            delay = Min(delay * 2, _options.RetryMaxDelay);
        }
    }

    /// <summary>Replays the oldest spilled batch when its retry time has come.</summary>
    private async Task ReplayAsync(CancellationToken ct, bool force = false)
    {
        while (_spill.HasRecords && (force || _time.GetUtcNow() >= _nextReplayAt) && !ct.IsCancellationRequested)
        {
            var record = _spill.Peek();
            if (record is null)
            {
                if (!_spill.HasRecords)
                {
                    StorageLog.ReplayDone(_logger, _replayedSinceEmpty);
                    _replayedSinceEmpty = 0;
                }
                return;
            }
            if (!await TryInsertAsync(record, 0, CancellationToken.None).ConfigureAwait(false))
            {
                _nextReplayAt = _time.GetUtcNow() + _replayDelay;
                _replayDelay = Min(_replayDelay * 2, _options.RetryMaxDelay);
                return;
            }
            _spill.Commit();
            _replayDelay = _options.RetryDelay;
            _replayedRows.Add(record.Rows);
            _replayedBatches.Increment();
            _replayedSinceEmpty += record.Rows;
            var b = record.Table == StoreTable.HttpLogs ? _http : _tls;
            b.Written.Add(record.Rows);
            b.Batches.Increment();
            if (!_spill.HasRecords)
            {
                StorageLog.ReplayDone(_logger, _replayedSinceEmpty);
                _replayedSinceEmpty = 0;
            }
            if (force)
            {
                return;
            }
            // Let newly arrived events be read between replayed batches.
            if (_requests is { Count: > 0 } || _handshakes is { Count: > 0 })
            {
                return;
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    public override void Dispose()
    {
        base.Dispose();
        _spill.Dispose();
    }

    /// <summary>A batch whose insert has started: its record, the buffer its payload lives in, and the insert.</summary>
    private sealed record Pending(Batch Batch, SpillRecord Record, ByteBuffer Buffer, bool ShuttingDown, Task<bool> Insert);

    private sealed class Batch(TableBlock block, Ja4Metrics metrics)
    {
        public TableBlock Block { get; } = block;
        public DateTimeOffset OpenedAt { get; set; }
        /// <summary>Estimated managed bytes of the events in the batch (<see cref="ISizedEvent"/>).</summary>
        public long Bytes { get; set; }
        public Counter Written { get; } = metrics.Counter("ja4_storage_rows_written_total", "Rows written to the store.",
            ("table", TableBlock.TableName(block.Table)));
        public Counter Batches { get; } = metrics.Counter("ja4_storage_batches_total", "Batches written to the store.",
            ("table", TableBlock.TableName(block.Table)));
    }
}
