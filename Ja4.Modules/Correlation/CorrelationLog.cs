using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Correlation;

/// <summary>Every log line of the correlation module.</summary>
internal static partial class CorrelationLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information,
        Message = "Correlation started: capture {CaptureInput}, HTTP requests {RequestInput}, sinks [{Sinks}], HandshakeWait {HandshakeWait}, MaxConnections {MaxConnections}")]
    public static partial void Started(ILogger logger, string captureInput, string requestInput, string sinks,
        TimeSpan handshakeWait, int maxConnections);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information,
        Message = "Capture is disabled on this node: every TLS request goes out as capture_disabled")]
    public static partial void CaptureDisabled(ILogger logger);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information,
        Message = "HTTP ingest is disabled on this node: handshakes are read and discarded by correlation")]
    public static partial void IngestDisabled(ILogger logger);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information,
        Message = "Correlation stopped: {Matched} matched, {Unmatched} unmatched, {Flushed} waiting requests flushed at the end")]
    public static partial void Stopped(ILogger logger, long matched, long unmatched, int flushed);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error,
        Message = "Correlation could not hand {Lost} records to storage within Modules:Correlation:DrainTimeout ({Timeout}) at shutdown; they are lost")]
    public static partial void DrainLost(ILogger logger, int lost, TimeSpan timeout);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error,
        Message = "Correlation sink {Sink} failed ({Errors} errors so far); lines are dropped until it recovers")]
    public static partial void SinkFailed(ILogger logger, Exception exception, string sink, long errors);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning,
        Message = "Correlation table reached Modules:Correlation:MaxConnections ({Max}); the least recently used connections are evicted ({Evictions} so far)")]
    public static partial void CapReached(ILogger logger, int max, long evictions);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning,
        Message = "Requests waiting for handshakes reached Modules:Correlation:MaxPendingRequests ({Max}); the oldest go out as pending_overflow ({Evictions} so far)")]
    public static partial void PendingCapReached(ILogger logger, int max, long evictions);
}
