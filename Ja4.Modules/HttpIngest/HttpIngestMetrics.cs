using Ja4.Modules.Core.Metrics;

namespace Ja4.Modules.HttpIngest;

/// <summary>The module's counters (<c>ja4_httpingest_*</c>).</summary>
internal sealed class HttpIngestMetrics
{
    private readonly Counter[] _invalid;

    public HttpIngestMetrics(Ja4Metrics metrics)
    {
        Records = metrics.Counter("ja4_httpingest_records_total", "Valid records received from mod_reqin_log.");
        Bytes = metrics.Counter("ja4_httpingest_bytes_total", "Bytes of records received from mod_reqin_log.");
        Truncated = metrics.Counter("ja4_httpingest_truncated_total", "Valid records the Apache module cut at its size cap.");
        Connections = metrics.Counter("ja4_httpingest_connections_total", "Connections accepted from Apache processes.");
        Rejected = metrics.Counter("ja4_httpingest_connections_rejected_total", "Connections refused beyond MaxConnections.");
        _invalid = Enum.GetValues<ReqinInvalidReason>()
            .Select(r => r == ReqinInvalidReason.None ? null! : metrics.Counter("ja4_httpingest_invalid_total",
                "Records rejected, by reason.", ("reason", ReqinParseError.Label(r))))
            .ToArray();
        metrics.Gauge("ja4_httpingest_connections", "Open connections from Apache processes.", () => Volatile.Read(ref OpenConnections));
    }

    public Counter Records { get; }
    public Counter Bytes { get; }
    public Counter Truncated { get; }
    public Counter Connections { get; }
    public Counter Rejected { get; }

    public int OpenConnections;

    public Counter Invalid(ReqinInvalidReason reason) => _invalid[(int)reason];

    public long InvalidTotal => _invalid.Where(c => c is not null).Sum(c => c.Value);
}
