using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Storage;

/// <summary>Every log line of the storage module.</summary>
internal static partial class StorageLog
{
    [LoggerMessage(1, LogLevel.Information, "storage: {Engine} store ready (database {Database}); {Applied} migration(s) applied")]
    public static partial void StoreReady(ILogger logger, string engine, string database, int applied);

    [LoggerMessage(2, LogLevel.Warning, "storage: insert of {Rows} rows into {Table} failed (attempt {Attempt}): {Error}")]
    public static partial void InsertFailed(ILogger logger, int rows, string table, int attempt, string error);

    [LoggerMessage(3, LogLevel.Warning, "storage: store unavailable, {Rows} rows of {Table} spilled to disk ({SpillBytes} bytes queued)")]
    public static partial void Spilled(ILogger logger, int rows, string table, long spillBytes);

    [LoggerMessage(4, LogLevel.Information, "storage: spill queue replayed ({Rows} rows); writing directly again")]
    public static partial void ReplayDone(ILogger logger, long rows);

    [LoggerMessage(5, LogLevel.Error, "storage: the store is unavailable and the spill queue is full ({Reason}, {SpillBytes} bytes in {Directory}); ingest is back-pressured until the store returns or space is freed")]
    public static partial void SpillFull(ILogger logger, string reason, long spillBytes, string directory);

    [LoggerMessage(6, LogLevel.Error, "storage: {Rows} rows lost at shutdown: the store is unavailable and the spill queue refused them")]
    public static partial void LostAtShutdown(ILogger logger, long rows);

    [LoggerMessage(7, LogLevel.Error, "storage: spill replay of batch {Token} ({Rows} rows of {Table}) failed: {Error}")]
    public static partial void ReplayFailed(ILogger logger, string token, int rows, string table, string error);

    [LoggerMessage(8, LogLevel.Warning, "storage: schema migration deferred, the store is not reachable: {Error}")]
    public static partial void MigrationDeferred(ILogger logger, string error);

    [LoggerMessage(9, LogLevel.Information, "storage: found {Bytes} bytes in the spill queue {Directory}; replaying")]
    public static partial void SpillFound(ILogger logger, long bytes, string directory);

    [LoggerMessage(10, LogLevel.Information, "storage: writer stopped; {Rows} rows written, {Spill} bytes left in the spill queue")]
    public static partial void WriterStopped(ILogger logger, long rows, long spill);

    [LoggerMessage(11, LogLevel.Warning, "storage: admin socket {Path}: {Error}")]
    public static partial void AdminSocketError(ILogger logger, string path, string error);

    [LoggerMessage(12, LogLevel.Error, "storage: spill I/O on {Path} failed: {Error}")]
    public static partial void SpillIo(ILogger logger, string path, string error);

    [LoggerMessage(13, LogLevel.Error, "storage: spill segment {File} has a torn or corrupt record at offset {Offset}; the rest of the segment ({Bytes} bytes: a write never acknowledged, or damage on disk) is discarded")]
    public static partial void SpillCorrupt(ILogger logger, string file, long offset, long bytes);

    [LoggerMessage(14, LogLevel.Information, "storage: the engine's start-up code pages handed back to the kernel: libchdb.so resident {BeforeMb} MB -> {AfterMb} MB")]
    public static partial void EngineCodeTrimmed(ILogger logger, long beforeMb, long afterMb);
}
