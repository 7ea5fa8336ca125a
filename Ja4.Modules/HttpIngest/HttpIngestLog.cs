using Microsoft.Extensions.Logging;

namespace Ja4.Modules.HttpIngest;

/// <summary>Every log message of the HttpIngest module.</summary>
internal static partial class HttpIngestLog
{
    [LoggerMessage(1, LogLevel.Information, "Listening for mod_reqin_log records on {Path} (group {Group}, mode {Mode})")]
    public static partial void Listening(ILogger logger, string path, string group, string mode);

    [LoggerMessage(2, LogLevel.Warning, "HttpIngest is enabled but no module consumes HTTP requests (enable Correlation); the socket {Path} is not opened")]
    public static partial void NoConsumer(ILogger logger, string path);

    [LoggerMessage(3, LogLevel.Information, "Removed a stale socket file {Path} left by a previous run")]
    public static partial void ReplacedStale(ILogger logger, string path);

    [LoggerMessage(4, LogLevel.Warning, "Socket {Path}: {Warning}")]
    public static partial void SocketWarning(ILogger logger, string path, string warning);

    [LoggerMessage(5, LogLevel.Warning, "Invalid record from the Apache module ({Reason}: {Detail}), starting {Sample}; {Suppressed} more invalid records since the last message")]
    public static partial void InvalidRecord(ILogger logger, string reason, string detail, string sample, long suppressed);

    [LoggerMessage(6, LogLevel.Warning, "Refused an Apache connection: {Max} connections are open (Modules:HttpIngest:MaxConnections)")]
    public static partial void TooManyConnections(ILogger logger, int max);

    [LoggerMessage(7, LogLevel.Debug, "Apache connection ended: {Reason}")]
    public static partial void ConnectionEnded(ILogger logger, string reason);

    [LoggerMessage(8, LogLevel.Information, "Created the socket directory {Directory}")]
    public static partial void CreatedDirectory(ILogger logger, string directory);

    [LoggerMessage(9, LogLevel.Information, "Stopped listening on {Path}: {Records} records, {Invalid} invalid")]
    public static partial void Stopped(ILogger logger, string path, long records, long invalid);

    [LoggerMessage(10, LogLevel.Error, "Accepting Apache connections failed; retrying")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(11, LogLevel.Critical, "The Apache record reader failed; no more HTTP requests are received until the daemon restarts")]
    public static partial void ReaderFailed(ILogger logger, Exception exception);
}
