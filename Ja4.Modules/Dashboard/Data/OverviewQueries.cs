using System.Globalization;
using System.Text.Json;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Queries;

namespace Ja4.Modules.Dashboard.Data;

/// <summary>The headline numbers of a time range; <c>TlsMatched</c> counts requests tied to the ClientHello of their connection.</summary>
public sealed record OverviewKpis(long Requests, long UniqueIps, long UniqueJa4s, long TlsMatched, long Status4xx, long Status5xx)
{
    /// <summary>Share of requests tied to a handshake, in [0, 1]; 0 without requests.</summary>
    public double MatchRate => Requests == 0 ? 0 : (double)TlsMatched / Requests;
}


/// <summary>Anomalies of one threat level in one bucket.</summary>
public sealed record LevelPoint(DateTimeOffset Start, string Level, long Count);

/// <summary>Anomalies of one threat level over the whole range.</summary>
public sealed record LevelCount(string Level, long Count);

/// <summary>A key and its request count (paths, hosts, status codes, TLS versions, ALPN values...).</summary>
public sealed record CountEntry(string Key, long Requests);

/// <summary>One JA4 of the top list, with the application the known-fingerprint list names.</summary>
public sealed record TopJa4(string Ja4, long Requests, long UniqueIps, string Application);

/// <summary>TLS versions and first offered ALPN protocol of the matched requests.</summary>
public sealed record TlsMix(IReadOnlyList<CountEntry> Versions, IReadOnlyList<CountEntry> Alpn);

/// <summary>
/// The detector's latest run as its scores show it: <c>LastRun</c> is the time of the newest score (null when
/// the detector has written none in the last 30 days), <c>Scores</c> and <c>Anomalies</c> count that run's rows.
/// </summary>
public sealed record DetectionRun(DateTimeOffset? LastRun, string ModelVersion, long Scores, long Anomalies);

/// <summary>An anomaly as the live page lists it.</summary>
public sealed record LiveAnomaly(DateTimeOffset Time, string ClientIp, string Ja4, string Host, string ThreatLevel, double Score,
    double Risk, string BotName, string Explanation);

/// <summary>
/// The Overview, Live and Status pages' reads: one method per panel, each one parameterised SQL
/// over a time range (so that day partitions prune). Hour-level panels read the hourly
/// aggregates; sub-hour buckets and the TLS and ALPN mix read the per-minute ones.
/// </summary>
public sealed class OverviewQueries(StorageQueries? queries, StorageOptions? options)
{
    /// <summary>False when the Storage module is off on this node: every query would then fail.</summary>
    public bool Available => queries is not null;

    /// <summary>Threat levels from the most to the least severe, as the detector writes them.</summary>
    public static readonly IReadOnlyList<string> Levels = ["critical", "high", "medium", "low", "none"];

    /// <summary>
    /// Requests, unique IPs and JA4s (plain HTTP's empty JA4 not counted; approximate above 65,536, as <c>uniq</c> is),
    /// match rate and error counts, from the per-minute aggregates.
    /// </summary>
    public async Task<OverviewKpis> KpisAsync(TimeRange range, CancellationToken cancellationToken = default)
    {
        var r = (await Store.RowsAsync($"""
            SELECT sum(requests) AS n, uniqMerge(client_ips) AS ips, uniqMerge(ja4s) AS ja4s,
                   sumIf(requests, match_status = 'matched') AS matched, sum(status_4xx) AS s4, sum(status_5xx) AS s5
            FROM {Store.T("agg_traffic_1m")} WHERE {DashboardSql.MinuteFilter}
            """, DashboardSql.Range(range), cancellationToken).ConfigureAwait(false))[0];
        return new OverviewKpis(DashboardSql.L(r, "n"), DashboardSql.L(r, "ips"), DashboardSql.L(r, "ja4s"), DashboardSql.L(r, "matched"),
            DashboardSql.L(r, "s4"), DashboardSql.L(r, "s5"));
    }

