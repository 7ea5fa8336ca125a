using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Ja4.Modules.Core.Filtering;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Queries;

namespace Ja4.Modules.Dashboard.Data;

/// <summary>One address or a CIDR block, as the IP investigation page takes it, with its first and last address.</summary>
public sealed record IpTarget(string Text, IPAddress First, IPAddress Last, bool IsNetwork)
{
    /// <summary>Reads <c>203.0.113.7</c>, <c>2001:db8::1</c>, <c>203.0.113.0/24</c>; <paramref name="error"/> says what is wrong otherwise.</summary>
    public static bool TryParse(string? text, out IpTarget? target, out string? error)
    {
        target = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "Give an IP address or a CIDR block, e.g. 203.0.113.7 or 203.0.113.0/24.";
            return false;
        }
        if (!CidrRange.TryParse(text, out var parsed))
        {
            error = $"'{text.Trim()}' is not an IP address or CIDR block (e.g. 203.0.113.7, 2001:db8::1, 203.0.113.0/24).";
            return false;
        }
        var range = parsed.Value;
        var canonical = range.ToString();
        var network = IPAddress.Parse(canonical.Split('/')[0]);
        var bits = range.Family == AddressFamily.InterNetwork ? 32 : 128;
        var bytes = network.GetAddressBytes();
        var hostBits = bits - range.PrefixLength;
        // The last address: every host bit set.
        for (var i = bytes.Length - 1; i >= 0 && hostBits > 0; i--)
        {
            var n = Math.Min(8, hostBits);
            bytes[i] |= (byte)((1 << n) - 1);
            hostBits -= n;
        }
        var isNetwork = range.PrefixLength < bits;
        target = new IpTarget(isNetwork ? canonical : network.ToString(), network, new IPAddress(bytes), isNetwork);
        return true;
    }
}

/// <summary>Totals of one address or block over a range.</summary>
public sealed record IpSummary(long Requests, long Addresses, long Ja4s, long UserAgents, long Hosts, long Paths,
    DateTimeOffset? FirstSeen, DateTimeOffset? LastSeen);

/// <summary>Requests and the detector's highest score and risk in one bucket (null when it scored nothing there).</summary>
public sealed record TimelinePoint(DateTimeOffset Start, long Requests, double? MaxScore, double? MaxRisk);

/// <summary>Requests with one value (a JA4 or a User-Agent) in one bucket.</summary>
public sealed record RotationCell(DateTimeOffset Start, string Value, long Requests);

/// <summary>A stored request with the handshake of its connection.</summary>
public sealed record RequestWithHandshake(DateTimeOffset Time, string ClientIp, int ClientPort, string Method, string Host, string Path,
    string Query, int Status, string UserAgent, string MatchStatus, string Sni, string TlsVersion, IReadOnlyList<string> Alpn,
    string Ja4, string Ja3);

/// <summary>One page of requests and how many there are in all.</summary>
public sealed record RequestPage(long Total, IReadOnlyList<RequestWithHandshake> Rows);

/// <summary>One detector verdict (a row of <c>ml_all_scores</c>).</summary>
public sealed record Verdict(DateTimeOffset Time, string ClientIp, string Host, string Ja4, double Score, double Risk, string ThreatLevel,
    string BotName, bool IsAnomaly, IReadOnlyList<string> RuleIds, string Explanation, string CampaignId, string ModelVersion);

/// <summary>A campaign that counts the address (or an address of the block) among its members.</summary>
public sealed record CampaignLink(string Id, string ThreatLevel, long Size, string Key, DateTimeOffset LastSeen);

/// <summary>One JA4: volume and what the known-fingerprint list says it is (empty strings when unknown).</summary>
public sealed record FingerprintSummary(string Ja4, long Requests, long UniqueIps, long UniqueHosts, string Application, string Library,
    string Device, string Os, string Category, string Source);

/// <summary>The raw forms stored for a JA4 (empty when no handshake of it was kept in the range).</summary>
public sealed record RawFingerprint(string Ja4R, string Ja4Ro, string Ja3Full);

