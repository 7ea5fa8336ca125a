using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Queries;
using Microsoft.Extensions.DependencyInjection;

namespace Ja4.Modules.Dashboard.Data;

/// <summary>An input the API and pages refuse, naming the parameter (HTTP 400).</summary>
public sealed class BadParameterException(string parameter, string message) : Exception(message)
{
    public string Parameter { get; } = parameter;
}

/// <summary>Filters of the anomaly table; every one optional.</summary>
/// <param name="Levels">Threat levels (lower case), any of them.</param>
/// <param name="Address">One address or a CIDR block.</param>
/// <param name="Ja4">A JA4 or the start of one.</param>
/// <param name="Bot">A substring of the bot name (case-insensitive).</param>
/// <param name="Host">An exact host.</param>
public sealed record AnomalyFilter(IReadOnlyList<string> Levels, AddressRange? Address, string? Ja4, string? Bot, string? Host)
{
    public static readonly AnomalyFilter None = new([], null, null, null, null);

    /// <summary>Reads the URL's filter parameters; throws <see cref="BadParameterException"/> on bad input.</summary>
    public static AnomalyFilter Parse(string? level, string? ip, string? ja4, string? bot, string? host)
    {
        var levels = new List<string>();
        foreach (var l in Text.Check("level", level, 64)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [])
        {
            var lower = l.ToLowerInvariant();
            if (!AnomalyQueries.Levels.Contains(lower))
            {
                throw new BadParameterException("level", $"'level' must be a comma-separated list of {string.Join(", ", AnomalyQueries.Levels)}");
            }
            levels.Add(lower);
        }
        AddressRange? range = null;
        if (Text.Check("ip", ip, 64) is { } ipText)
        {
            range = AddressRange.TryParse(ipText, out var r) ? r
                : throw new BadParameterException("ip", "'ip' must be an IPv4/IPv6 address or a CIDR block such as 192.0.2.0/24");
        }
        return new AnomalyFilter(levels, range, Text.Check("ja4", ja4, 64), Text.Check("bot", bot, 128), Text.Check("host", host, 256));
    }
}

/// <summary>One anomalous client (address × JA4 × host) over the time range.</summary>
public sealed record AnomalyRow(string ClientIp, string Ja4, string Host, string ThreatLevel, double Score, double Risk,
    string BotName, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, long Detections, long Requests, string Explanation,
    string CampaignId);

/// <summary>One page of the anomaly table.</summary>
public sealed record AnomalyPage(long Total, int Page, int PageSize, IReadOnlyList<AnomalyRow> Items);

/// <summary>Columns the anomaly table sorts by.</summary>
public enum AnomalySort
{
    LastSeen,
    FirstSeen,
    Level,
    Score,
    Risk,
    Ip,
    Ja4,
    Bot,
    Host,
    Requests,
}

/// <summary>A point of a time series: the bucket's start and its value.</summary>
public sealed record SeriesPoint(DateTimeOffset Time, long Value);

/// <summary>
/// The anomaly table and the time series, read from <c>ml_detected_anomalies</c>, <c>http_logs</c>
/// and the hourly aggregates: parameterised SQL only, always bounded by the time range.
/// </summary>
public sealed class AnomalyQueries(DashboardStore store)
{
    /// <summary>Threat levels from least to most severe, as stored (compared in lower case).</summary>
    public static readonly IReadOnlyList<string> Levels = ["low", "medium", "high", "critical"];

    public const int MaxPageSize = 500;

    /// <summary>Anomalies grouped by client (address, JA4, host): one page, sorted.</summary>
    public async Task<AnomalyPage> PageAsync(TimeRange range, AnomalyFilter filter, AnomalySort sort, bool descending, int page, int pageSize,
        CancellationToken cancellationToken = default)
    {
        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        page = Math.Max(page, 1);
        var p = Sql.Range(range);
        var where = Where(filter, p);
        var table = store.T("ml_detected_anomalies");
        var total = await store.RowsAsync($"""
            SELECT uniqExact(client_ip, ja4, host) AS n FROM {table} WHERE {where}
            """, p, cancellationToken).ConfigureAwait(false);
        p["limit"] = pageSize.ToString(CultureInfo.InvariantCulture);
        p["offset"] = ((long)(page - 1) * pageSize).ToString(CultureInfo.InvariantCulture);
        var rows = await store.RowsAsync($"""
            {GroupedSelect(table, where, sort, descending, " OFFSET {offset:UInt64}")}
            ORDER BY {OrderBy(sort, descending)}
            """, p, cancellationToken).ConfigureAwait(false);
        return new AnomalyPage(J.L(total[0], "n"), page, pageSize, rows.Select(Row).ToList());
    }