    /// <summary>Requests per <see cref="TimeRange.Bucket"/>, every bucket present (zeros included).</summary>
    public async Task<IReadOnlyList<SeriesPoint>> RequestSeriesAsync(TimeRange range, CancellationToken cancellationToken = default)
    {
        var step = StepSeconds(range);
        var p = DashboardSql.Range(range);
        p["step"] = step.ToString(CultureInfo.InvariantCulture);
        // Buckets of an hour or more come from the hourly aggregates, finer ones (a minute at least) from the
        // per-minute aggregates: a range that starts or ends inside a minute counts that whole minute.
        var sql = step >= 3600
            ? $"""
              SELECT intDiv(toUnixTimestamp(hour), {"{step:UInt32}"}) * {"{step:UInt32}"} AS b, sum(requests) AS n
              FROM {Store.T("agg_host_ip_ja4_1h")} WHERE {DashboardSql.HourFilter} GROUP BY b ORDER BY b
              """
            : $"""
              SELECT intDiv(toUnixTimestamp(minute), {"{step:UInt32}"}) * {"{step:UInt32}"} AS b, sum(requests) AS n
              FROM {Store.T("agg_traffic_1m")} WHERE {DashboardSql.MinuteFilter} GROUP BY b ORDER BY b
              """;
        var rows = await Store.RowsAsync(sql, p, cancellationToken).ConfigureAwait(false);
        return Buckets.Fill(range, rows.Select(r => new SeriesPoint(DateTimeOffset.FromUnixTimeSeconds(DashboardSql.L(r, "b")), DashboardSql.L(r, "n"))));
    }

    /// <summary>Anomalies per bucket and threat level (only buckets that have some).</summary>
    public async Task<IReadOnlyList<LevelPoint>> AnomalySeriesAsync(TimeRange range, CancellationToken cancellationToken = default)
    {
        var p = DashboardSql.Range(range);
        p["step"] = StepSeconds(range).ToString(CultureInfo.InvariantCulture);
        var rows = await Store.RowsAsync($"""
            SELECT intDiv(toUnixTimestamp(time), {"{step:UInt32}"}) * {"{step:UInt32}"} AS b, lower(toString(threat_level)) AS level, count() AS n
            FROM {Store.T("ml_detected_anomalies")} WHERE {DashboardSql.TimeFilter} GROUP BY b, level ORDER BY b, level
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new LevelPoint(DateTimeOffset.FromUnixTimeSeconds(DashboardSql.L(r, "b")), DashboardSql.S(r, "level"), DashboardSql.L(r, "n"))).ToList();
    }

    /// <summary>Anomalies per threat level over the range, most severe first.</summary>
    public async Task<IReadOnlyList<LevelCount>> AnomaliesByLevelAsync(TimeRange range, CancellationToken cancellationToken = default)
    {
        var rows = await Store.RowsAsync($"""
            SELECT lower(toString(threat_level)) AS level, count() AS n
            FROM {Store.T("ml_detected_anomalies")} WHERE {DashboardSql.TimeFilter} GROUP BY level
            """, DashboardSql.Range(range), cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new LevelCount(DashboardSql.S(r, "level"), DashboardSql.L(r, "n")))
            .OrderBy(l => LevelRank(l.Level)).ThenBy(l => l.Level, StringComparer.Ordinal).ToList();
    }

    /// <summary>The biggest JA4s by requests, with their known application (empty when unknown).</summary>
    public async Task<IReadOnlyList<TopJa4>> TopJa4sAsync(TimeRange range, int limit = 10, CancellationToken cancellationToken = default)
    {
        var p = DashboardSql.Range(range);
        p["limit"] = Math.Clamp(limit, 1, 1000).ToString(CultureInfo.InvariantCulture);
        var rows = await Store.RowsAsync($"""
            SELECT ja4, requests, ips, dictGetOrDefault('{Database}.known_fingerprints_dict', 'application', tuple(ja4), '') AS app
            FROM (
                SELECT toString(ja4) AS ja4, sum(requests) AS requests, uniq(client_ip) AS ips
                FROM {Store.T("agg_host_ip_ja4_1h")} WHERE {DashboardSql.HourFilter} AND ja4 != ''
                GROUP BY ja4 ORDER BY requests DESC, ja4 LIMIT {"{limit:UInt32}"})
            ORDER BY requests DESC, ja4
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new TopJa4(DashboardSql.S(r, "ja4"), DashboardSql.L(r, "requests"), DashboardSql.L(r, "ips"), DashboardSql.S(r, "app"))).ToList();
    }

