using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Writer;

namespace Ja4.Modules.Storage.Queries;

/// <summary>Totals over a time range.</summary>
public sealed record TrafficStats(long Requests, long UniqueIps, long UniqueJa4s, long UniqueHosts, long BytesSent,
    long Status4xx, long Status5xx, long TlsMatched);

/// <summary>One row of a top-N list.</summary>
public sealed record TopEntry(string Key, long Requests, long UniqueIps, long BytesSent);

/// <summary>What a top-N list is ranked by.</summary>
public enum TopDimension
{
    Ja4,
    Host,
    ClientIp,
    Path,
}

/// <summary>One hour of one client IP (from the hourly aggregates).</summary>
public sealed record IpHour(DateTimeOffset Hour, string Host, string Ja4, long Requests, long UniquePaths,
    long UniqueUserAgents, long Status4xx, long Status5xx, long BytesSent);

/// <summary>One stored request, as the drill-downs list them.</summary>
public sealed record RequestRow(DateTimeOffset Time, string ClientIp, string Host, string Method, string Path,
    int Status, string UserAgent, string Ja4, string MatchStatus);

/// <summary>Everything about one client IP over a time range.</summary>
public sealed record IpDrilldown(string ClientIp, IReadOnlyList<IpHour> Hours, IReadOnlyList<RequestRow> RecentRequests);

/// <summary>Everything about one JA4 over a time range, with what it is known to be.</summary>
public sealed record Ja4Drilldown(string Ja4, long Requests, long UniqueIps, IReadOnlyList<TopEntry> TopIps,
    IReadOnlyList<TopEntry> TopHosts, string? Application, string? Category);

/// <summary>One detector score (a row of <c>ml_all_scores</c> / <c>ml_detected_anomalies</c>).</summary>
public sealed record ScoreRecord(DateTimeOffset Time, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, string Host,
    IPAddress ClientIp, string Ja4, float Score, string ThreatLevel, string BotName, bool IsAnomaly, string ModelVersion,
    IReadOnlyDictionary<string, double> Features, string Explanation)
{
    /// <summary>Combined model and rule risk in [0, 1] (<c>risk</c>, migration 09).</summary>
    public float Risk { get; init; }

    /// <summary>Requests of the entity in the window (<c>requests</c>).</summary>
    public int Requests { get; init; }

    /// <summary>Consistency rules that fired (<c>rule_ids</c>).</summary>
    public IReadOnlyList<string> RuleIds { get; init; } = [];

    /// <summary>Campaign of the entity, empty when none (<c>campaign_id</c>).</summary>
    public string CampaignId { get; init; } = "";

    /// <summary>Seen again after a quiet period (<c>returning</c>).</summary>
    public bool Returning { get; init; }
}

/// <summary>One known fingerprint (a row of <c>known_fingerprints</c>).</summary>
public sealed record KnownFingerprint(string Ja4, string Application, string Library, string Device, string Os,
    string Category, string Source, string Notes);