    /// <summary>The same rows for an export: at most <paramref name="limit"/>, handed over one by one.</summary>
    public Task ExportAsync(TimeRange range, AnomalyFilter filter, AnomalySort sort, bool descending, int limit,
        Func<AnomalyRow, ValueTask> onRow, CancellationToken cancellationToken = default)
    {
        var p = Sql.Range(range);
        var where = Where(filter, p);
        p["limit"] = Math.Max(1, limit).ToString(CultureInfo.InvariantCulture);
        return store.StreamRowsAsync($"""
            {GroupedSelect(store.T("ml_detected_anomalies"), where, sort, descending, "")}
            ORDER BY {OrderBy(sort, descending)}
            """, p, r => onRow(Row(r)), cancellationToken);
    }

    /// <summary>
    /// The grouped rows of one page: the page's clients are chosen first (sorted and limited on
    /// the cheap aggregates), and only they carry their latest explanation text.
    /// </summary>
    private static string GroupedSelect(string table, string where, AnomalySort sort, bool descending, string offset) => $"""
        SELECT IPv6NumToString(client_ip) AS ip, toString(ja4) AS ja4, toString(host) AS host,
               argMax(lower(toString(threat_level)), time) AS level, max(score) AS score, max(risk) AS risk,
               argMax(toString(bot_name), time) AS bot, toUnixTimestamp(min(window_start)) AS first,
               toUnixTimestamp(max(window_end)) AS last, count() AS detections, sum(requests) AS requests,
               argMax(explanation, time) AS explanation, argMax(campaign_id, time) AS campaign,
               indexOf(['low', 'medium', 'high', 'critical'], level) AS severity
        FROM {table} WHERE {where} AND (client_ip, ja4, host) IN (
            SELECT client_ip, ja4, host FROM {table} WHERE {where}
            GROUP BY client_ip, ja4, host
            ORDER BY {SortAggregate(sort)} {(descending ? "DESC" : "ASC")}, client_ip, ja4, host
            LIMIT {"{limit:UInt32}"}{offset})
        GROUP BY client_ip, ja4, host
        """;

    /// <summary>The sort key as an aggregate over the raw columns (for choosing a page's clients).</summary>
    private static string SortAggregate(AnomalySort sort) => sort switch
    {
        AnomalySort.FirstSeen => "min(window_start)",
        AnomalySort.Level => "indexOf(['low', 'medium', 'high', 'critical'], argMax(lower(toString(threat_level)), time))",
        AnomalySort.Score => "max(score)",
        AnomalySort.Risk => "max(risk)",
        AnomalySort.Ip => "client_ip",
        AnomalySort.Ja4 => "toString(ja4)",
        AnomalySort.Bot => "argMax(toString(bot_name), time)",
        AnomalySort.Host => "toString(host)",
        AnomalySort.Requests => "sum(requests)",
        _ => "max(window_end)",
    };

    private static string Where(AnomalyFilter f, Dictionary<string, string> p)
    {
        var w = new List<string> { Sql.TimeFilter };
        if (f.Levels.Count > 0)
        {
            p["levels"] = string.Join(",", f.Levels);
            w.Add("has(splitByChar(',', {levels:String}), lower(toString(threat_level)))");
        }
        if (f.Address is { } a)
        {
            p["ip_lo"] = a.Low;
            p["ip_hi"] = a.High;
            w.Add("client_ip BETWEEN {ip_lo:IPv6} AND {ip_hi:IPv6}");
        }
        if (!string.IsNullOrEmpty(f.Ja4))
        {
            p["ja4"] = f.Ja4;
            w.Add("startsWith(toString(ja4), {ja4:String})");
        }
        if (!string.IsNullOrEmpty(f.Bot))
        {
            p["bot"] = f.Bot;
            w.Add("positionCaseInsensitiveUTF8(toString(bot_name), {bot:String}) > 0");
        }
        if (!string.IsNullOrEmpty(f.Host))
        {
            p["host"] = f.Host;
            w.Add("toString(host) = {host:String}");
        }
        return string.Join(" AND ", w);
    }

