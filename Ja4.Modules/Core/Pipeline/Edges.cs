using System.Threading.Channels;
using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Core.Pipeline;

/// <summary>One bounded channel between a producing and a consuming module.</summary>
/// <param name="Name">Configuration and metric name (<c>Pipeline:Channels:&lt;Name&gt;</c>).</param>
/// <param name="Producer">The only module that writes (and completes) it.</param>
/// <param name="Consumer">The only module that reads it.</param>
/// <param name="EventType">Record type carried.</param>
/// <param name="DefaultCapacity">Capacity when the configuration does not set one.</param>
/// <param name="DefaultFullMode">Drop (hot paths: capture, socket reader) or Wait (back-pressure).</param>
/// <param name="DefaultMaxMb">Byte budget in MiB when the configuration does not set one (events that are
/// <see cref="ISizedEvent"/>s only; 0 for the others).</param>
/// <param name="UnlessEnabled">A module whose presence makes the edge needless: the edge then does
/// not exist, so its producer queues nothing for it.</param>
public sealed record EdgeDefinition(
    string Name,
    string Producer,
    string Consumer,
    Type EventType,
    int DefaultCapacity,
    EdgeFullMode DefaultFullMode,
    int DefaultMaxMb,
    string? UnlessEnabled = null);

/// <summary>What a producer does when the channel is full.</summary>
public enum EdgeFullMode
{
    /// <summary>Drop the new event and count it (<c>ja4_channel_dropped_total</c>). Never blocks.</summary>
    Drop,
    /// <summary>Wait for room: back-pressure to the producer (never used by capture or the socket reader).</summary>
    Wait,
}

/// <summary>Every edge of the daemon's data flow. The graph is fixed; configuration only sizes it.</summary>
public static class Edges
{
    public static readonly EdgeDefinition Handshakes =
        new("Handshakes", ModuleNames.Capture, ModuleNames.Correlation, typeof(TlsClientHello), 65_536, EdgeFullMode.Drop, 32);

    public static readonly EdgeDefinition Connections =
        new("Connections", ModuleNames.Capture, ModuleNames.Correlation, typeof(ConnectionClosed), 65_536, EdgeFullMode.Drop, 0);

    public static readonly EdgeDefinition HandshakeRecords =
        new("HandshakeRecords", ModuleNames.Capture, ModuleNames.Storage, typeof(TlsClientHello), 65_536, EdgeFullMode.Drop, 32);

    public static readonly EdgeDefinition HttpRequests =
        new("HttpRequests", ModuleNames.HttpIngest, ModuleNames.Correlation, typeof(HttpRequest), 131_072, EdgeFullMode.Drop, 64);

    public static readonly EdgeDefinition Correlated =
        new("Correlated", ModuleNames.Correlation, ModuleNames.Storage, typeof(CorrelatedRequest), 131_072, EdgeFullMode.Wait, 128);

    public static readonly EdgeDefinition LiveFeed =
        new("LiveFeed", ModuleNames.Correlation, ModuleNames.Dashboard, typeof(CorrelatedRequest), 4_096, EdgeFullMode.Drop, 8);

    /// <summary>
    /// Correlated requests for detection's in-memory feature path. Absent when storage is on:
    /// detection then computes its features from <c>http_logs</c>.
    /// </summary>
    public static readonly EdgeDefinition DetectionFeed =
        new("DetectionFeed", ModuleNames.Correlation, ModuleNames.Detection, typeof(CorrelatedRequest), 65_536, EdgeFullMode.Drop, 64,
            UnlessEnabled: ModuleNames.Storage);

    /// <summary>Verdicts at or above the alert level, to detection's alert sinks (webhook, syslog).</summary>
    public static readonly EdgeDefinition Anomalies =
        new("Anomalies", ModuleNames.Detection, ModuleNames.Detection, typeof(Anomaly), 4_096, EdgeFullMode.Drop, 0);

    public static readonly IReadOnlyList<EdgeDefinition> All =
        [Handshakes, Connections, HandshakeRecords, HttpRequests, Correlated, LiveFeed, DetectionFeed, Anomalies];

    internal static BoundedChannelOptions ChannelOptions(int capacity) => new(capacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleWriter = false,
        SingleReader = true,
        AllowSynchronousContinuations = false,
    };
}