/// <summary>
/// The read side for detection and the dashboard: typed methods, each one parameterised
/// ClickHouse SQL (<c>{name:Type}</c> values bound by the engine, never spliced in). Hour-level
/// questions read the hourly aggregates; request-level ones read <c>http_logs</c>.
/// </summary>
public sealed partial class StorageQueries(IStoreExecutor store, StorageOptions options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private static readonly JsonDocumentOptions JsonOptions = new();

    /// <summary>Qualified table name; in cluster mode reads go to the Distributed <c>_all</c> table.</summary>
    internal string T(string table) =>
        options.Engine == StorageEngineKind.ClickHouse && !string.IsNullOrEmpty(options.ClickHouse.Cluster)
            ? $"{options.Database}.{table}_all"
            : $"{options.Database}.{table}";

    private static Dictionary<string, string> Range(DateTimeOffset from, DateTimeOffset to) => new()
    {
        ["from"] = Micros(from),
        ["to"] = Micros(to),
    };

    private static string Micros(DateTimeOffset t) =>
        ((t.UtcTicks - DateTime.UnixEpoch.Ticks) / 10).ToString(CultureInfo.InvariantCulture);

    /// <summary>Time bounds as DateTime64(6) from microseconds: half-open [from, to).</summary>
    private const string TimeFilter = "time >= fromUnixTimestamp64Micro({from:Int64}, 'UTC') AND time < fromUnixTimestamp64Micro({to:Int64}, 'UTC')";

    private const string HourFilter = "hour >= toStartOfHour(fromUnixTimestamp64Micro({from:Int64}, 'UTC')) AND hour < fromUnixTimestamp64Micro({to:Int64}, 'UTC')";

    /// <summary>Totals over the hours that [from, to) touches, from the hourly aggregates.</summary>
    public async Task<TrafficStats> StatsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        var rows = await RowsAsync($"""
            SELECT sum(requests) AS requests, uniq(client_ip) AS ips, uniq(ja4) AS ja4s, uniq(host) AS hosts,
                   sum(bytes_sent) AS bytes, sum(status_4xx) AS s4, sum(status_5xx) AS s5, sum(tls_matched) AS matched
            FROM {T("agg_host_ip_ja4_1h")} WHERE {HourFilter}
            """, Range(from, to), cancellationToken).ConfigureAwait(false);
        var r = rows[0];
        return new TrafficStats(L(r, "requests"), L(r, "ips"), L(r, "ja4s"), L(r, "hosts"), L(r, "bytes"), L(r, "s4"), L(r, "s5"), L(r, "matched"));
    }

    /// <summary>The <paramref name="limit"/> biggest JA4s, hosts, client IPs or paths by requests in [from, to).</summary>
    public async Task<IReadOnlyList<TopEntry>> TopAsync(TopDimension dimension, DateTimeOffset from, DateTimeOffset to, int limit = 10,
        CancellationToken cancellationToken = default)
    {
        var p = Range(from, to);
        p["limit"] = Math.Clamp(limit, 1, 10_000).ToString(CultureInfo.InvariantCulture);
        string sql = dimension switch
        {
            TopDimension.Path => $"""
                SELECT path AS key, sum(requests) AS requests, uniqMerge(client_ips) AS ips, sum(bytes_sent) AS bytes
                FROM {T("agg_host_path_1h")}
                WHERE {HourFilter} AND path IN (
                    SELECT path FROM {T("agg_host_path_1h")} WHERE {HourFilter}
                    GROUP BY path ORDER BY sum(requests) DESC, path LIMIT {"{limit:UInt32}"})
                GROUP BY key ORDER BY requests DESC, key
                """,
            // An address is grouped as stored and formatted once it is among the top ones (ties in address order).
            TopDimension.ClientIp => $"""
                SELECT IPv6NumToString(ip) AS key, requests, 1 AS ips, bytes FROM (
                    SELECT client_ip AS ip, sum(requests) AS requests, sum(bytes_sent) AS bytes
                    FROM {T("agg_host_ip_ja4_1h")} WHERE {HourFilter}
                    GROUP BY ip ORDER BY requests DESC, ip LIMIT {"{limit:UInt32}"})
                ORDER BY requests DESC, ip
                """,
            _ => $"""
                SELECT {KeyColumn(dimension)} AS key, sum(requests) AS requests, uniq(client_ip) AS ips, sum(bytes_sent) AS bytes
                FROM {T("agg_host_ip_ja4_1h")} WHERE {HourFilter}
                GROUP BY key ORDER BY requests DESC, key LIMIT {"{limit:UInt32}"}
                """,
        };
        var rows = await RowsAsync(sql, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new TopEntry(S(r, "key"), L(r, "requests"), L(r, "ips"), L(r, "bytes"))).ToList();
    }

    private static string KeyColumn(TopDimension d) => d switch
    {
        TopDimension.Ja4 => "ja4",
        TopDimension.Host => "toString(host)",
        _ => throw new ArgumentOutOfRangeException(nameof(d)),
    };

    /// <summary>
    /// Distinct paths and User-Agents of <c>agg_host_ip_ja4_1h</c> rows: bounded <c>uniqCombined(12)</c> states
    /// since migration 16, <c>uniq</c> states in the rows written before it (empty in the later ones). Per hour
    /// this is exact but for the hour of the upgrade, which counts the larger of its two halves.
    /// </summary>
    internal const string DistinctPaths = "greatest(uniqMerge(paths), uniqCombinedMerge(12)(distinct_paths))";

    /// <inheritdoc cref="DistinctPaths"/>
    internal const string DistinctUserAgents = "greatest(uniqMerge(user_agents), uniqCombinedMerge(12)(distinct_user_agents))";

    /// <summary>One client IP: its hours (aggregates, via the by-IP projection) and latest requests.</summary>
    public async Task<IpDrilldown> IpAsync(IPAddress ip, DateTimeOffset from, DateTimeOffset to, int recent = 100,
        CancellationToken cancellationToken = default)
    {
        var p = Range(from, to);
        p["ip"] = ToV6(ip);
        p["limit"] = Math.Clamp(recent, 1, 10_000).ToString(CultureInfo.InvariantCulture);
        var hours = await RowsAsync($"""
            SELECT toUnixTimestamp(hour) AS h, toString(host) AS host, toString(ja4) AS ja4, sum(requests) AS requests,
                   {DistinctPaths} AS paths, {DistinctUserAgents} AS uas, sum(status_4xx) AS s4, sum(status_5xx) AS s5,
                   sum(bytes_sent) AS bytes
            FROM {T("agg_host_ip_ja4_1h")} WHERE client_ip = {"{ip:IPv6}"} AND {HourFilter}
            GROUP BY hour, host, ja4 ORDER BY hour, host, ja4
            """, p, cancellationToken).ConfigureAwait(false);
        var requests = await RowsAsync($"""
            SELECT {RequestColumns} FROM {T("http_logs")}
            WHERE client_ip = {"{ip:IPv6}"} AND {TimeFilter}
            ORDER BY time DESC LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return new IpDrilldown(ip.ToString(),
            hours.Select(r => new IpHour(DateTimeOffset.FromUnixTimeSeconds(L(r, "h")), S(r, "host"), S(r, "ja4"), L(r, "requests"),
                L(r, "paths"), L(r, "uas"), L(r, "s4"), L(r, "s5"), L(r, "bytes"))).ToList(),
            requests.Select(Request).ToList());
    }

    private const string RequestColumns =
        "toUnixTimestamp64Micro(time) AS t, IPv6NumToString(client_ip) AS ip, toString(host) AS host, toString(method) AS method, " +
        "path, status, user_agent, toString(ja4) AS ja4, toString(match_status) AS match";

    private static RequestRow Request(JsonElement r) => new(FromMicros(L(r, "t")), S(r, "ip"), S(r, "host"), S(r, "method"),
        S(r, "path"), (int)L(r, "status"), S(r, "user_agent"), S(r, "ja4"), S(r, "match"));

    /// <summary>One JA4: volume, top IPs and hosts, and the known-fingerprint dictionary's entry.</summary>
    public async Task<Ja4Drilldown> Ja4Async(string ja4, DateTimeOffset from, DateTimeOffset to, int limit = 10,
        CancellationToken cancellationToken = default)
    {
        var p = Range(from, to);
        p["ja4"] = ja4;
        p["limit"] = Math.Clamp(limit, 1, 1000).ToString(CultureInfo.InvariantCulture);
        var agg = T("agg_host_ip_ja4_1h");
        var totals = (await RowsAsync($"""
            SELECT sum(requests) AS requests, uniq(client_ip) AS ips,
                   dictGetOrDefault('{options.Database}.known_fingerprints_dict', 'application', tuple({"{ja4:String}"}), '') AS app,
                   dictGetOrDefault('{options.Database}.known_fingerprints_dict', 'category', tuple({"{ja4:String}"}), '') AS cat
            FROM {agg} WHERE ja4 = {"{ja4:String}"} AND {HourFilter}
            """, p, cancellationToken).ConfigureAwait(false))[0];
        var ips = await RowsAsync($"""
            SELECT IPv6NumToString(client_ip) AS key, sum(requests) AS requests, 1 AS ips, sum(bytes_sent) AS bytes
            FROM {agg} WHERE ja4 = {"{ja4:String}"} AND {HourFilter}
            GROUP BY client_ip ORDER BY requests DESC, key LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        var hosts = await RowsAsync($"""
            SELECT toString(host) AS key, sum(requests) AS requests, uniq(client_ip) AS ips, sum(bytes_sent) AS bytes
            FROM {agg} WHERE ja4 = {"{ja4:String}"} AND {HourFilter}
            GROUP BY host ORDER BY requests DESC, key LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        static TopEntry Top(JsonElement r) => new(S(r, "key"), L(r, "requests"), L(r, "ips"), L(r, "bytes"));
        var app = S(totals, "app");
        var cat = S(totals, "cat");
        return new Ja4Drilldown(ja4, L(totals, "requests"), L(totals, "ips"), ips.Select(Top).ToList(), hosts.Select(Top).ToList(),
            app.Length == 0 ? null : app, cat.Length == 0 ? null : cat);
    }

    /// <summary>Anomalies detected in [from, to), newest first, optionally only some threat levels.</summary>
    public async Task<IReadOnlyList<ScoreRecord>> AnomaliesAsync(DateTimeOffset from, DateTimeOffset to,
        IReadOnlyCollection<string>? threatLevels = null, int limit = 1000, CancellationToken cancellationToken = default)
    {
        var p = Range(from, to);
        p["limit"] = Math.Clamp(limit, 1, 100_000).ToString(CultureInfo.InvariantCulture);
        var levelFilter = "";
        if (threatLevels is { Count: > 0 })
        {
            // Scalar parameters only: both engines then read the value the same way.
            p["levels"] = string.Join(",", threatLevels.Select(l => l.Replace(",", "", StringComparison.Ordinal)));
            levelFilter = " AND has(splitByChar(',', {levels:String}), toString(threat_level))";
        }
        var rows = await RowsAsync($"""
            SELECT {ScoreColumns}, true AS anomaly FROM {T("ml_detected_anomalies")}
            WHERE {TimeFilter}{levelFilter} ORDER BY time DESC LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(Score).ToList();
    }

    /// <summary>Every score of one client IP in [from, to), oldest first.</summary>
    public async Task<IReadOnlyList<ScoreRecord>> ScoresForIpAsync(IPAddress ip, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken = default)
    {
        var p = Range(from, to);
        p["ip"] = ToV6(ip);
        var rows = await RowsAsync($"""
            SELECT {ScoreColumns}, is_anomaly AS anomaly FROM {T("ml_all_scores")}
            WHERE client_ip = {"{ip:IPv6}"} AND {TimeFilter} ORDER BY time
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(Score).ToList();
    }

    private const string ScoreColumns =
        "toUnixTimestamp64Milli(time) AS t, toUnixTimestamp(window_start) AS ws, toUnixTimestamp(window_end) AS we, " +
        "toString(host) AS host, IPv6NumToString(client_ip) AS ip, toString(ja4) AS ja4, score, toString(threat_level) AS threat, " +
        "toString(bot_name) AS bot, toString(model_version) AS model, mapKeys(features) AS fk, mapValues(features) AS fv, explanation, " +
        "risk, requests, arrayMap(x -> toString(x), rule_ids) AS rules, campaign_id, returning";

    private static ScoreRecord Score(JsonElement r)
    {
        var keys = r.GetProperty("fk").EnumerateArray().Select(k => k.GetString()!).ToList();
        var values = r.GetProperty("fv").EnumerateArray().Select(D).ToList();
        var features = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++)
        {
            features[keys[i]] = values[i];
        }
        return new ScoreRecord(DateTimeOffset.FromUnixTimeMilliseconds(L(r, "t")), DateTimeOffset.FromUnixTimeSeconds(L(r, "ws")),
            DateTimeOffset.FromUnixTimeSeconds(L(r, "we")), S(r, "host"), FromV6(S(r, "ip")), S(r, "ja4"), (float)D(r.GetProperty("score")),
            S(r, "threat"), S(r, "bot"), r.GetProperty("anomaly").GetBoolean(), S(r, "model"), features, S(r, "explanation"))
        {
            Risk = (float)D(r.GetProperty("risk")),
            Requests = (int)L(r, "requests"),
            RuleIds = r.GetProperty("rules").EnumerateArray().Select(x => x.GetString() ?? "").ToArray(),
            CampaignId = S(r, "campaign_id"),
            Returning = r.GetProperty("returning").GetBoolean(),
        };
    }

    /// <summary>
    /// Writes scores to <c>ml_all_scores</c>, and the anomalies among them to <c>ml_detected_anomalies</c>,
    /// as <c>RowBinary</c> (no value is ever spliced into SQL text).
    /// </summary>
    public async Task WriteScoresAsync(IReadOnlyCollection<ScoreRecord> scores, IStoreExecutor writer, CancellationToken cancellationToken = default)
    {
        if (scores.Count == 0)
        {
            return;
        }
        await writer.InsertAsync($"{options.Database}.ml_all_scores", ScoreInsertColumns(true), "RowBinary",
            ScoresRowBinary(scores, true), null, cancellationToken).ConfigureAwait(false);
        var anomalies = scores.Where(s => s.IsAnomaly).ToList();
        if (anomalies.Count > 0)
        {
            await writer.InsertAsync($"{options.Database}.ml_detected_anomalies", ScoreInsertColumns(false), "RowBinary",
                ScoresRowBinary(anomalies, false), null, cancellationToken).ConfigureAwait(false);
        }
    }

    private static IReadOnlyList<string> ScoreInsertColumns(bool all) => all
        ? ["time", "window_start", "window_end", "host", "client_ip", "ja4", "score", "risk", "requests", "threat_level", "bot_name",
           "is_anomaly", "model_version", "features", "explanation", "rule_ids", "campaign_id", "returning"]
        : ["time", "window_start", "window_end", "host", "client_ip", "ja4", "score", "risk", "requests", "threat_level", "bot_name",
           "model_version", "features", "explanation", "rule_ids", "campaign_id", "returning"];

    private static ReadOnlyMemory<byte> ScoresRowBinary(IEnumerable<ScoreRecord> scores, bool withFlag)
    {
        var b = new ByteBuffer();
        foreach (var s in scores)
        {
            b.DateTime64Milli(s.Time);
            b.DateTime(s.WindowStart);
            b.DateTime(s.WindowEnd);
            b.String(s.Host);
            b.IPv6(s.ClientIp);
            b.String(s.Ja4);
            b.Float32(s.Score);
            b.Float32(s.Risk);
            b.UInt32((uint)Math.Max(0, s.Requests));
            b.String(s.ThreatLevel);
            b.String(s.BotName);
            if (withFlag)
            {
                b.Bool(s.IsAnomaly);
            }
            b.String(s.ModelVersion);
            b.VarUInt((ulong)s.Features.Count);
            foreach (var (k, v) in s.Features)
            {
                b.String(k);
                b.Float64(v);
            }
            b.String(s.Explanation);
            b.StringArray(s.RuleIds);
            b.String(s.CampaignId);
            b.Bool(s.Returning);
            b.EndRow();
        }
        return b.Memory;
    }

    /// <summary>Adds or replaces known fingerprints (the dictionary picks them up within its lifetime, or at once after <c>SYSTEM RELOAD DICTIONARY</c>).</summary>
    public async Task UpsertKnownFingerprintsAsync(IReadOnlyCollection<KnownFingerprint> items, IStoreExecutor writer,
        CancellationToken cancellationToken = default)
    {
        using var ms = new MemoryStream();
        var now = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        foreach (var k in items)
        {
            using (var w = new Utf8JsonWriter(ms))
            {
                w.WriteStartObject();
                w.WriteString("ja4", k.Ja4);
                w.WriteString("application", k.Application);
                w.WriteString("library", k.Library);
                w.WriteString("device", k.Device);
                w.WriteString("os", k.Os);
                w.WriteString("category", k.Category);
                w.WriteString("source", k.Source);
                w.WriteString("notes", k.Notes);
                w.WriteString("updated_at", now);
                w.WriteEndObject();
            }
            ms.WriteByte((byte)'\n');
        }
        await writer.InsertAsync($"{options.Database}.known_fingerprints",
            ["ja4", "application", "library", "device", "os", "category", "source", "notes", "updated_at"], "JSONEachRow",
            ms.ToArray(), null, cancellationToken).ConfigureAwait(false);
        await writer.QueryAsync($"SYSTEM RELOAD DICTIONARY {options.Database}.known_fingerprints_dict", null, "TabSeparated",
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a query and returns its output in <paramref name="format"/>, for readers that parse it themselves.</summary>
    internal Task<byte[]> BytesAsync(string sql, IReadOnlyDictionary<string, string> parameters, string format,
        CancellationToken cancellationToken) => store.QueryAsync(sql, parameters, format, cancellationToken);

    /// <summary>Runs a query and parses its JSONEachRow output.</summary>
    internal async Task<IReadOnlyList<JsonElement>> RowsAsync(string sql, IReadOnlyDictionary<string, string> parameters,
        CancellationToken cancellationToken)
    {
        var bytes = await store.QueryAsync(sql, parameters, "JSONEachRow", cancellationToken).ConfigureAwait(false);
        var list = new List<JsonElement>();
        var text = Encoding.UTF8.GetString(bytes);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line, JsonOptions);
            list.Add(doc.RootElement.Clone());
        }
        return list;
    }

    private static long L(JsonElement r, string name)
    {
        var e = r.GetProperty(name);
        return e.ValueKind == JsonValueKind.String
            ? long.Parse(e.GetString()!, CultureInfo.InvariantCulture)
            : e.ValueKind == JsonValueKind.Null ? 0 : e.GetInt64();
    }

    private static double D(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? double.Parse(e.GetString()!, CultureInfo.InvariantCulture)
        : e.GetDouble();

    private static string S(JsonElement r, string name) => r.GetProperty(name).GetString() ?? "";

    private static DateTimeOffset FromMicros(long micros) => new(DateTime.UnixEpoch.Ticks + micros * 10, TimeSpan.Zero);

    /// <summary>IPv6 text of an address, IPv4 as IPv4-mapped.</summary>
    internal static string ToV6(IPAddress ip) =>
        (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? ip.MapToIPv6() : ip).ToString();

    private static IPAddress FromV6(string text)
    {
        var ip = IPAddress.Parse(text);
        return ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;
    }
}