    private static string OrderBy(AnomalySort sort, bool descending)
    {
        var column = sort switch
        {
            AnomalySort.FirstSeen => "first",
            AnomalySort.Level => "severity",
            AnomalySort.Score => "score",
            AnomalySort.Risk => "risk",
            AnomalySort.Ip => "client_ip",
            AnomalySort.Ja4 => "ja4",
            AnomalySort.Bot => "bot",
            AnomalySort.Host => "host",
            AnomalySort.Requests => "requests",
            _ => "last",
        };
        // A stable tie-break, so that pages never repeat or skip a row.
        return $"{column} {(descending ? "DESC" : "ASC")}, client_ip, ja4, host";
    }

    private static AnomalyRow Row(JsonElement r) => new(Sql.Address(J.S(r, "ip")), J.S(r, "ja4"), J.S(r, "host"), J.S(r, "level"),
        Math.Round(J.D(r, "score"), 4), Math.Round(J.D(r, "risk"), 4), J.S(r, "bot"),
        DateTimeOffset.FromUnixTimeSeconds(J.L(r, "first")), DateTimeOffset.FromUnixTimeSeconds(J.L(r, "last")),
        J.L(r, "detections"), J.L(r, "requests"), J.S(r, "explanation"), J.S(r, "campaign"));

    /// <summary>
    /// Requests or anomalies per bucket of <see cref="TimeRange.Bucket"/>; buckets without any are
    /// left out. Hour-wide buckets read the hourly aggregates, finer ones the requests.
    /// </summary>
    public async Task<IReadOnlyList<SeriesPoint>> TimeseriesAsync(string metric, TimeRange range, CancellationToken cancellationToken = default)
    {
        var p = Sql.Range(range);
        p["bucket"] = ((long)range.Bucket.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var sql = metric switch
        {
            "requests" when range.Bucket >= TimeSpan.FromHours(1) => $"""
                SELECT toUnixTimestamp(toStartOfInterval(hour, toIntervalSecond({"{bucket:UInt32}"}))) AS t, sum(requests) AS v
                FROM {store.T("agg_host_ip_ja4_1h")} WHERE {Sql.HourFilter} GROUP BY t ORDER BY t
                """,
            // Buckets under an hour (a minute at least) from the per-minute aggregates: whole minutes at the range's ends.
            "requests" => $"""
                SELECT toUnixTimestamp(toStartOfInterval(minute, toIntervalSecond({"{bucket:UInt32}"}))) AS t, sum(requests) AS v
                FROM {store.T("agg_traffic_1m")} WHERE {Sql.MinuteFilter} GROUP BY t ORDER BY t
                """,
            "anomalies" => $"""
                SELECT toUnixTimestamp(toStartOfInterval(time, toIntervalSecond({"{bucket:UInt32}"}))) AS t, count() AS v
                FROM {store.T("ml_detected_anomalies")} WHERE {Sql.TimeFilter} GROUP BY t ORDER BY t
                """,
            _ => throw new BadParameterException("metric", "'metric' must be requests or anomalies"),
        };
        var rows = await store.RowsAsync(sql, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new SeriesPoint(DateTimeOffset.FromUnixTimeSeconds(J.L(r, "t")), J.L(r, "v"))).ToList();
    }
}

/// <summary>
/// The store as the dashboard reads it: the storage module's read connection and table names.
/// When the storage module is off, every call fails with a <see cref="StoreException"/> that
/// says so (pages show it, the API answers 503).
/// </summary>
public sealed class DashboardStore(IServiceProvider services)
{
    private StorageQueries Queries => services.GetService<StorageQueries>()
        ?? throw new StoreException("the storage module is disabled (Modules:Storage:Enabled=false): there is no data to show");

