using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Storage;

/// <summary>Which ClickHouse engine holds the data.</summary>
public enum StorageEngineKind
{
    /// <summary>The ClickHouse engine in process (libchdb.so), data under <c>DataPath</c>.</summary>
    Chdb,
    /// <summary>A ClickHouse server or cluster over HTTP (ClickHouse.Driver).</summary>
    ClickHouse,
}

/// <summary><c>Modules:Storage</c>.</summary>
public sealed class StorageOptions
{
    /// <summary>Switches the module on. Default: false when absent.</summary>
    public bool Enabled { get; set; }

    /// <summary><c>Chdb</c> (embedded, default) or <c>ClickHouse</c> (server or cluster).</summary>
    public StorageEngineKind Engine { get; set; } = StorageEngineKind.Chdb;

    /// <summary>chDB data directory. Default: <c>./data</c> (installed: <c>/var/lib/ja4/clickhouse</c>).</summary>
    public string DataPath { get; set; } = "./data";

    /// <summary>Database name (letters, digits, underscore). Default: <c>ja4</c>.</summary>
    public string Database { get; set; } = "ja4";

    /// <summary>Server engine settings (<c>Modules:Storage:ClickHouse</c>).</summary>
    public ClickHouseServerOptions ClickHouse { get; set; } = new();

    /// <summary>Retention per table, in days (<c>Modules:Storage:Retention</c>).</summary>
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>Directory of the on-disk spill queue. Default: <c>./data/spill</c>.</summary>
    public string SpillPath { get; set; } = "./data/spill";

    /// <summary>Largest total size of the spill queue in MiB; beyond it ingest is back-pressured. Default: 4096.</summary>
    public long SpillMaxMb { get; set; } = 4096;

    /// <summary>Size at which a spill segment file is closed and a new one started, MiB. Default: 64.</summary>
    public int SpillSegmentMb { get; set; } = 64;

    /// <summary>
    /// Read-only connections to the embedded store for the dashboard, the API, detection and <c>ja4 sql</c>: that many
    /// queries run side by side (1–16). Default: 2. The server engine's client is concurrent already.
    /// </summary>
    public int ReaderConnections { get; set; } = 2;

    /// <summary>
    /// After start-up, give back the embedded engine's code pages that only its initialisation read
    /// (<c>madvise(MADV_PAGEOUT)</c> on libchdb.so's read-only mappings: about 250 MB of resident memory). Default: true.
    /// </summary>
    public bool TrimEngineCode { get; set; } = true;

    /// <summary>Rows per insert batch (a batch is written when it is this full...). Default: 50000.</summary>
    public int BatchSize { get; set; } = 50_000;

    /// <summary>
    /// ...or when its events' estimated managed size reaches this many MiB (requests with huge headers fill it before
    /// the row count: the batch, its encoding and the insert's copy stay bounded whatever the rows hold). Default: 32.
    /// </summary>
    public int BatchMaxMb { get; set; } = 32;

    /// <summary>...or when its oldest row is this old. Default: 00:00:01.</summary>
    public TimeSpan BatchAge { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Batches being inserted at once (1–8), each on its own connection. With 1, the next batch is built and encoded
    /// while the previous one is inserted, and batches reach the tables strictly in order; with more, inserts overlap
    /// (more rows per second when the store is the bottleneck, on a machine with cores to spare) and batches in flight
    /// together may be committed in any order. Rows are acknowledged in arrival order either way. Default: 1.
    /// </summary>
    public int InsertConcurrency { get; set; } = 1;

    /// <summary>Insert attempts of one batch before it goes to the spill queue. Default: 3.</summary>
    public int InsertAttempts { get; set; } = 3;

    /// <summary>First retry delay; doubled per attempt up to <see cref="RetryMaxDelay"/>. Default: 00:00:00.2.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest delay between attempts (also while replaying the spill). Default: 00:00:05.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Apply pending migrations when the daemon starts. Default: true.</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>Admin UNIX socket through which <c>ja4 sql</c> reaches the embedded store. Default: <c>/run/ja4/admin.sock</c>.</summary>
    public string AdminSocketPath { get; set; } = "/run/ja4/admin.sock";

    /// <summary>Group given read/write access to the admin socket (mode 0660). Default: <c>ja4</c>.</summary>
    public string AdminSocketGroup { get; set; } = "ja4";
}

/// <summary><c>Modules:Storage:ClickHouse</c>.</summary>
public sealed class ClickHouseServerOptions
{
    /// <summary>ClickHouse.Driver connection string, e.g. <c>Host=ch1;Port=8123;Username=default;Password=...</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Cluster name; when set, DDL runs <c>ON CLUSTER</c> with Replicated tables and Distributed tables in front. Default: none.</summary>
    public string? Cluster { get; set; }

