using Ja4.Modules.Core.Events;
using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Detection;

/// <summary>The detection module's log messages.</summary>
internal static partial class DetectionLog
{
    [LoggerMessage(1, LogLevel.Information, "Detection run: {Entities} entities from {Requests} requests in {WindowStart:o}..{WindowEnd:o}, {Anomalies} anomalies, {Campaigns} campaigns, model {Model} ({Retrained})")]
    public static partial void RunCompleted(ILogger logger, int entities, long requests, DateTimeOffset windowStart, DateTimeOffset windowEnd,
        int anomalies, int campaigns, string model, string retrained);

    [LoggerMessage(2, LogLevel.Information, "Loaded isolation forest from {Path} ({Trees} trees, {Features} features)")]
    public static partial void ModelLoaded(ILogger logger, string path, int trees, int features);

    [LoggerMessage(3, LogLevel.Warning, "Model file {Path} not used, a new model will be trained: {Reason}")]
    public static partial void ModelRejected(ILogger logger, string path, string reason);

    [LoggerMessage(4, LogLevel.Error, "Could not save the model to {Path}: {Reason}")]
    public static partial void ModelSaveFailed(ILogger logger, string path, string reason);

    [LoggerMessage(5, LogLevel.Information, "Known fingerprints: {Count} JA4s loaded ({Skipped} rows skipped)")]
    public static partial void FingerprintsLoaded(ILogger logger, int count, int skipped);

    [LoggerMessage(6, LogLevel.Warning, "{Level} {ClientIp} {Ja4} {Host} risk {Risk:0.00}{Bot}: {Explanation}")]
    public static partial void AnomalyFound(ILogger logger, ThreatLevel level, string clientIp, string ja4, string host, double risk,
        string bot, string explanation);

    [LoggerMessage(7, LogLevel.Error, "Detection run failed")]
    public static partial void RunFailed(ILogger logger, Exception exception);

    [LoggerMessage(8, LogLevel.Error, "Could not write the block list to {Directory}: {Reason}")]
    public static partial void BlocklistFailed(ILogger logger, string directory, string reason);

    [LoggerMessage(9, LogLevel.Warning, "Anomaly events dropped: the anomaly channel is full or has no consumer ({Count} this run)")]
    public static partial void AnomaliesDropped(ILogger logger, int count);

    [LoggerMessage(10, LogLevel.Warning, "Alert sink {Sink} gave up on the anomaly of {ClientIp}: {Reason}")]
    public static partial void AlertFailed(ILogger logger, string sink, string clientIp, string reason);

    [LoggerMessage(11, LogLevel.Information, "Detection features from {Source}; alert sinks: {Sinks}")]
    public static partial void Started(ILogger logger, string source, string sinks);
}