    private StorageStore Store => services.GetService<StorageStore>()
        ?? throw new StoreException("the storage module is disabled (Modules:Storage:Enabled=false): there is no data to show");

    /// <summary>The storage module's typed queries (stats, top-N, IP and JA4 drill-downs).</summary>
    public StorageQueries Storage => Queries;

    /// <summary>Qualified table name (the Distributed <c>_all</c> table in cluster mode).</summary>
    public string T(string table) => Queries.T(table);

    /// <summary>Runs a query and parses its JSONEachRow output.</summary>
    public Task<IReadOnlyList<JsonElement>> RowsAsync(string sql, IReadOnlyDictionary<string, string> parameters,
        CancellationToken cancellationToken) => Queries.RowsAsync(sql, parameters, cancellationToken);

    /// <summary>Runs a query and hands over its rows one by one as the engine streams them.</summary>
    public async Task StreamRowsAsync(string sql, IReadOnlyDictionary<string, string> parameters, Func<JsonElement, ValueTask> onRow,
        CancellationToken cancellationToken)
    {
        var pending = new ArrayBufferWriter<byte>();
        await Store.Reader.StreamAsync(sql, parameters, "JSONEachRow", async (chunk, ct) =>
        {
            var span = chunk;
            while (!span.IsEmpty)
            {
                var nl = span.Span.IndexOf((byte)'\n');
                if (nl < 0)
                {
                    pending.Write(span.Span);
                    break;
                }
                ReadOnlyMemory<byte> line;
                if (pending.WrittenCount > 0)
                {
                    pending.Write(span.Span[..nl]);
                    line = pending.WrittenMemory.ToArray();
                    pending.ResetWrittenCount();
                }
                else
                {
                    line = span[..nl];
                }
                span = span[(nl + 1)..];
                if (line.Length > 0)
                {
                    using var doc = JsonDocument.Parse(line);
                    await onRow(doc.RootElement).ConfigureAwait(false);
                }
            }
        }, cancellationToken).ConfigureAwait(false);
        if (pending.WrittenCount > 0)
        {
            using var doc = JsonDocument.Parse(pending.WrittenMemory);
            await onRow(doc.RootElement).ConfigureAwait(false);
        }
    }
}

/// <summary>SQL fragments and parameters shared by the dashboard's queries.</summary>
internal static class Sql
{
    /// <summary>Half-open [from, to) on a <c>time</c> column, bounds in microseconds.</summary>
    public const string TimeFilter = DashboardSql.TimeFilter;

    /// <summary>The hours that [from, to) touches, on an <c>hour</c> column.</summary>
    public const string HourFilter = DashboardSql.HourFilter;

    /// <summary>The minutes that [from, to) touches, on a <c>minute</c> column.</summary>
    public const string MinuteFilter = DashboardSql.MinuteFilter;

    public static Dictionary<string, string> Range(TimeRange range) => DashboardSql.Range(range);

    /// <summary>An address as stored (IPv6 text) shown as people write it (IPv4 for IPv4-mapped).</summary>
    public static string Address(string v6) => DashboardSql.Ip(v6);
}

/// <summary>Reads values of a JSONEachRow row: the readers of <see cref="DashboardSql"/>, plus booleans.</summary>
internal static class J
{
    public static long L(JsonElement r, string name) => DashboardSql.L(r, name);

    public static double D(JsonElement r, string name) => DashboardSql.D(r, name);

    public static string S(JsonElement r, string name) => DashboardSql.S(r, name);

    public static bool B(JsonElement r, string name) => L(r, name) != 0;
}

/// <summary>Checks on text parameters: bounded length, no control characters.</summary>
internal static class Text
{
    /// <summary>Null for absent or blank input; the trimmed text otherwise; throws on bad input.</summary>
    public static string? Check(string parameter, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        value = value.Trim();
        if (value.Length > maxLength)
        {
            throw new BadParameterException(parameter, $"'{parameter}' may be at most {maxLength} characters long");
        }
        if (value.Any(char.IsControl))
        {
            throw new BadParameterException(parameter, $"'{parameter}' must not contain control characters");
        }
        return value;
    }
}
