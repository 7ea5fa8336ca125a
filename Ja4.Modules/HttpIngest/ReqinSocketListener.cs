using Ja4.Modules.Core.Filtering;
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
/// Connections are read by one dedicated thread (<see cref="ReqinReader"/>), not with async
/// socket operations: what Apache pays per record is mostly the wake-up of a reader sleeping on
/// the socket, so under load the reader does not sleep on the sockets at all. It drains every
/// connection, sleeps about a millisecond, and drains again; only when nothing arrived for a few
/// rounds does it block in <c>poll()</c>. A SEQPACKET read takes exactly one message into a
/// buffer of <c>MaxRecordBytes + 1</c> bytes; a longer one is cut by the kernel and recognised
/// by its length.
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class ReqinSocketListener : BackgroundService, IPipelineStage
{
    public PipelineStage Stage => PipelineStage.Intake;

    private readonly HttpIngestOptions _options;
    private readonly EventPipeline _pipeline;
    private readonly EventOutlet<HttpRequest> _outlet;
    private readonly HttpIngestMetrics _metrics;
    private readonly ILogger _log;
    private readonly InvalidRecordLog _invalidLog;
    private readonly TimeProvider _time;
    private readonly int _maxRecord;
    private string _path = "";
    private Socket? _listener;
    private ReqinReader? _reader;
    private readonly IpFilterGate _filter;
    /// <summary>Records of the message being handled (reader thread only).</summary>
    private readonly List<HttpRequest> _batch = new(256);

    public ReqinSocketListener(IOptions<HttpIngestOptions> options, EventPipeline pipeline, Ja4Metrics metrics,
        ILogger<ReqinSocketListener> log, TimeProvider time, IpFilter? ipFilter = null)
    {
        _filter = (ipFilter ?? IpFilter.AllowAll).For(ModuleNames.HttpIngest);
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
        _reader = new ReqinReader(_maxRecord, new ReqinRecordParser(_options.HeaderSignature), Handle, _metrics, _log);
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
            _reader!.Add(client);
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
            // The reader drains what Apache already handed over, then closes every connection:
            // one last round over the connections after at most one poll() timeout (1 s), so it is
            // awaited even past the host's deadline; skipping it would leave the edge open and the
            // consumers waiting for records that are already here.
            await _reader!.StopAsync().ConfigureAwait(false);
            _pipeline.Complete(ModuleNames.HttpIngest);
            HttpIngestLog.Stopped(_log, _path, _metrics.Records.Value, _metrics.InvalidTotal);
            _listener = null;
        }
    }

    /// <summary>
    /// One message, on the reader thread: one record, or several separated by <c>\n</c> (the
    /// module batches; a record never contains a raw newline). Empty lines are skipped.
    /// </summary>
    /// <remarks>
    /// The records of one message are published together after it is parsed: a consumer waiting
    /// on the channel is then woken once per batch, not once per record it catches up with.
    /// </remarks>
    private void Handle(ReadOnlySpan<byte> message, ReqinRecordParser parser)
    {
        _metrics.Bytes.Add(message.Length);
        if (message.Length > _maxRecord)
        {
            Invalid(new(ReqinInvalidReason.Oversized, $"more than {_maxRecord} bytes (Modules:HttpIngest:MaxRecordBytes)"), message);
            return;
        }
        while (true)
        {
            var newline = message.IndexOf((byte)'\n');
            var record = newline < 0 ? message : message[..newline];
            if (!record.IsEmpty)
            {
                HandleRecord(record, parser);
            }
            if (newline < 0)
            {
                break;
            }
            message = message[(newline + 1)..];
        }
        foreach (var request in _batch)
        {
            _outlet.TryPublish(request);
        }
        _batch.Clear();
    }

    private void HandleRecord(ReadOnlySpan<byte> record, ReqinRecordParser parser)
    {
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
        // Health checks, monitoring probes and internal scanners the operator left out.
        if (_filter.Admit(request.Flow.ClientIp))
        {
            _batch.Add(request);
        }
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
