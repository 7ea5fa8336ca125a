using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Fingerprints;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SharpPcap;
using SharpPcap.LibPcap;

namespace Ja4.Modules.Capture;

/// <summary>Live capture could not start; the message says why and how to fix it, in one line.</summary>
public sealed class CaptureStartException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Live capture: opens the configured interface with libpcap (BPF filter, snap length, kernel
/// buffer, promiscuous mode), runs the shared packet path on a dedicated thread and publishes
/// <see cref="TlsClientHello"/> and <see cref="ConnectionClosed"/> events without ever blocking
/// (a full channel drops and counts). Reports libpcap's kernel and interface drop counters as
/// metrics and in periodic logs. The device is opened at start-up, so that a missing permission
/// or interface stops the daemon with one clear line.
/// </summary>
public sealed class CaptureWorker : BackgroundService, IPipelineStage
{
    public PipelineStage Stage => PipelineStage.Intake;

    /// <summary>How long pcap waits for packets before the loop checks for shutdown and timers.</summary>
    internal const int ReadTimeoutMs = 200;

    private readonly IOptions<CaptureOptions> _optionsAccessor;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger<CaptureWorker> _logger;
    private readonly CaptureCounters _counters;
    private CaptureOptions _options = new();
    private EventOutlet<TlsClientHello>? _hellos;
    private EventOutlet<ConnectionClosed>? _closed;
    private LibPcapLiveDevice? _device;
    private long _received;
    private long _kernelDropped;
    private long _interfaceDropped;

    /// <remarks>
    /// Options and the pipeline are resolved at start, not here, so that the host's start-up
    /// validation reports every configuration problem at once before anything is built.
    /// </remarks>
    public CaptureWorker(IOptions<CaptureOptions> options, IServiceProvider services, Ja4Metrics metrics, TimeProvider time,
        ILogger<CaptureWorker> logger)
    {
        _optionsAccessor = options;
        _services = services;
        _time = time;
        _logger = logger;
        _counters = new CaptureCounters(metrics);
        metrics.Gauge("ja4_capture_pcap_received", "Packets libpcap received on the interface (pcap_stats ps_recv).", () => Interlocked.Read(ref _received));
        metrics.Gauge("ja4_capture_pcap_kernel_dropped", "Packets dropped by the kernel for lack of buffer space (pcap_stats ps_drop).", () => Interlocked.Read(ref _kernelDropped));
        metrics.Gauge("ja4_capture_pcap_interface_dropped", "Packets dropped by the interface or its driver (pcap_stats ps_ifdrop).", () => Interlocked.Read(ref _interfaceDropped));
    }

    /// <summary>Counters of this worker (packets, give-ups, hellos...).</summary>
    public CaptureCounters Counters => _counters;

    /// <summary>True once the device is open (false when no consumer is enabled).</summary>
    public bool IsCapturing => _device is not null;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _options = _optionsAccessor.Value;
        var pipeline = _services.GetRequiredService<EventPipeline>();
        _hellos = pipeline.Outlet<TlsClientHello>(ModuleNames.Capture);
        _filter = (_services.GetService<IpFilter>() ?? IpFilter.AllowAll).For(ModuleNames.Capture);
        _closed = pipeline.Outlet<ConnectionClosed>(ModuleNames.Capture);
        if (!_hellos.HasConsumers && !_closed.HasConsumers)
        {
            CaptureLog.NoConsumers(_logger);
            return Task.CompletedTask;
        }
        _device = Open();
        CaptureLog.Started(_logger, _options.Interface, (int)_device.LinkType, _options.Filter, _options.SnapLength,
            _options.BufferSizeMb, _options.Promiscuous, _options.Quic);
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var device = _device!;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(device, stoppingToken);
                done.SetResult();
            }
            catch (Exception e)
            {
                CaptureLog.ReadFailed(_logger, _options.Interface, e.Message);
                done.SetResult();
            }
        })
        {
            IsBackground = true,
            Name = "ja4-capture",
        };
        thread.Start();
        return done.Task;
    }

    private LibPcapLiveDevice Open()
    {
        LibPcapLiveDevice? device;
        try
        {
            var devices = LibPcapLiveDeviceList.New();
            device = devices.FirstOrDefault(d => d.Name == _options.Interface);
            if (device is null)
            {
                throw Fail($"Modules:Capture:Interface: no interface named '{_options.Interface}' (available: {string.Join(", ", devices.Select(d => d.Name))})");
            }
        }
        catch (DllNotFoundException e)
        {
            throw Fail("libpcap is not installed: apt-get install libpcap0.8", e);
        }
        var configuration = new DeviceConfiguration
        {
            Snaplen = _options.SnapLength,
            Mode = _options.Promiscuous ? DeviceModes.Promiscuous : DeviceModes.None,
            ReadTimeout = ReadTimeoutMs,
            BufferSize = _options.BufferSizeMb * 1024 * 1024,
        };
        try
        {
            device.Open(configuration);
        }
        catch (Exception e) when (e is PcapException or InvalidOperationException)
        {
            device.Close();
            var text = e.Message.Replace('\n', ' ');
            if (IsPermissionError(text))
            {
                throw Fail($"Capture on '{_options.Interface}' is not permitted ({ShortPcapError(text)}). " +
                           "Run ja4 as root, or grant it CAP_NET_RAW: 'setcap cap_net_raw+ep <path to ja4>' " +
                           "or, under systemd, AmbientCapabilities=CAP_NET_RAW in the unit", e);
            }
            throw Fail($"Capture on '{_options.Interface}' could not start: {ShortPcapError(text)}", e);
        }
        try
        {
            device.Filter = _options.Filter;
        }
        catch (PcapException e)
        {
            device.Close();
            throw Fail($"Modules:Capture:Filter: \"{_options.Filter}\" is not a valid BPF filter ({ShortPcapError(e.Message)})", e);
        }
        return device;
    }

    private CaptureStartException Fail(string message, Exception? inner = null)
    {
        CaptureLog.CannotStart(_logger, message);
        return new CaptureStartException(message, inner);
    }

    internal static bool IsPermissionError(string message) =>
        message.Contains("PermissionDenied", StringComparison.OrdinalIgnoreCase)
        || message.Contains("permission", StringComparison.OrdinalIgnoreCase)
        || message.Contains("Operation not permitted", StringComparison.OrdinalIgnoreCase);

    private static string ShortPcapError(string message)
    {
        var m = message.Trim();
        return m.Length > 200 ? m[..200] : m;
    }

    private void Run(LibPcapLiveDevice device, CancellationToken stoppingToken)
    {
        using var extractor = new HelloExtractor(_options, _counters);
        var linkType = (int)device.LinkType;
        var header = IntPtr.Zero;
        var data = IntPtr.Zero;
        var statsTicks = _options.StatsInterval.Ticks;
        var now = _time.GetUtcNow().UtcTicks;
        var nextStats = now + statsTicks;
        var nextSweep = now + TimeSpan.TicksPerSecond;
        long lastDropped = 0;
        var sincePoll = 0;
        // Non-blocking reads drain what is buffered; poll(2) waits for more with a timeout, so
        // that shutdown and timers are honoured even when no packet arrives.
        device.NonBlockingMode = true;
        var fd = PcapPoll.SelectableFd(device.Handle);
        var handle = device.Handle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var pcap = handle.DangerousGetHandle();
            while (!stoppingToken.IsCancellationRequested)
            {
                var status = PcapRecord.Next(pcap, out header, out data);
                if (status == PcapRecord.PacketRead)
                {
                    var ticks = PcapRecord.TimestampTicks(header);
                    if (extractor.Process(linkType, PcapRecord.Data(header, data), ticks, out var hello, out var closed))
                    {
                        Publish(hello, closed, ticks);
                    }
                    if (++sincePoll < 4096)
                    {
                        continue;
                    }
                }
                else if (status == PcapRecord.ReadTimeout)
                {
                    PcapPoll.WaitReadable(fd, ReadTimeoutMs);
                }
                else
                {
                    CaptureLog.ReadFailed(_logger, _options.Interface, device.LastError);
                    return;
                }
                sincePoll = 0;
                now = _time.GetUtcNow().UtcTicks;
                if (now >= nextSweep)
                {
                    extractor.Sweep(now);
                    nextSweep = now + TimeSpan.TicksPerSecond;
                }
                if (now >= nextStats)
                {
                    nextStats = now + statsTicks;
                    lastDropped = ReportStats(device, extractor, lastDropped);
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
            ReportStats(device, extractor, lastDropped);
            CaptureLog.Stopped(_logger, _options.Interface, _counters.Packets.Value, _counters.TcpHellos.Value + _counters.QuicHellos.Value);
            device.Close();
        }
    }

    private long _parseFailures;
    private readonly FingerprintCache _fingerprints = new();
    private IpFilterGate _filter = IpFilter.AllowAll.For(ModuleNames.Capture);

    private void Publish(CapturedHello? captured, Reassembly.ClosedConnection? closed, long ticks)
    {
        if (captured is not null)
        {
            var e = HelloFingerprinting.ToEvent(captured, _counters, out var error, _fingerprints);
            if (e is null)
            {
                // Rate-limited: the first few, then every 1000th.
                var n = ++_parseFailures;
                if (n <= 10 || n % 1000 == 0)
                {
                    CaptureLog.HelloParseFailed(_logger, captured.Flow.ToString(), error.ToString(), n);
                }
            }
            else if (_filter.Admit(e.Flow.ClientIp))
            {
                _hellos!.TryPublish(e);
            }
        }
        if (closed is { } c && _closed!.HasConsumers)
        {
            _closed.TryPublish(new ConnectionClosed(new DateTimeOffset(ticks, TimeSpan.Zero), c.Flow.ToFlowKey(), c.Reason));
        }
    }

    private long ReportStats(LibPcapLiveDevice device, HelloExtractor extractor, long lastDropped)
    {
        extractor.FlushCounters();
        try
        {
            var stats = device.Statistics;
            Interlocked.Exchange(ref _received, stats.ReceivedPackets);
            Interlocked.Exchange(ref _kernelDropped, stats.DroppedPackets);
            Interlocked.Exchange(ref _interfaceDropped, stats.InterfaceDroppedPackets);
        }
        catch (PcapException)
        {
            // Statistics are unavailable on some devices; the counters stay as they were.
        }
        var dropped = Interlocked.Read(ref _kernelDropped);
        CaptureLog.Stats(_logger, _counters.Packets.Value, _counters.TcpHellos.Value + _counters.QuicHellos.Value,
            _counters.ConnectionsFin.Value + _counters.ConnectionsRst.Value, Interlocked.Read(ref _received), dropped,
            Interlocked.Read(ref _interfaceDropped), extractor.Tcp.FlowCount + extractor.QuicFlowCount, extractor.Tcp.ConnectionCount);
        if (dropped > lastDropped)
        {
            CaptureLog.KernelDrops(_logger, dropped - lastDropped);
        }
        return dropped;
    }
}
