using System.Threading.Channels;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.HttpIngest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ja4.Tests.HttpIngest;

/// <summary>
/// The daemon's HttpIngest module on its own: a real <see cref="ReqinSocketListener"/> on a real
/// socket, publishing into a real pipeline whose HttpRequests channel the test reads (standing in
/// for correlation). Can be stopped and started again on the same path, like a daemon restart.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class IngestHarness : IAsyncDisposable
{
    private readonly HttpIngestOptions _options;
    private readonly object _gate = new();
    private readonly List<HttpRequest> _received = [];
    private ReqinSocketListener? _listener;
    private EventPipeline? _pipeline;
    private Task? _pump;

    public IngestHarness(string socketPath, Action<HttpIngestOptions>? configure = null)
    {
        _options = new HttpIngestOptions
        {
            Enabled = true,
            SocketPath = socketPath,
            SocketGroup = "www-data",
            InvalidLogInterval = TimeSpan.FromMilliseconds(200),
        };
        configure?.Invoke(_options);
    }

    public Ja4Metrics Metrics { get; private set; } = new();
    public CapturingLogger Log { get; } = new();
    public string SocketPath => _options.FullSocketPath;
    public bool IsListening => _listener?.IsListening ?? false;

    public static async Task<IngestHarness> StartAsync(string socketPath, Action<HttpIngestOptions>? configure = null)
    {
        var h = new IngestHarness(socketPath, configure);
        await h.StartAsync();
        return h;
    }

    /// <summary>Starts (or restarts) the listener; counters start again from zero.</summary>
    /// <param name="withConsumer">Enable a consumer of HttpRequests (else the listener must not open its socket).</param>
    /// <param name="pump">Read the channel into <see cref="Received"/> (else it fills up).</param>
    /// <param name="capacity">HttpRequests channel capacity (default: the pipeline's).</param>
    /// <param name="maxMb">HttpRequests channel byte budget (default: the pipeline's).</param>
    public async Task StartAsync(bool withConsumer = true, bool pump = true, int? capacity = null, int? maxMb = null)
    {
        Metrics = new Ja4Metrics();
        var enabled = new HashSet<string>(StringComparer.Ordinal) { ModuleNames.HttpIngest };
        if (withConsumer)
        {
            enabled.Add(ModuleNames.Correlation);
        }
        var pipelineOptions = new PipelineOptions();
        if (capacity is not null || maxMb is not null)
        {
            pipelineOptions.Channels[Edges.HttpRequests.Name] = new Ja4.Modules.Core.Pipeline.ChannelOptions { Capacity = capacity, MaxMb = maxMb };
        }
        _pipeline = new EventPipeline(enabled, pipelineOptions, Metrics);
        _listener = new ReqinSocketListener(Options.Create(_options), _pipeline, Metrics, Log, TimeProvider.System);
        await _listener.StartAsync(CancellationToken.None);
        var reader = _pipeline.Reader<HttpRequest>(Edges.HttpRequests);
        if (reader is not null && pump)
        {
            _pump = Task.Run(() => PumpAsync(reader));
        }
    }

    public async Task StopAsync()
    {
        if (_listener is null)
        {
            return;
        }
        await _listener.StopAsync(CancellationToken.None);
        _listener.Dispose();
        _listener = null;
        if (_pump is not null)
        {
            await _pump;   // the listener completes the channel on stop
            _pump = null;
        }
    }

    private async Task PumpAsync(ChannelReader<HttpRequest> reader)
    {
        await foreach (var r in reader.ReadAllAsync())
        {
            lock (_gate)
            {
                _received.Add(r);
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<HttpRequest> Received
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _received.Clear();
        }
    }

    /// <summary>Waits until <paramref name="count"/> requests matching <paramref name="match"/> have arrived.</summary>
    public async Task<IReadOnlyList<HttpRequest>> WaitForAsync(Func<HttpRequest, bool> match, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var found = Received.Where(match).ToList();
            if (found.Count >= count)
            {
                return found;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited for {count} matching records, got {found.Count} (of {Received.Count} received); " +
                                           $"invalid: {Counter("ja4_httpingest_invalid_total")}");
            }
            await Task.Delay(20);
        }
    }

    public long Counter(string name, params (string, string)[] labels)
    {
        if (labels.Length > 0)
        {
            return (long)(Metrics.Read(name, labels) ?? 0);
        }
        return (long)Metrics.Snapshot().Where(m => m.Name == name).Sum(m => m.Value);
    }

    public long Invalid(string reason) => Counter("ja4_httpingest_invalid_total", ("reason", reason));

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>The socket listener's <see cref="CapturingLogger{T}"/>.</summary>
internal sealed class CapturingLogger : CapturingLogger<ReqinSocketListener>;

/// <summary>An <see cref="ILogger{T}"/> that keeps what is logged.</summary>
internal class CapturingLogger<T> : ILogger<T>
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => NullLogger.Instance.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }
}