/// <summary>
/// The IP investigation and fingerprint explorer pages' reads: one method per panel, each one
/// parameterised SQL bounded by the time range. An address block is the parameter pair
/// <c>{lo:IPv6}</c>..<c>{hi:IPv6}</c>, so one address and a CIDR share every query.
/// </summary>
public sealed class InvestigationQueries(StorageQueries? queries, StorageOptions? options)
{
    private const string IpFilter = "client_ip BETWEEN {lo:IPv6} AND {hi:IPv6}";

    /// <summary>Totals of the address or block.</summary>
    public async Task<IpSummary> IpSummaryAsync(IpTarget target, TimeRange range, CancellationToken cancellationToken = default)
    {
        var r = (await Store.RowsAsync($"""
            SELECT count() AS n, uniq(client_ip) AS ips, uniqIf(ja4, ja4 != '') AS ja4s, uniq(user_agent) AS uas, uniq(host) AS hosts, uniq(path) AS paths,
                   toUnixTimestamp64Micro(min(time)) AS first, toUnixTimestamp64Micro(max(time)) AS last
            FROM {Store.T("http_logs")} WHERE {IpFilter} AND {DashboardSql.TimeFilter}
            """, Params(target, range), cancellationToken).ConfigureAwait(false))[0];
        var n = DashboardSql.L(r, "n");
        return new IpSummary(n, DashboardSql.L(r, "ips"), DashboardSql.L(r, "ja4s"), DashboardSql.L(r, "uas"), DashboardSql.L(r, "hosts"),
            DashboardSql.L(r, "paths"), n == 0 ? null : DashboardSql.Micro(r, "first"), n == 0 ? null : DashboardSql.Micro(r, "last"));
    }

