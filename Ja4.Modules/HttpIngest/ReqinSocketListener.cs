using System.Buffers;
using System.Net.Sockets;
using System.Text;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.HttpIngest;

/// <summary>
/// Listens on the SOCK_SEQPACKET socket mod_reqin_log connects to (one connection per Apache
/// child process), parses each message as one record and publishes it as an
/// <see cref="HttpRequest"/>. Never blocks on the pipeline (a full channel drops and counts);
/// a bad record is counted by reason and skipped, the connection stays open.
/// </summary>
/// <remarks>
/// An idle connection holds no buffer: the reader waits with a one-byte MSG_PEEK (which
/// consumes nothing), then drains every queued message synchronously into a pooled buffer of
/// <c>MaxRecordBytes + 1</c> bytes (a SEQPACKET read takes exactly one message; a longer one is
/// cut by the kernel and recognised by its length).
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class ReqinSocketListener : BackgroundService
{
    /// <summary>Messages read from one connection before yielding to the others.</summary>
    private const int DrainBatch = 1024;

    private readonly HttpIngestOptions _options;
    private readonly EventPipeline _pipeline;
    private readonly EventOutlet<HttpRequest> _outlet;
    private readonly HttpIngestMetrics _metrics;
    private readonly ILogger _log;
    private readonly InvalidRecordLog _invalidLog;
    private readonly TimeProvider _time;
    private readonly Lock _readersLock = new();
    private readonly HashSet<Task> _readers = [];
    private readonly int _maxRecord;
    private string _path = "";
    private Socket? _listener;

    public ReqinSocketListener(IOptions<HttpIngestOptions> options, EventPipeline pipeline, Ja4Metrics metrics,
        ILogger<ReqinSocketListener> log, TimeProvider time)
    {
        _options = options.Value;
        _pipeline = pipeline;
        _outlet = pipeline.Outlet<HttpRequest>(ModuleNames.HttpIngest);
        _metrics = new HttpIngestMetrics(metrics);
        _log = log;
        _time = time;
        _invalidLog = new InvalidRecordLog(log, time, _options.InvalidLogInterval);
        _maxRecord = _options.MaxRecordBytes;
    }

    /// <summary>The socket path in use (absolute); empty until started.</summary>
    internal string SocketPath => _path;

    /// <summary>Whether the socket is open (false when no consumer is enabled).</summary>
    internal bool IsListening => _listener is not null;

    internal HttpIngestMetrics Metrics => _metrics;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _path = _options.FullSocketPath;
        if (!_outlet.HasConsumers)
        {
            HttpIngestLog.NoConsumer(_log, _path);
            return Task.CompletedTask;
        }
        var mode = HttpIngestOptions.ParseMode(_options.SocketMode)!.Value;
        var bound = UnixSocketFile.Bind(_path, _options.SocketGroup, mode, backlog: 512);
        _listener = bound.Socket;
        if (bound.CreatedDirectory)
        {
            HttpIngestLog.CreatedDirectory(_log, Path.GetDirectoryName(_path)!);
        }
        if (bound.ReplacedStale)
        {
            HttpIngestLog.ReplacedStale(_log, _path);
        }
        if (bound.Warning is not null)
        {
            HttpIngestLog.SocketWarning(_log, _path, bound.Warning);
        }
        HttpIngestLog.Listening(_log, _path, string.IsNullOrWhiteSpace(_options.SocketGroup) ? "(daemon's)" : _options.SocketGroup,
            _options.SocketMode);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listener = _listener!;
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e)
            {
                // EMFILE and the like: keep the daemon up and try again shortly.
                HttpIngestLog.AcceptFailed(_log, e);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), _time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            if (Volatile.Read(ref _metrics.OpenConnections) >= _options.MaxConnections)
            {
                _metrics.Rejected.Increment();
                HttpIngestLog.TooManyConnections(_log, _options.MaxConnections);
                client.Dispose();
                continue;
            }
            Interlocked.Increment(ref _metrics.OpenConnections);
            _metrics.Connections.Increment();
            var task = Task.Run(() => ReadConnectionAsync(client, stoppingToken), CancellationToken.None);
            lock (_readersLock)
            {
                _readers.Add(task);
            }
            _ = task.ContinueWith(t =>
            {
                lock (_readersLock)
                {
                    _readers.Remove(t);
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_listener is null)
        {
            return;
        }
        try
        {
            await base.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _listener.Dispose();
            UnixSocketFile.Remove(_path);
            Task[] readers;
            lock (_readersLock)
            {
                readers = [.. _readers];
            }
            try
            {
                await Task.WhenAll(readers).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            _pipeline.Complete(ModuleNames.HttpIngest);
            HttpIngestLog.Stopped(_log, _path, _metrics.Records.Value, _metrics.InvalidTotal);
            _listener = null;
        }
    }

    private async Task ReadConnectionAsync(Socket socket, CancellationToken stoppingToken)
    {
        var parser = new ReqinRecordParser(_options.HeaderSignature);
        var peek = new byte[1];
        var reason = "closed by Apache";
        try
        {
            socket.Blocking = false;
            while (true)
            {
                var n = await socket.ReceiveAsync(peek, SocketFlags.Peek, stoppingToken).ConfigureAwait(false);
                if (n == 0 || !Drain(socket, parser))
                {
                    break;   // end of stream (or an empty message, which the module never sends)
                }
            }
        }
        catch (OperationCanceledException)
        {
            reason = "daemon stopping";
            try
            {
                Drain(socket, parser);   // what Apache already handed over
            }
            catch (SocketException)
            {
            }
        }
        catch (SocketException e)
        {
            reason = e.Message;
        }
        catch (ObjectDisposedException)
        {
            reason = "closed";
        }
        finally
        {
            socket.Dispose();
            Interlocked.Decrement(ref _metrics.OpenConnections);
            HttpIngestLog.ConnectionEnded(_log, reason);
        }
    }

    /// <summary>Reads queued messages until none is left. False at end of stream.</summary>
    private bool Drain(Socket socket, ReqinRecordParser parser)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_maxRecord + 1);
        try
        {
            var window = buffer.AsSpan(0, _maxRecord + 1);
            for (var i = 0; i < DrainBatch; i++)
            {
                var n = socket.Receive(window, SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                {
                    return true;
                }
                if (error != SocketError.Success)
                {
                    throw new SocketException((int)error);
                }
                if (n == 0)
                {
                    return false;
                }
                Handle(window[..n], parser);
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Handle(ReadOnlySpan<byte> record, ReqinRecordParser parser)
    {
        _metrics.Bytes.Add(record.Length);
        if (record.Length > _maxRecord)
        {
            Invalid(new(ReqinInvalidReason.Oversized, $"more than {_maxRecord} bytes (Modules:HttpIngest:MaxRecordBytes)"), record);
            return;
        }
        if (!parser.TryParse(record, out var request, out var error))
        {
            Invalid(error, record);
            return;
        }
        _metrics.Records.Increment();
        if (request.Truncated)
        {
            _metrics.Truncated.Increment();
        }
        _outlet.TryPublish(request);
    }

    private void Invalid(ReqinParseError error, ReadOnlySpan<byte> record)
    {
        _metrics.Invalid(error.Reason).Increment();
        _invalidLog.Report(error, record);
    }
}

/// <summary>At most one message per interval about invalid records, with a sample and how many were not logged.</summary>
internal sealed class InvalidRecordLog(ILogger log, TimeProvider time, TimeSpan interval)
{
    private const int SampleBytes = 64;
    private readonly Lock _lock = new();
    private long _last;
    private bool _any;
    private long _suppressed;

    public void Report(ReqinParseError error, ReadOnlySpan<byte> record)
    {
        long suppressed;
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_any && time.GetElapsedTime(_last, now) < interval)
            {
                _suppressed++;
                return;
            }
            _any = true;
            _last = now;
            suppressed = _suppressed;
            _suppressed = 0;
        }
        HttpIngestLog.InvalidRecord(log, ReqinParseError.Label(error.Reason), error.Detail, Sample(record), suppressed);
    }

    /// <summary>The first bytes, printable ASCII kept, the rest as \xNN.</summary>
    internal static string Sample(ReadOnlySpan<byte> record)
    {
        var sb = new StringBuilder();
        foreach (var b in record[..Math.Min(record.Length, SampleBytes)])
        {
            if (b is >= 0x20 and < 0x7F && b != (byte)'\\')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        if (record.Length > SampleBytes)
        {
            sb.Append('…');
        }
        return sb.ToString();
    }
}
