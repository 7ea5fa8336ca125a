using System.Globalization;
using Ja4.Modules.Capture;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Detection;
using Ja4.Modules.HttpIngest;
using Ja4.Modules.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Ja4.Host;

/// <summary>
/// The checks behind <c>/readyz</c>: one per enabled module that has something to lose (capture
/// handle, ingest socket, store, detection runs) and one for the channels between them. A
/// disabled module has no check.
/// </summary>
internal static class ReadinessChecks
{
    /// <summary>How long the store may take to answer <c>SELECT 1</c> before it counts as busy.</summary>
    internal static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A channel at least this full makes the pipeline check degraded (its consumer lags).</summary>
    internal const double ChannelFullRatio = 0.9;

    public static IServiceCollection AddReadinessChecks(this IServiceCollection services, IConfiguration configuration)
    {
        var checks = services.AddHealthChecks();
        checks.AddCheck<PipelineReadiness>("Pipeline");
        if (ModuleNames.IsEnabled(configuration, ModuleNames.Capture))
        {
            checks.AddCheck<CaptureReadiness>(ModuleNames.Capture);
        }
        if (ModuleNames.IsEnabled(configuration, ModuleNames.HttpIngest))
        {
            checks.AddCheck<HttpIngestReadiness>(ModuleNames.HttpIngest);
        }
        if (ModuleNames.IsEnabled(configuration, ModuleNames.Storage))
        {
            checks.AddCheck<StorageReadiness>(ModuleNames.Storage);
        }
        if (ModuleNames.IsEnabled(configuration, ModuleNames.Detection))
        {
            services.AddSingleton<DetectionRunTracker>();
            checks.AddCheck<DetectionReadiness>(ModuleNames.Detection);
        }
        return services;
    }

    /// <summary>Whether any edge written by <paramref name="module"/> exists in this process.</summary>
    internal static bool HasConsumers(EventPipeline pipeline, string module) =>
        Edges.All.Any(e => e.Producer == module && pipeline.IsActive(e));

    internal static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Every active channel: degraded when one is nearly full (its consumer cannot keep up).</summary>
internal sealed class PipelineReadiness(EventPipeline pipeline, Ja4Metrics metrics) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        var full = new List<string>();
        foreach (var edge in Edges.All.Where(pipeline.IsActive))
        {
            var capacity = metrics.Read("ja4_channel_capacity", ("channel", edge.Name)) ?? 0;
            var depth = pipeline.Depth(edge.Name);
            data[edge.Name + "_depth"] = depth;
            if (capacity > 0 && depth >= capacity * ReadinessChecks.ChannelFullRatio)
            {
                full.Add(ReadinessChecks.Format($"{edge.Name} {depth}/{capacity}"));
            }
        }
        var active = data.Count;
        return Task.FromResult(full.Count > 0
            ? HealthCheckResult.Degraded("channels nearly full: " + string.Join(", ", full), data: data)
            : HealthCheckResult.Healthy(ReadinessChecks.Format($"{active} channels, none nearly full"), data));
    }
}

/// <summary>Live capture: the libpcap handle is open and the capture thread still runs.</summary>
internal sealed class CaptureReadiness(CaptureWorker worker, EventPipeline pipeline, IOptions<CaptureOptions> options, Ja4Metrics metrics)
    : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var iface = options.Value.Interface;
        if (!ReadinessChecks.HasConsumers(pipeline, ModuleNames.Capture))
        {
            return Task.FromResult(HealthCheckResult.Healthy($"not capturing on {iface}: no consumer of handshakes is enabled"));
        }
        if (!worker.IsCapturing)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"capture handle on {iface} is not open"));
        }
        if (worker.ExecuteTask is { IsCompleted: true })
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"capture on {iface} has stopped (see the log)"));
        }
        var received = metrics.Read("ja4_capture_pcap_received") ?? 0;
        var dropped = metrics.Read("ja4_capture_pcap_kernel_dropped") ?? 0;
        var data = new Dictionary<string, object> { ["pcap_received"] = received, ["pcap_kernel_dropped"] = dropped };
        return Task.FromResult(HealthCheckResult.Healthy(
            ReadinessChecks.Format($"capturing on {iface}: {received} packets received, {dropped} dropped by the kernel"), data));
    }
}

/// <summary>The Apache module's socket: listening, and still reachable by its path.</summary>
internal sealed class HttpIngestReadiness(EventPipeline pipeline, IOptions<HttpIngestOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var path = Path.GetFullPath(options.Value.SocketPath);
        if (!ReadinessChecks.HasConsumers(pipeline, ModuleNames.HttpIngest))
        {
            return HealthCheckResult.Healthy($"socket {path} not opened: no consumer of requests is enabled");
        }
        if (!File.Exists(path))
        {
            return HealthCheckResult.Unhealthy($"socket {path} is missing: Apache cannot reach the daemon");
        }
        var table = await File.ReadAllTextAsync(UnixSocketTable.ProcPath, cancellationToken).ConfigureAwait(false);
        return UnixSocketTable.IsListening(table, path)
            ? HealthCheckResult.Healthy($"listening on {path}")
            : HealthCheckResult.Unhealthy($"no socket listens on {path}");
    }
}