    /// <summary>Requests per bucket with the detector's highest score and risk there, every bucket present.</summary>
    public async Task<IReadOnlyList<TimelinePoint>> IpTimelineAsync(IpTarget target, TimeRange range, CancellationToken cancellationToken = default)
    {
        var p = Params(target, range);
        p["step"] = ((long)range.Bucket.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        const string bucket = "intDiv(toUnixTimestamp(time), {step:UInt32}) * {step:UInt32}";
        var requests = await Store.RowsAsync($"""
            SELECT {bucket} AS b, count() AS n FROM {Store.T("http_logs")}
            WHERE {IpFilter} AND {DashboardSql.TimeFilter} GROUP BY b
            """, p, cancellationToken).ConfigureAwait(false);
        var scores = await Store.RowsAsync($"""
            SELECT {bucket} AS b, max(score) AS s, max(risk) AS r FROM {Store.T("ml_all_scores")}
            WHERE {IpFilter} AND {DashboardSql.TimeFilter} GROUP BY b
            """, p, cancellationToken).ConfigureAwait(false);
        var counts = requests.ToDictionary(r => DashboardSql.L(r, "b"), r => DashboardSql.L(r, "n"));
        var maxima = scores.ToDictionary(r => DashboardSql.L(r, "b"), r => (DashboardSql.D(r, "s"), DashboardSql.D(r, "r")));
        return Buckets.Starts(range).Select(s =>
        {
            var key = s.ToUnixTimeSeconds();
            var scored = maxima.TryGetValue(key, out var m);
            return new TimelinePoint(s, counts.GetValueOrDefault(key), scored ? m.Item1 : null, scored ? m.Item2 : null);
        }).ToList();
    }

    /// <summary>Requests per bucket and JA4 (<paramref name="userAgents"/> false) or User-Agent (true), at most 5000 cells.</summary>
    public async Task<IReadOnlyList<RotationCell>> IpRotationAsync(IpTarget target, TimeRange range, bool userAgents,
        CancellationToken cancellationToken = default)
    {
        var p = Params(target, range);
        p["step"] = ((long)range.Bucket.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var column = userAgents ? "user_agent" : "toString(ja4)";
        var rows = await Store.RowsAsync($"""
            SELECT intDiv(toUnixTimestamp(time), {"{step:UInt32}"}) * {"{step:UInt32}"} AS b, {column} AS v, count() AS n
            FROM {Store.T("http_logs")} WHERE {IpFilter} AND {DashboardSql.TimeFilter}
            GROUP BY b, v ORDER BY b, n DESC, v LIMIT 5000
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new RotationCell(DateTimeOffset.FromUnixTimeSeconds(DashboardSql.L(r, "b")), DashboardSql.S(r, "v"), DashboardSql.L(r, "n"))).ToList();
    }

    /// <summary>The most requested paths of the address or block.</summary>
    public Task<IReadOnlyList<CountEntry>> IpPathsAsync(IpTarget target, TimeRange range, int limit = 20, CancellationToken cancellationToken = default) =>
        IpCountsAsync(target, range, "path", limit, cancellationToken);

    /// <summary>Response status codes of the address or block.</summary>
    public Task<IReadOnlyList<CountEntry>> IpStatusesAsync(IpTarget target, TimeRange range, CancellationToken cancellationToken = default) =>
        IpCountsAsync(target, range, "toString(status)", 100, cancellationToken);

    /// <summary>Hosts the address or block asked for.</summary>
    public Task<IReadOnlyList<CountEntry>> IpHostsAsync(IpTarget target, TimeRange range, int limit = 20, CancellationToken cancellationToken = default) =>
        IpCountsAsync(target, range, "toString(host)", limit, cancellationToken);

    private async Task<IReadOnlyList<CountEntry>> IpCountsAsync(IpTarget target, TimeRange range, string column, int limit,
        CancellationToken cancellationToken)
    {
        var p = Params(target, range);
        p["limit"] = Math.Clamp(limit, 1, 1000).ToString(CultureInfo.InvariantCulture);
        var rows = await Store.RowsAsync($"""
            SELECT {column} AS k, count() AS n FROM {Store.T("http_logs")}
            WHERE {IpFilter} AND {DashboardSql.TimeFilter} GROUP BY k ORDER BY n DESC, k LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new CountEntry(DashboardSql.S(r, "k"), DashboardSql.L(r, "n"))).ToList();
    }

    /// <summary>Requests with their handshake, newest first, one page of <paramref name="pageSize"/> from <paramref name="offset"/>.</summary>
    public async Task<RequestPage> IpRequestsAsync(IpTarget target, TimeRange range, int offset, int pageSize,
        CancellationToken cancellationToken = default)
    {
        var p = Params(target, range);
        p["offset"] = Math.Clamp(offset, 0, 1_000_000).ToString(CultureInfo.InvariantCulture);
        p["limit"] = Math.Clamp(pageSize, 1, 500).ToString(CultureInfo.InvariantCulture);
        var total = DashboardSql.L((await Store.RowsAsync($"""
            SELECT count() AS n FROM {Store.T("http_logs")} WHERE {IpFilter} AND {DashboardSql.TimeFilter}
            """, p, cancellationToken).ConfigureAwait(false))[0], "n");
        var rows = await Store.RowsAsync($"""
            SELECT toUnixTimestamp64Micro(time) AS t, IPv6NumToString(client_ip) AS ip, client_port, toString(method) AS method,
                   toString(host) AS host, path, query, status, user_agent, toString(match_status) AS match, toString(sni) AS sni,
                   toString(tls_version) AS tls, arrayMap(a -> toString(a), alpn) AS alpn, toString(ja4) AS ja4, toString(ja3) AS ja3
            FROM {Store.T("http_logs")} WHERE {IpFilter} AND {DashboardSql.TimeFilter}
            ORDER BY time DESC, client_port LIMIT {"{limit:UInt32}"} OFFSET {"{offset:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return new RequestPage(total, rows.Select(r => new RequestWithHandshake(DashboardSql.Micro(r, "t"), DashboardSql.Ip(DashboardSql.S(r, "ip")),
            (int)DashboardSql.L(r, "client_port"), DashboardSql.S(r, "method"), DashboardSql.S(r, "host"), DashboardSql.S(r, "path"),
            DashboardSql.S(r, "query"), (int)DashboardSql.L(r, "status"), DashboardSql.S(r, "user_agent"), DashboardSql.S(r, "match"),
            DashboardSql.S(r, "sni"), DashboardSql.S(r, "tls"), DashboardSql.Strings(r, "alpn"), DashboardSql.S(r, "ja4"),
            DashboardSql.S(r, "ja3"))).ToList());
    }

    /// <summary>The detector's verdicts on the address or block, newest first (at most <paramref name="limit"/>).</summary>
    public async Task<IReadOnlyList<Verdict>> IpVerdictsAsync(IpTarget target, TimeRange range, int limit = 200,
        CancellationToken cancellationToken = default)
    {
        var p = Params(target, range);
        p["limit"] = Math.Clamp(limit, 1, 10_000).ToString(CultureInfo.InvariantCulture);
        var rows = await Store.RowsAsync($"""
            SELECT toUnixTimestamp64Milli(time) AS t, IPv6NumToString(client_ip) AS ip, toString(host) AS host, toString(ja4) AS ja4,
                   score, risk, lower(toString(threat_level)) AS level, toString(bot_name) AS bot, is_anomaly,
                   arrayMap(x -> toString(x), rule_ids) AS rules, explanation, campaign_id, toString(model_version) AS model
            FROM {Store.T("ml_all_scores")} WHERE {IpFilter} AND {DashboardSql.TimeFilter}
            ORDER BY time DESC, ip, host, ja4 LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new Verdict(DateTimeOffset.FromUnixTimeMilliseconds(DashboardSql.L(r, "t")), DashboardSql.Ip(DashboardSql.S(r, "ip")),
            DashboardSql.S(r, "host"), DashboardSql.S(r, "ja4"), DashboardSql.D(r, "score"), DashboardSql.D(r, "risk"), DashboardSql.S(r, "level"),
            DashboardSql.S(r, "bot"), DashboardSql.L(r, "is_anomaly") != 0, DashboardSql.Strings(r, "rules"), DashboardSql.S(r, "explanation"),
            DashboardSql.S(r, "campaign_id"), DashboardSql.S(r, "model"))).ToList();
    }

    /// <summary>Campaigns whose latest state in the range counts the address (or one of the block) as a member.</summary>
    public async Task<IReadOnlyList<CampaignLink>> IpCampaignsAsync(IpTarget target, TimeRange range, CancellationToken cancellationToken = default)
    {
        var rows = await Store.RowsAsync($"""
            SELECT id, level, size, key, last FROM (
                SELECT id, lower(toString(threat_level)) AS level, size, key, toUnixTimestamp64Milli(last_seen) AS last, members
                FROM {Store.T("ml_campaigns")} WHERE {DashboardSql.TimeFilter}
                ORDER BY time DESC LIMIT 1 BY id)
            WHERE arrayExists(m -> m.1 BETWEEN {"{lo:IPv6}"} AND {"{hi:IPv6}"}, members)
            ORDER BY last DESC, id LIMIT 100
            """, Params(target, range), cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new CampaignLink(DashboardSql.S(r, "id"), DashboardSql.S(r, "level"), DashboardSql.L(r, "size"),
            DashboardSql.S(r, "key"), DateTimeOffset.FromUnixTimeMilliseconds(DashboardSql.L(r, "last")))).ToList();
    }

    /// <summary>One JA4's volume and its known-fingerprint entry.</summary>
    public async Task<FingerprintSummary> FingerprintAsync(string ja4, TimeRange range, CancellationToken cancellationToken = default)
    {
        var p = DashboardSql.Range(range);
        p["ja4"] = ja4;
        string Dict(string attribute) => $"dictGetOrDefault('{Database}.known_fingerprints_dict', '{attribute}', tuple({{ja4:String}}), '')";
        var r = (await Store.RowsAsync($"""
            SELECT sum(requests) AS n, uniq(client_ip) AS ips, uniq(host) AS hosts,
                   {Dict("application")} AS app, {Dict("library")} AS lib, {Dict("device")} AS dev, {Dict("os")} AS os,
                   {Dict("category")} AS cat, {Dict("source")} AS src
            FROM {Store.T("agg_host_ip_ja4_1h")} WHERE ja4 = {"{ja4:String}"} AND {DashboardSql.HourFilter}
            """, p, cancellationToken).ConfigureAwait(false))[0];
        return new FingerprintSummary(ja4, DashboardSql.L(r, "n"), DashboardSql.L(r, "ips"), DashboardSql.L(r, "hosts"), DashboardSql.S(r, "app"),
            DashboardSql.S(r, "lib"), DashboardSql.S(r, "dev"), DashboardSql.S(r, "os"), DashboardSql.S(r, "cat"), DashboardSql.S(r, "src"));
    }

    /// <summary>The client IPs and hosts using a JA4 (the top <paramref name="limit"/> of each).</summary>
    public async Task<Ja4Drilldown> FingerprintUsersAsync(string ja4, TimeRange range, int limit = 20, CancellationToken cancellationToken = default)
    {
        var d = await Store.Ja4Async(ja4, range.From, range.To, limit, cancellationToken).ConfigureAwait(false);
        return d with { TopIps = DashboardSql.WithIps(d.TopIps) };
    }

    /// <summary>User-Agents sent with a JA4, most frequent first (at most <paramref name="limit"/>), and how many distinct in all.</summary>
    public async Task<(long Distinct, long Requests, IReadOnlyList<CountEntry> Top)> FingerprintUserAgentsAsync(string ja4, TimeRange range,
        int limit = 20, CancellationToken cancellationToken = default)
    {
        var p = DashboardSql.Range(range);
        p["ja4"] = ja4;
        p["limit"] = Math.Clamp(limit, 1, 1000).ToString(CultureInfo.InvariantCulture);
        var rows = await Store.RowsAsync($"""
            SELECT user_agent AS k, count() AS n, count() OVER () AS distinct_uas, sum(count()) OVER () AS total
            FROM {Store.T("http_logs")} WHERE ja4 = {"{ja4:String}"} AND {DashboardSql.TimeFilter}
            GROUP BY k ORDER BY n DESC, k LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0
            ? (0, 0, [])
            : (DashboardSql.L(rows[0], "distinct_uas"), DashboardSql.L(rows[0], "total"),
                rows.Select(r => new CountEntry(DashboardSql.S(r, "k"), DashboardSql.L(r, "n"))).ToList());
    }

    /// <summary>
    /// The raw forms of a JA4 from the newest handshake that has them (<c>tls_handshakes</c>, else the
    /// requests' copy), so that the page can decode the cipher suites, extensions and groups.
    /// </summary>
    public async Task<RawFingerprint?> FingerprintRawAsync(string ja4, TimeRange range, CancellationToken cancellationToken = default)
    {
        var p = DashboardSql.Range(range);
        p["ja4"] = ja4;
        foreach (var table in new[] { "tls_handshakes", "http_logs" })
        {
            var rows = await Store.RowsAsync($"""
                SELECT ja4_r, ja4_ro, ja3_full FROM {Store.T(table)}
                WHERE ja4 = {"{ja4:String}"} AND {DashboardSql.TimeFilter} AND ja4_r != '' ORDER BY time DESC LIMIT 1
                """, p, cancellationToken).ConfigureAwait(false);
            if (rows.Count > 0)
            {
                return new RawFingerprint(DashboardSql.S(rows[0], "ja4_r"), DashboardSql.S(rows[0], "ja4_ro"), DashboardSql.S(rows[0], "ja3_full"));
            }
        }
        return null;
    }

    private static Dictionary<string, string> Params(IpTarget target, TimeRange range)
    {
        var p = DashboardSql.Range(range);
        p["lo"] = V6(target.First);
        p["hi"] = V6(target.Last);
        return p;
    }

    private static string V6(IPAddress ip) => (ip.AddressFamily == AddressFamily.InterNetwork ? ip.MapToIPv6() : ip).ToString();

    private string Database => options?.Database ?? throw DashboardSql.Unavailable();

    private StorageQueries Store => queries ?? throw DashboardSql.Unavailable();
}