    /// <summary>Timeout of one statement. Default: 00:01:00.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary><c>Modules:Storage:Retention</c>: days of data kept per table (TTL, whole parts dropped).</summary>
public sealed class RetentionOptions
{
    /// <summary>Default: 30.</summary>
    public int HttpLogsDays { get; set; } = 30;

    /// <summary>Default: 30.</summary>
    public int TlsHandshakesDays { get; set; } = 30;

    /// <summary>Hourly aggregates. Default: 180.</summary>
    public int AggregatesDays { get; set; } = 180;

    /// <summary>Every score the detector wrote. Default: 30.</summary>
    public int ScoresDays { get; set; } = 30;

    /// <summary>Detected anomalies. Default: 365.</summary>
    public int AnomaliesDays { get; set; } = 365;
}

internal sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    internal static partial Regex Identifier();

    public ValidateOptionsResult Validate(string? name, StorageOptions o)
    {
        var errors = new List<string>();
        if (!Identifier().IsMatch(o.Database ?? ""))
        {
            errors.Add("Modules:Storage:Database must be 1-64 letters, digits or underscores, not starting with a digit");
        }
        if (o.Engine == StorageEngineKind.Chdb && string.IsNullOrWhiteSpace(o.DataPath))
        {
            errors.Add("Modules:Storage:DataPath is required when Engine=Chdb");
        }
        if (o.Engine == StorageEngineKind.ClickHouse && string.IsNullOrWhiteSpace(o.ClickHouse.ConnectionString))
        {
            errors.Add("Modules:Storage:ClickHouse:ConnectionString is required when Engine=ClickHouse");
        }
        if (!string.IsNullOrEmpty(o.ClickHouse.Cluster) && !Identifier().IsMatch(o.ClickHouse.Cluster))
        {
            errors.Add("Modules:Storage:ClickHouse:Cluster must be letters, digits or underscores");
        }
        if (string.IsNullOrWhiteSpace(o.SpillPath))
        {
            errors.Add("Modules:Storage:SpillPath is required");
        }
        if (o.BatchAge < TimeSpan.FromMilliseconds(10) || o.BatchAge > TimeSpan.FromMinutes(10))
        {
            errors.Add("Modules:Storage:BatchAge must be between 00:00:00.01 and 00:10:00");
        }
        if (o.RetryDelay <= TimeSpan.Zero || o.RetryMaxDelay < o.RetryDelay)
        {
            errors.Add("Modules:Storage:RetryDelay must be positive and not above Modules:Storage:RetryMaxDelay");
        }
        if (o.ClickHouse.CommandTimeout <= TimeSpan.Zero)
        {
            errors.Add("Modules:Storage:ClickHouse:CommandTimeout must be positive");
        }
        Range(errors, "BatchSize", o.BatchSize, 1, 10_000_000);
        Range(errors, "BatchMaxMb", o.BatchMaxMb, 1, 1024);
        Range(errors, "ReaderConnections", o.ReaderConnections, 1, 16);
        Range(errors, "InsertAttempts", o.InsertAttempts, 1, 100);
        Range(errors, "InsertConcurrency", o.InsertConcurrency, 1, 8);
        Range(errors, "SpillMaxMb", o.SpillMaxMb, 1, 1_048_576);
        Range(errors, "SpillSegmentMb", o.SpillSegmentMb, 1, 4096);
        Range(errors, "Retention:HttpLogsDays", o.Retention.HttpLogsDays, 1, 36_500);
        Range(errors, "Retention:TlsHandshakesDays", o.Retention.TlsHandshakesDays, 1, 36_500);
        Range(errors, "Retention:AggregatesDays", o.Retention.AggregatesDays, 1, 36_500);
        Range(errors, "Retention:ScoresDays", o.Retention.ScoresDays, 1, 36_500);
        Range(errors, "Retention:AnomaliesDays", o.Retention.AnomaliesDays, 1, 36_500);
        if ((long)o.SpillSegmentMb > o.SpillMaxMb)
        {
            errors.Add("Modules:Storage:SpillSegmentMb must not exceed Modules:Storage:SpillMaxMb");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Range(List<string> errors, string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            errors.Add($"Modules:Storage:{key} must be between {min} and {max}");
        }
    }
}

/// <summary>The module's cross-field validation, for tools that bind the options outside the host.</summary>
public static class StorageOptionsValidation
{
    public static IValidateOptions<StorageOptions> Validator { get; } = new StorageOptionsValidator();
}