/// <summary>The store answers a query; data waiting in the spill queue makes it degraded.</summary>
internal sealed class StorageReadiness(StorageStore store, Ja4Metrics metrics, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var spill = metrics.Read("ja4_storage_spill_bytes") ?? 0;
        var data = new Dictionary<string, object> { ["spill_bytes"] = spill, ["engine"] = store.Reader.EngineName };
        try
        {
            await store.Reader.QueryAsync("SELECT 1", cancellationToken: cancellationToken)
                .WaitAsync(ReadinessChecks.StoreTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return HealthCheckResult.Degraded(ReadinessChecks.Format(
                $"{store.Reader.EngineName} store did not answer within {ReadinessChecks.StoreTimeout.TotalSeconds} s; {spill} bytes in the spill queue"),
                data: data);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy(ReadinessChecks.Format(
                $"{store.Reader.EngineName} store unreachable; {spill} bytes in the spill queue"), e, data);
        }
        return spill > 0
            ? HealthCheckResult.Degraded(ReadinessChecks.Format(
                $"{store.Reader.EngineName} store reachable; {spill} bytes waiting in the spill queue"), data: data)
            : HealthCheckResult.Healthy($"{store.Reader.EngineName} store reachable, spill queue empty", data);
    }
}

/// <summary>Detection: the latest scheduled run did not fail.</summary>
internal sealed class DetectionReadiness(DetectionWorker worker, DetectionRunTracker tracker, IOptions<DetectionOptions> options,
    Ja4Metrics metrics, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failures = (long)(metrics.Read("ja4_detection_run_failures_total") ?? 0);
        var runs = (long)(metrics.Read("ja4_detection_runs_total") ?? 0);
        var last = worker.LastResult?.At;
        var failing = tracker.Observe(last, failures, time.GetUtcNow(), options.Value.Interval);
        var data = new Dictionary<string, object> { ["runs"] = runs, ["failures"] = failures };
        var lastText = last is { } at ? at.ToString("u", CultureInfo.InvariantCulture) : "never";
        if (worker.ExecuteTask is { IsCompleted: true })
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("detection has stopped (see the log)", data: data));
        }
        if (failing)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(ReadinessChecks.Format(
                $"the latest detection run failed (last success: {lastText}; {failures} failures in total)"), data: data));
        }
        return Task.FromResult(HealthCheckResult.Healthy(last is null
            ? "no detection run yet"
            : ReadinessChecks.Format($"last run {lastText}; {runs} runs, {failures} failures"), data));
    }
}

/// <summary>
/// Whether the latest detection run failed, from what each readiness probe sees: the time of the
/// latest successful run and the failure count. A new success clears the state, a new failure
/// sets it; when both happened since the previous probe, the success is the latest only if no
/// later run can have been scheduled yet (it is younger than one interval).
/// </summary>
internal sealed class DetectionRunTracker
{
    private readonly Lock _lock = new();
    private DateTimeOffset? _lastSuccess;
    private long _failures;
    private bool _failing;

    public bool Observe(DateTimeOffset? lastSuccess, long failures, DateTimeOffset now, TimeSpan interval)
    {
        lock (_lock)
        {
            var newSuccess = lastSuccess is not null && lastSuccess != _lastSuccess;
            var newFailure = failures > _failures;
            if (newSuccess && newFailure)
            {
                _failing = now - lastSuccess!.Value >= interval;
            }
            else if (newSuccess)
            {
                _failing = false;
            }
            else if (newFailure)
            {
                _failing = true;
            }
            _lastSuccess = lastSuccess;
            _failures = failures;
            return _failing;
        }
    }
}

/// <summary>
/// Reads the kernel's table of UNIX sockets (<c>/proc/net/unix</c>) to tell whether a socket
/// listens on a path, without connecting to it (a probe connection would count as an Apache one).
/// </summary>
internal static class UnixSocketTable
{
    public const string ProcPath = "/proc/net/unix";

    /// <summary><c>__SO_ACCEPTCON</c>: the socket has called listen().</summary>
    private const int AcceptConnections = 0x10000;

    /// <summary>
    /// True when a line of <paramref name="table"/> ("Num RefCount Protocol Flags Type St Inode Path",
    /// hexadecimal flags) has the listening flag and exactly <paramref name="path"/>.
    /// </summary>
    public static bool IsListening(string table, string path)
    {
        foreach (var line in table.Split('\n'))
        {
            var fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 8 || fields[7].TrimEnd() != path)
            {
                continue;
            }
            if (int.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags)
                && (flags & AcceptConnections) != 0)
            {
                return true;
            }
        }
        return false;
    }
}