    /// <summary>The biggest hosts by requests (per-minute aggregates).</summary>
    public Task<IReadOnlyList<CountEntry>> TopHostsAsync(TimeRange range, int limit = 10, CancellationToken cancellationToken = default) =>
        CountsAsync($"""
            SELECT toString(host) AS k, sum(requests) AS n FROM {Store.T("agg_traffic_1m")} WHERE {DashboardSql.MinuteFilter}
            GROUP BY k ORDER BY n DESC, k LIMIT {"{limit:UInt32}"}
            """, range, limit, cancellationToken);

    /// <summary>The most requested paths (hourly aggregates; only the counts, not the per-path distinct clients the API gives).</summary>
    public Task<IReadOnlyList<CountEntry>> TopPathsAsync(TimeRange range, int limit = 10, CancellationToken cancellationToken = default) =>
        CountsAsync($"""
            SELECT path AS k, sum(requests) AS n FROM {Store.T("agg_host_path_1h")} WHERE {DashboardSql.HourFilter}
            GROUP BY k ORDER BY n DESC, k LIMIT {"{limit:UInt32}"}
            """, range, limit, cancellationToken);

    /// <summary>The busiest client IPs (hourly aggregates), in their usual form; ties in address order.</summary>
    public async Task<IReadOnlyList<CountEntry>> TopIpsAsync(TimeRange range, int limit = 10, CancellationToken cancellationToken = default) =>
        (await CountsAsync($"""
            SELECT IPv6NumToString(ip) AS k, n FROM (
                SELECT client_ip AS ip, sum(requests) AS n FROM {Store.T("agg_host_ip_ja4_1h")} WHERE {DashboardSql.HourFilter}
                GROUP BY ip ORDER BY n DESC, ip LIMIT {"{limit:UInt32}"})
            ORDER BY n DESC, ip
            """, range, limit, cancellationToken).ConfigureAwait(false)).Select(e => e with { Key = DashboardSql.Ip(e.Key) }).ToList();

    private async Task<IReadOnlyList<CountEntry>> CountsAsync(string sql, TimeRange range, int limit, CancellationToken cancellationToken)
    {
        var p = DashboardSql.Range(range);
        p["limit"] = Math.Clamp(limit, 1, 1000).ToString(CultureInfo.InvariantCulture);
        var rows = await Store.RowsAsync(sql, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new CountEntry(DashboardSql.S(r, "k"), DashboardSql.L(r, "n"))).ToList();
    }

    /// <summary>TLS versions and first offered ALPN of the requests tied to a handshake (per-minute aggregates: whole minutes).</summary>
    public async Task<TlsMix> TlsMixAsync(TimeRange range, CancellationToken cancellationToken = default)
    {
        var rows = await Store.RowsAsync($"""
            SELECT 'v' AS kind, toString(tls_version) AS key, sum(requests) AS n
            FROM {Store.T("agg_traffic_1m")} WHERE {DashboardSql.MinuteFilter} AND match_status = 'matched' GROUP BY key
            UNION ALL
            SELECT 'a' AS kind, if(alpn = '', '(none)', toString(alpn)) AS key, sum(requests) AS n
            FROM {Store.T("agg_traffic_1m")} WHERE {DashboardSql.MinuteFilter} AND match_status = 'matched' GROUP BY key
            """, DashboardSql.Range(range), cancellationToken).ConfigureAwait(false);
        List<CountEntry> Of(string kind) => rows.Where(r => DashboardSql.S(r, "kind") == kind)
            .Select(r => new CountEntry(DashboardSql.S(r, "key"), DashboardSql.L(r, "n")))
            .OrderByDescending(e => e.Requests).ThenBy(e => e.Key, StringComparer.Ordinal).ToList();
        return new TlsMix(Of("v"), Of("a"));
    }

