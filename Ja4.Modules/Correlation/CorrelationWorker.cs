using System.Threading.Channels;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Correlation.Sinks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Correlation;

/// <summary>
/// Runs the <see cref="ConnectionTable"/> on the live pipeline: reads handshakes, connection ends
/// and HTTP requests, applies the IP filter, and writes every correlated request to storage and
/// the dashboard feed (one outlet, storage with back-pressure) and to the enabled sinks.
/// When its inputs complete, or on shutdown, it drains what is queued, sends the requests still
/// waiting out unmatched, and completes its outlets.
/// </summary>
public sealed class CorrelationWorker : BackgroundService, IPipelineStage
{
    public PipelineStage Stage => PipelineStage.Join;

    /// <summary>Events taken from one input before the others get a turn.</summary>
    private const int Batch = 1024;

    /// <summary>Longest single sleep when nothing has a deadline (the timers cannot take much more anyway).</summary>
    private static readonly TimeSpan MaxSleep = TimeSpan.FromHours(1);

    private readonly EventPipeline _pipeline;
    private readonly CorrelationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<CorrelationWorker> _logger;
    private readonly IpFilterGate _filter;
    private readonly IReadOnlyList<ICorrelationSink> _sinks;
    private readonly Counter[] _sinkWritten;
    private readonly Counter[] _sinkErrors;
    private readonly ChannelReader<TlsClientHello>? _handshakes;
    private readonly ChannelReader<ConnectionClosed>? _closes;
    private readonly ChannelReader<HttpRequest>? _requests;
    private readonly EventOutlet<CorrelatedRequest> _outlet;
    private readonly Counter _discarded;
    private readonly List<CorrelatedRequest> _ready = new(Batch * 2);
    private int _sunk;
    private int _started;
    private bool _capWarned;
    private bool _pendingCapWarned;

    public CorrelationWorker(EventPipeline pipeline, IOptions<CorrelationOptions> options, TimeProvider time,
        Ja4Metrics metrics, IpFilter ipFilter, ILogger<CorrelationWorker> logger)
        : this(pipeline, options.Value, time, metrics, ipFilter, logger, CreateSinks(options.Value))
    {
    }

    /// <summary>With explicit sinks (tests, replay); the worker disposes them when it stops.</summary>
    public CorrelationWorker(EventPipeline pipeline, CorrelationOptions options, TimeProvider time, Ja4Metrics metrics,
        IpFilter ipFilter, ILogger<CorrelationWorker> logger, IReadOnlyList<ICorrelationSink> sinks)
    {
        _pipeline = pipeline;
        _options = options;
        _time = time;
        _logger = logger;
        _sinks = sinks;
        _filter = ipFilter.For(ModuleNames.Correlation);
        _handshakes = pipeline.Reader<TlsClientHello>(Edges.Handshakes);
        _closes = pipeline.Reader<ConnectionClosed>(Edges.Connections);
        _requests = pipeline.Reader<HttpRequest>(Edges.HttpRequests);
        _outlet = pipeline.Outlet<CorrelatedRequest>(ModuleNames.Correlation);
        Metrics = new CorrelationMetrics(metrics);
        Table = new ConnectionTable(options, captureEnabled: _handshakes is not null, Metrics);
        Metrics.Track(metrics, Table);
        _sinkWritten = [.. sinks.Select(s => metrics.Counter("ja4_correlation_sink_written_total",
            "Records written by a correlation sink.", ("sink", s.Name)))];
        _sinkErrors = [.. sinks.Select(s => metrics.Counter("ja4_correlation_sink_errors_total",
            "Records a correlation sink failed to write.", ("sink", s.Name)))];
        _discarded = metrics.Counter("ja4_correlation_discarded_total",
            "Capture events read and discarded because HTTP ingest is disabled on this node.");
    }

    /// <summary>The join state (read by tests and metrics; only this worker's loop mutates it).</summary>
    public ConnectionTable Table { get; }

    public CorrelationMetrics Metrics { get; }

