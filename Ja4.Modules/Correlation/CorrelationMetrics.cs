using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;

namespace Ja4.Modules.Correlation;

/// <summary>
/// The correlation module's metrics: requests by outcome, match rate, table and pending sizes,
/// evictions and end-to-end lag. Counters are created once here so that the join loop only
/// increments them.
/// </summary>
public sealed class CorrelationMetrics
{
    private readonly Counter[] _byStatus;
    private long _lastLagMicros;

    public CorrelationMetrics(Ja4Metrics metrics)
    {
        var statuses = Enum.GetValues<MatchStatus>();
        _byStatus = new Counter[statuses.Max(s => (int)s) + 1];
        foreach (var s in statuses)
        {
            _byStatus[(int)s] = metrics.Counter("ja4_correlation_requests_total",
                "Requests emitted by correlation, by match status.", ("status", StatusName(s)));
        }
        Handshakes = metrics.Counter("ja4_correlation_handshakes_total", "TLS handshakes added to the connection table.");
        QuicHandshakesIgnored = metrics.Counter("ja4_correlation_handshakes_ignored_total",
            "Handshakes not tracked (QUIC: Apache serves no HTTP/3).", ("reason", "quic"));
        Closes = metrics.Counter("ja4_correlation_closes_total", "FIN/RST connection ends applied to the table.");
        ClosesUnknown = metrics.Counter("ja4_correlation_closes_unknown_total",
            "FIN/RST connection ends for connections the table does not hold.");
        EvictedCap = Eviction(metrics, "cap");
        EvictedIdle = Eviction(metrics, "idle");
        RemovedClosed = Eviction(metrics, "closed");
        PendingEvictions = metrics.Counter("ja4_correlation_pending_evictions_total",
            "Requests pushed out of the pending queue by MaxPendingRequests before their wait ended.");
        LagMicros = metrics.Counter("ja4_correlation_lag_microseconds_total",
            "Sum of end-to-end lags (request end to correlation output), microseconds.");
        LagSamples = metrics.Counter("ja4_correlation_lag_samples_total", "Requests counted in the lag sum.");
        metrics.Gauge("ja4_correlation_lag_seconds", "End-to-end lag of the latest request (request end to output).",
            () => Volatile.Read(ref _lastLagMicros) / 1e6);
        metrics.Gauge("ja4_correlation_match_ratio",
            "Matched TLS requests over all TLS requests (plain HTTP and capture_disabled excluded).", () => MatchRatio);
    }

    public Counter Handshakes { get; }
    public Counter QuicHandshakesIgnored { get; }
    public Counter Closes { get; }
    public Counter ClosesUnknown { get; }
    public Counter EvictedCap { get; }
    public Counter EvictedIdle { get; }
    public Counter RemovedClosed { get; }
    public Counter PendingEvictions { get; }
    public Counter LagMicros { get; }
    public Counter LagSamples { get; }

    /// <summary>Requests emitted with a status so far.</summary>
    public long Emitted(MatchStatus status) => _byStatus[(int)status].Value;

    /// <summary>Matched over every TLS request whose handshake could have been seen; 0 before the first.</summary>
    public double MatchRatio
    {
        get
        {
            long matched = Emitted(MatchStatus.Matched), total = 0;
            foreach (var s in Enum.GetValues<MatchStatus>())
            {
                if (s is not (MatchStatus.PlainHttp or MatchStatus.CaptureDisabled))
                {
                    total += Emitted(s);
                }
            }
            return total == 0 ? 0 : (double)matched / total;
        }
    }

    /// <summary>Registers the size gauges of a table.</summary>
    public void Track(Ja4Metrics metrics, ConnectionTable table)
    {
        metrics.Gauge("ja4_correlation_table_size", "Connections in the correlation table.", () => table.Count);
        metrics.Gauge("ja4_correlation_pending_size", "Requests waiting for their handshake.", () => table.PendingCount);
    }

    internal void Emit(MatchStatus status) => _byStatus[(int)status].Increment();

    internal void Lag(long micros)
    {
        if (micros < 0)
        {
            micros = 0;
        }
        LagMicros.Add(micros);
        LagSamples.Increment();
        Volatile.Write(ref _lastLagMicros, micros);
    }

    /// <summary>The snake_case name of a status, as in metrics and the JSON sinks.</summary>
    public static string StatusName(MatchStatus status) => status switch
    {
        MatchStatus.Matched => "matched",
        MatchStatus.PlainHttp => "plain_http",
        MatchStatus.NoHandshakeSeen => "no_handshake_seen",
        MatchStatus.CaptureDisabled => "capture_disabled",
        MatchStatus.Evicted => "evicted",
        MatchStatus.PendingOverflow => "pending_overflow",
        _ => status.ToString().ToLowerInvariant(),
    };

    private static Counter Eviction(Ja4Metrics metrics, string reason) =>
        metrics.Counter("ja4_correlation_evictions_total",
            "Connections removed from the table: cap (MaxConnections), idle (IdleTimeout), closed (FIN/RST plus CloseGrace).",
            ("reason", reason));
}