    /// <summary>Anomalies written after <paramref name="after"/> (exclusive) and before <paramref name="until"/>, newest first.</summary>
    public async Task<IReadOnlyList<LiveAnomaly>> AnomaliesAfterAsync(DateTimeOffset after, DateTimeOffset until, int limit = 200,
        CancellationToken cancellationToken = default)
    {
        var p = DashboardSql.Range(after, until);
        p["limit"] = Math.Clamp(limit, 1, 10_000).ToString(CultureInfo.InvariantCulture);
        var rows = await Store.RowsAsync($"""
            SELECT toUnixTimestamp64Milli(time) AS t, IPv6NumToString(client_ip) AS ip, toString(ja4) AS ja4, toString(host) AS host,
                   lower(toString(threat_level)) AS level, score, risk, toString(bot_name) AS bot, explanation
            FROM {Store.T("ml_detected_anomalies")}
            WHERE time > fromUnixTimestamp64Micro({"{from:Int64}"}, 'UTC') AND time < fromUnixTimestamp64Micro({"{to:Int64}"}, 'UTC')
            ORDER BY time DESC, ip LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new LiveAnomaly(DateTimeOffset.FromUnixTimeMilliseconds(DashboardSql.L(r, "t")), DashboardSql.Ip(DashboardSql.S(r, "ip")),
            DashboardSql.S(r, "ja4"), DashboardSql.S(r, "host"), DashboardSql.S(r, "level"), DashboardSql.D(r, "score"), DashboardSql.D(r, "risk"),
            DashboardSql.S(r, "bot"), DashboardSql.S(r, "explanation"))).ToList();
    }

    /// <summary>The newest detection run of the last 30 days before <paramref name="now"/>: its time, model version and sizes.</summary>
    public async Task<DetectionRun> LastDetectionRunAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var p = DashboardSql.Range(now.AddDays(-30), now.AddMinutes(5));
        var rows = await Store.RowsAsync($"""
            SELECT toUnixTimestamp64Milli(max(time)) AS t, argMax(toString(model_version), time) AS model,
                   countIf(time = last) AS scores, countIf(time = last AND is_anomaly) AS anomalies, count() AS total
            FROM {Store.T("ml_all_scores")}
            CROSS JOIN (SELECT max(time) AS last FROM {Store.T("ml_all_scores")} WHERE {DashboardSql.TimeFilter}) AS m
            WHERE {DashboardSql.TimeFilter}
            """, p, cancellationToken).ConfigureAwait(false);
        var r = rows[0];
        return DashboardSql.L(r, "total") == 0
            ? new DetectionRun(null, "", 0, 0)
            : new DetectionRun(DateTimeOffset.FromUnixTimeMilliseconds(DashboardSql.L(r, "t")), DashboardSql.S(r, "model"),
                DashboardSql.L(r, "scores"), DashboardSql.L(r, "anomalies"));
    }

    /// <summary>Runs a trivial query: null when the store answers, else what went wrong.</summary>
    public async Task<string?> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await Store.RowsAsync("SELECT 1 AS ok", new Dictionary<string, string>(), cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is Ja4.Modules.Storage.Engines.StoreException or InvalidOperationException or HttpRequestException or TimeoutException)
        {
            return e.Message;
        }
    }

    /// <summary>Position of a level in <see cref="Levels"/>; unknown levels sort last.</summary>
    public static int LevelRank(string level)
    {
        for (var i = 0; i < Levels.Count; i++)
        {
            if (string.Equals(Levels[i], level, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }
        return Levels.Count;
    }

    private static long StepSeconds(TimeRange range) => (long)range.Bucket.TotalSeconds;

    private string Database => options?.Database ?? throw DashboardSql.Unavailable();

    private StorageQueries Store => queries ?? throw DashboardSql.Unavailable();
}

/// <summary>Time buckets of a range: epoch-aligned starts, the same in SQL (<c>intDiv</c>) and here.</summary>
public static class Buckets
{
    /// <summary>Every bucket start of <paramref name="range"/>, oldest first.</summary>
    public static IReadOnlyList<DateTimeOffset> Starts(TimeRange range)
    {
        var step = (long)range.Bucket.TotalSeconds;
        var first = range.From.ToUnixTimeSeconds() / step * step;
        var end = range.To.ToUnixTimeSeconds();
        var list = new List<DateTimeOffset>();
        for (var t = first; t < end; t += step)
        {
            list.Add(DateTimeOffset.FromUnixTimeSeconds(t));
        }
        return list;
    }

    /// <summary>The points placed on every bucket of the range, zero where none was given.</summary>
    public static IReadOnlyList<SeriesPoint> Fill(TimeRange range, IEnumerable<SeriesPoint> points)
    {
        var byStart = new Dictionary<DateTimeOffset, long>();
        foreach (var point in points)
        {
            byStart[point.Time] = byStart.GetValueOrDefault(point.Time) + point.Value;
        }
        return Starts(range).Select(s => new SeriesPoint(s, byStart.GetValueOrDefault(s))).ToList();
    }
}

/// <summary>What the dashboard's queries share: time bounds as parameters and reading JSONEachRow values.</summary>
internal static class DashboardSql
{
    /// <summary>Half-open [from, to) on a DateTime64 <c>time</c> column.</summary>
    public const string TimeFilter =
        "time >= fromUnixTimestamp64Micro({from:Int64}, 'UTC') AND time < fromUnixTimestamp64Micro({to:Int64}, 'UTC')";

    /// <summary>The minutes that [from, to) touches, on the per-minute aggregates.</summary>
    public const string MinuteFilter =
        "minute >= toStartOfMinute(fromUnixTimestamp64Micro({from:Int64}, 'UTC')) AND minute < fromUnixTimestamp64Micro({to:Int64}, 'UTC')";

    /// <summary>The hours that [from, to) touches, on an hourly aggregate.</summary>
    public const string HourFilter =
        "hour >= toStartOfHour(fromUnixTimestamp64Micro({from:Int64}, 'UTC')) AND hour < fromUnixTimestamp64Micro({to:Int64}, 'UTC')";

    public static Dictionary<string, string> Range(TimeRange range) => Range(range.From, range.To);

    public static Dictionary<string, string> Range(DateTimeOffset from, DateTimeOffset to) => new()
    {
        ["from"] = Micros(from),
        ["to"] = Micros(to),
    };

    /// <summary>A time as the <c>{from:Int64}</c>/<c>{to:Int64}</c> parameters take it: microseconds since the epoch.</summary>
    public static string Micros(DateTimeOffset t) =>
        ((t.UtcTicks - DateTime.UnixEpoch.Ticks) / 10).ToString(CultureInfo.InvariantCulture);

    public static InvalidOperationException Unavailable() =>
        new("the Storage module is disabled on this node (Modules:Storage:Enabled), so there is nothing to show");

    public static long L(JsonElement r, string name)
    {
        var e = r.GetProperty(name);
        return e.ValueKind switch
        {
            JsonValueKind.String => long.Parse(e.GetString()!, CultureInfo.InvariantCulture),
            JsonValueKind.Null => 0,
            JsonValueKind.True => 1,
            JsonValueKind.False => 0,
            _ => e.GetInt64(),
        };
    }

    public static double D(JsonElement r, string name)
    {
        var e = r.GetProperty(name);
        return e.ValueKind switch
        {
            JsonValueKind.String => double.Parse(e.GetString()!, CultureInfo.InvariantCulture),
            JsonValueKind.Null => 0,
            _ => e.GetDouble(),
        };
    }

    public static string S(JsonElement r, string name) => r.GetProperty(name).GetString() ?? "";

    public static DateTimeOffset Micro(JsonElement r, string name) => FromMicros(L(r, name));

    /// <summary>Microseconds since the epoch (UTC) as the engine's <c>toUnixTimestamp64Micro</c> gives them.</summary>
    public static DateTimeOffset FromMicros(long micros) => new(DateTime.UnixEpoch.Ticks + micros * 10, TimeSpan.Zero);

    /// <summary>An address as stored (IPv6 text) back in its usual form: IPv4-mapped as IPv4.</summary>
    public static string Ip(string v6) =>
        System.Net.IPAddress.TryParse(v6, out var ip) && ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4().ToString() : v6;

    /// <summary>Top entries keyed by address, the keys in their usual form.</summary>
    public static IReadOnlyList<TopEntry> WithIps(IReadOnlyList<TopEntry> entries) => entries.Select(e => e with { Key = Ip(e.Key) }).ToList();

    public static IReadOnlyList<string> Strings(JsonElement r, string name) =>
        r.GetProperty(name).EnumerateArray().Select(e => e.GetString() ?? "").ToList();
}