    internal static IReadOnlyList<ICorrelationSink> CreateSinks(CorrelationOptions options)
    {
        var sinks = new List<ICorrelationSink>();
        if (options.Sinks.File.Enabled)
        {
            try
            {
                sinks.Add(new RotatingFileSink(options.Sinks.File.Path, options.Sinks.File.MaxSizeMb * 1024L * 1024L,
                    options.Sinks.File.Keep));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException(
                    $"Modules:Correlation:Sinks:File:Path {options.Sinks.File.Path} cannot be opened for writing: {e.Message}", e);
            }
        }
        if (options.Sinks.Stdout.Enabled)
        {
            sinks.Add(new StdoutSink());
        }
        return sinks;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // BackgroundService does not run ExecuteAsync at all when it is stopped before its task
        // started: the queued events must still be drained and the outlets completed.
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            await DrainAndCompleteAsync().ConfigureAwait(false);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }
        // Let the host finish starting before the loop takes the thread.
        await Task.Yield();
        CorrelationLog.Started(_logger, _handshakes is null ? "off" : "on", _requests is null ? "off" : "on",
            string.Join(", ", _sinks.Select(s => s.Name)), _options.HandshakeWait, _options.MaxConnections);
        if (_handshakes is null)
        {
            CorrelationLog.CaptureDisabled(_logger);
        }
        if (_requests is null)
        {
            CorrelationLog.IngestDisabled(_logger);
        }
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var read = Step(Batch);
                await PublishReadyAsync(stoppingToken).ConfigureAwait(false);
                if (read > 0)
                {
                    continue;
                }
                if (InputsCompleted())
                {
                    break;
                }
                FlushSinks();
                await WaitForWorkAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: fall through to the drain.
        }
        await DrainAndCompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Reads up to <paramref name="budget"/> events per input, applies the clock; returns events read.</summary>
    internal int Step(int budget)
    {
        var now = _time.GetUtcNow();
        var read = ReadCapture(now, budget) + ReadRequests(now, budget);
        Table.Expire(_time.GetUtcNow(), _ready);
        return read;
    }

    private int ReadCapture(DateTimeOffset now, int budget)
    {
        var n = 0;
        while (n < budget)
        {
            TlsClientHello? hello = null;
            ConnectionClosed? closed = null;
            var hasHello = _handshakes is not null && _handshakes.TryPeek(out hello);
            var hasClose = _closes is not null && _closes.TryPeek(out closed);
            if (!hasHello && !hasClose)
            {
                break;
            }
            n++;
            // Both come from the capture clock: apply them in capture order, so that a FIN and the
            // next handshake on a reused port are seen in the order they happened.
            if (hasHello && (!hasClose || hello!.Timestamp <= closed!.Timestamp))
            {
                _handshakes!.TryRead(out hello);
                if (_requests is null)
                {
                    _discarded.Increment();
                }
                else if (_filter.Admit(hello!.Flow.ClientIp))
                {
                    Table.AddHandshake(hello, now, _ready);
                }
            }
            else
            {
                _closes!.TryRead(out closed);
                if (_requests is null)
                {
                    _discarded.Increment();
                }
                else if (_filter.Allows(closed!.Flow.ClientIp))
                {
                    Table.CloseConnection(closed, now);
                }
            }
        }
        if (!_capWarned && Metrics.EvictedCap.Value > 0)
        {
            _capWarned = true;
            CorrelationLog.CapReached(_logger, _options.MaxConnections, Metrics.EvictedCap.Value);
        }
        return n;
    }

    private int ReadRequests(DateTimeOffset now, int budget)
    {
        if (_requests is null)
        {
            return 0;
        }
        var n = 0;
        while (n < budget && _requests.TryRead(out var request))
        {
            n++;
            if (_filter.Admit(request.Flow.ClientIp))
            {
                Table.AddRequest(request, now, _ready);
            }
        }
        if (!_pendingCapWarned && Metrics.PendingEvictions.Value > 0)
        {
            _pendingCapWarned = true;
            CorrelationLog.PendingCapReached(_logger, _options.MaxPendingRequests, Metrics.PendingEvictions.Value);
        }
        return n;
    }

    private bool InputsCompleted()
    {
        var any = _handshakes is not null || _closes is not null || _requests is not null;
        return any &&
               (_handshakes?.Completion.IsCompleted ?? true) &&
               (_closes?.Completion.IsCompleted ?? true) &&
               (_requests?.Completion.IsCompleted ?? true);
    }

    private async Task WaitForWorkAsync(CancellationToken stoppingToken)
    {
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var waits = new List<Task>(4);
        AddWait(waits, _handshakes, wake.Token);
        AddWait(waits, _closes, wake.Token);
        AddWait(waits, _requests, wake.Token);
        if (Table.NextDeadline() is { } deadline)
        {
            var delay = deadline - _time.GetUtcNow();
            if (delay <= TimeSpan.Zero)
            {
                return;
            }
            waits.Add(Task.Delay(delay < MaxSleep ? delay : MaxSleep, _time, wake.Token));
        }
        if (waits.Count == 0)
        {
            // The inputs may have completed since the loop looked: then there is nothing to wait for
            // (waiting here would never wake up, and the drain would wait for the stop).
            if (InputsCompleted())
            {
                return;
            }
            waits.Add(Task.Delay(Timeout.InfiniteTimeSpan, _time, wake.Token));
        }
        try
        {
            await Task.WhenAny(waits).ConfigureAwait(false);
        }
        finally
        {
            await wake.CancelAsync().ConfigureAwait(false);
        }
        stoppingToken.ThrowIfCancellationRequested();
    }

    private static void AddWait<T>(List<Task> waits, ChannelReader<T>? reader, CancellationToken token)
    {
        if (reader is not null && !reader.Completion.IsCompleted)
        {
            waits.Add(reader.WaitToReadAsync(token).AsTask());
        }
    }

    private async Task PublishReadyAsync(CancellationToken token)
    {
        if (_ready.Count == 0)
        {
            return;
        }
        // Sinks first: they never wait, and a record is written to them once even when the
        // publication below is interrupted and finished by the shutdown drain.
        for (; _sunk < _ready.Count; _sunk++)
        {
            WriteSinks(_ready[_sunk]);
        }
        var done = 0;
        try
        {
            for (; done < _ready.Count; done++)
            {
                await _outlet.PublishAsync(_ready[done], token).ConfigureAwait(false);
            }
        }
        finally
        {
            // On cancellation, the rest stays for the shutdown drain (the interrupted one included:
            // a Wait edge that was cancelled did not take it).
            _ready.RemoveRange(0, done);
            _sunk -= done;
        }
    }

    private void WriteSinks(CorrelatedRequest item)
    {
        for (var i = 0; i < _sinks.Count; i++)
        {
            try
            {
                _sinks[i].Write(item);
                _sinkWritten[i].Increment();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                SinkError(i, e);
            }
        }
    }

    private void FlushSinks()
    {
        for (var i = 0; i < _sinks.Count; i++)
        {
            try
            {
                _sinks[i].Flush();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                SinkError(i, e);
            }
        }
    }

    private void SinkError(int sink, Exception e)
    {
        _sinkErrors[sink].Increment();
        var errors = _sinkErrors[sink].Value;
        // Rate-limited: the first error, then every 10,000th.
        if (errors == 1 || errors % 10_000 == 0)
        {
            CorrelationLog.SinkFailed(_logger, e, _sinks[sink].Name, errors);
        }
    }

    private async Task DrainAndCompleteAsync()
    {
        var flushed = 0;
        try
        {
            while (Step(int.MaxValue) > 0)
            {
            }
            var before = _ready.Count;
            Table.FlushPending(_time.GetUtcNow(), _ready);
            flushed = _ready.Count - before;
            using var timeout = new CancellationTokenSource(_options.DrainTimeout, _time);
            try
            {
                await PublishReadyAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                CorrelationLog.DrainLost(_logger, _ready.Count, _options.DrainTimeout);
                _ready.Clear();
                _sunk = 0;
            }
            FlushSinks();
        }
        finally
        {
            foreach (var sink in _sinks)
            {
                try
                {
                    sink.Dispose();
                }
                catch (IOException e)
                {
                    CorrelationLog.SinkFailed(_logger, e, sink.Name, 0);
                }
            }
            _pipeline.Complete(ModuleNames.Correlation);
            var matched = Metrics.Emitted(MatchStatus.Matched);
            var all = Enum.GetValues<MatchStatus>().Sum(s => Metrics.Emitted(s));
            CorrelationLog.Stopped(_logger, matched, all - matched, flushed);
        }
    }
}
