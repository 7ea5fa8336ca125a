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

/// <summary>
/// What the IP investigation shows of an address or block: totals, the timeline, JA4 and User-Agent rotation cells
/// (bucket, value, requests; by bucket, then requests), and the paths, status codes and hosts by requests.
/// </summary>
public sealed record IpProfile(IpSummary Summary, IReadOnlyList<TimelinePoint> Timeline, IReadOnlyList<RotationCell> Ja4Cells,
    IReadOnlyList<RotationCell> UserAgentCells, IReadOnlyList<CountEntry> Paths, IReadOnlyList<CountEntry> Statuses, IReadOnlyList<CountEntry> Hosts);

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

    // The arguments of grouping() in the profile query, first one the highest bit; a bit is set when its column is
    // not a key of the row's grouping set (force_grouping_standard_compatibility, set by the query itself).
    private static readonly string[] ProfileKeys = ["b", "hj", "hu", "ja4", "user_agent", "path", "status", "host"];

    private static int GroupingMask(params string[] keys) =>
        ProfileKeys.Select((k, i) => keys.Contains(k) ? 0 : 1 << (ProfileKeys.Length - 1 - i)).Sum();

    private static readonly int ByBucket = GroupingMask("b"), ByBucketJa4 = GroupingMask("b", "hj"), ByBucketUa = GroupingMask("b", "hu"),
        ByPath = GroupingMask("path"), ByStatus = GroupingMask("status"), ByHost = GroupingMask("host"),
        ByJa4 = GroupingMask("ja4"), ByUa = GroupingMask("user_agent");

    /// <summary>
    /// Everything the IP investigation shows of an address or block, except single requests and verdicts, read in
    /// one pass over its requests (one GROUPING SETS query, with the distinct addresses, the first and last request and
    /// the detector's maxima beside it): totals (exact distinct counts; addresses by <c>uniq</c>), requests per bucket
    /// with the detector's highest score and risk, the JA4 and User-Agent rotation cells (the 5,000 biggest of
    /// each), the top <paramref name="pathLimit"/> paths, the status codes (at most 100) and the top
    /// <paramref name="hostLimit"/> hosts, each list by requests then value.
    /// </summary>
    public async Task<IpProfile> IpProfileAsync(IpTarget target, TimeRange range, int pathLimit = 20, int hostLimit = 20,
        CancellationToken cancellationToken = default)
    {
        var p = Params(target, range);
        p["step"] = ((long)range.Bucket.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        p["paths"] = Math.Clamp(pathLimit, 1, 1000).ToString(CultureInfo.InvariantCulture);
        p["hosts"] = Math.Clamp(hostLimit, 1, 1000).ToString(CultureInfo.InvariantCulture);
        string M(int mask) => mask.ToString(CultureInfo.InvariantCulture);
        // Parsed from bytes, so the engine replaces invalid UTF-8 (a stored User-Agent or path can hold any bytes).
        // One compact row per group: [set, bucket, key, requests, then the set's distinct values, distinct non-empty
        // values and requests on its first row only (zeros elsewhere), value]. The per-bucket JA4 and User-Agent cells are grouped
        // by the value's hash (two fixed-width keys, far cheaper than a string or LowCardinality key beside a number; both
        // columns are LowCardinality, so a value is hashed once per block read, not once per request); the
        // JA4 and User-Agent sets' rows carry the same hash as key, which names the cells. Each grouping set computes every
        // aggregate of the query, so the first and last request times are read beside it, not in it (a min and a max in
        // eight sets cost about a third of the query).
        var outputTask = Store.BytesAsync($"""
            SELECT g, b, multiIf(g = {M(ByJa4)}, CAST(cityHash64(ja4) AS UInt64), g = {M(ByBucketJa4)}, hj,
                                 g = {M(ByUa)}, CAST(cityHash64(user_agent) AS UInt64), g = {M(ByBucketUa)}, hu, 0) AS key,
                   n, if(rank = 1, values, 0), if(rank = 1, named, 0), if(rank = 1, total, 0),
                   multiIf(g = {M(ByJa4)}, toString(ja4), g = {M(ByUa)}, user_agent,
                           g = {M(ByPath)}, path, g = {M(ByStatus)}, toString(status), g = {M(ByHost)}, toString(host), '') AS value
            FROM (
                SELECT *, count() OVER w AS values, countIf(ja4 != '') OVER w AS named, sum(n) OVER w AS total,
                       row_number() OVER (PARTITION BY g ORDER BY n DESC, b, ja4, user_agent, path, status, host, hj, hu) AS rank
                FROM (
                    SELECT grouping({string.Join(", ", ProfileKeys)}) AS g,
                           intDiv(toUnixTimestamp(time), {"{step:UInt32}"}) * {"{step:UInt32}"} AS b,
                           CAST(cityHash64(ja4) AS UInt64) AS hj, CAST(cityHash64(user_agent) AS UInt64) AS hu, ja4, user_agent, path, status, host,
                           count() AS n
                    FROM {Store.T("http_logs")} WHERE {IpFilter} AND {DashboardSql.TimeFilter}
                    GROUP BY GROUPING SETS ((b), (b, hj), (b, hu), (path), (status), (host), (ja4), (user_agent)))
                WINDOW w AS (PARTITION BY g))
            WHERE rank <= multiIf(g = {M(ByPath)}, {"{paths:UInt32}"}, g = {M(ByHost)}, {"{hosts:UInt32}"}, g = {M(ByStatus)}, 100, 5000)
            ORDER BY g, rank
            SETTINGS force_grouping_standard_compatibility = 1, output_format_json_quote_64bit_integers = 0,
                     output_format_json_validate_utf8 = 1
            """, p, "JSONCompactEachRow", cancellationToken);
        // Beside it: the distinct addresses (uniq; a grouping per address would be the largest of all for a
        // block), the first and last request, and the detector's highest score and risk per bucket.
        var addressesTask = Store.RowsAsync($"""
            SELECT uniq(client_ip) AS ips, toUnixTimestamp64Micro(min(time)) AS first, toUnixTimestamp64Micro(max(time)) AS last
            FROM {Store.T("http_logs")} WHERE {IpFilter} AND {DashboardSql.TimeFilter}
            """, p, cancellationToken);
        var scoresTask = Store.RowsAsync($"""
            SELECT intDiv(toUnixTimestamp(time), {"{step:UInt32}"}) * {"{step:UInt32}"} AS b, max(score) AS s, max(risk) AS r
            FROM {Store.T("ml_all_scores")} WHERE {IpFilter} AND {DashboardSql.TimeFilter} GROUP BY b
            """, p, cancellationToken);
        await Task.WhenAll(outputTask, addressesTask, scoresTask).ConfigureAwait(false);
        var output = await outputTask.ConfigureAwait(false);
        var scores = await scoresTask.ConfigureAwait(false);
        var side = (await addressesTask.ConfigureAwait(false))[0];

        var sets = ProfileRow.Parse(output).GroupBy(r => r.Set).ToDictionary(g => g.Key, g => g.ToList());
        List<ProfileRow> Set(int mask) => sets.GetValueOrDefault(mask) ?? [];
        long Distinct(int mask, bool named = false) => Set(mask) is [var first, ..] ? named ? first.Named : first.Values : 0;
        var buckets = Set(ByBucket);
        var summary = buckets is [var any, ..]
            ? new IpSummary(any.Total, DashboardSql.L(side, "ips"), Distinct(ByJa4, named: true), Distinct(ByUa), Distinct(ByHost),
                Distinct(ByPath), DashboardSql.Micro(side, "first"), DashboardSql.Micro(side, "last"))
            : new IpSummary(0, 0, 0, 0, 0, 0, null, null);

        var counts = buckets.ToDictionary(r => r.Bucket, r => r.Requests);
        var maxima = scores.ToDictionary(r => DashboardSql.L(r, "b"), r => (DashboardSql.D(r, "s"), DashboardSql.D(r, "r")));
        var timeline = Buckets.Starts(range).Select(s =>
        {
            var key = s.ToUnixTimeSeconds();
            var scored = maxima.TryGetValue(key, out var m);
            return new TimelinePoint(s, counts.GetValueOrDefault(key), scored ? m.Item1 : null, scored ? m.Item2 : null);
        }).ToList();

        IReadOnlyList<RotationCell> Cells(int mask, int names, string beyond)
        {
            var byHash = new Dictionary<ulong, string>();
            foreach (var r in Set(names))
            {
                byHash[r.Key] = r.Value;
            }
            var cells = Set(mask).ConvertAll(r =>
                new RotationCell(DateTimeOffset.FromUnixTimeSeconds(r.Bucket), byHash.GetValueOrDefault(r.Key, beyond), r.Requests));
            cells.Sort(static (x, y) => x.Start != y.Start ? x.Start.CompareTo(y.Start)
                : x.Requests != y.Requests ? y.Requests.CompareTo(x.Requests) : string.CompareOrdinal(x.Value, y.Value));
            return cells;
        }
        IReadOnlyList<CountEntry> Counts(int mask) => Set(mask).Select(r => new CountEntry(r.Value, r.Requests)).ToList();
        return new IpProfile(summary, timeline, Cells(ByBucketJa4, ByJa4, "(beyond the 5,000 busiest JA4s)"),
            Cells(ByBucketUa, ByUa, "(beyond the 5,000 busiest User-Agents)"), Counts(ByPath), Counts(ByStatus), Counts(ByHost));
    }

    /// <summary>
    /// Requests with their handshake, newest first, one page of <paramref name="pageSize"/> from <paramref name="offset"/>;
    /// <paramref name="knownTotal"/>, when given, is the count of the address's requests in the range (saves counting them).
    /// </summary>
    public async Task<RequestPage> IpRequestsAsync(IpTarget target, TimeRange range, int offset, int pageSize,
        CancellationToken cancellationToken = default, long? knownTotal = null)
    {
        var p = Params(target, range);
        var limit = Math.Clamp(pageSize, 1, 500);
        p["offset"] = Math.Clamp(offset, 0, 1_000_000).ToString(CultureInfo.InvariantCulture);
        p["limit"] = limit.ToString(CultureInfo.InvariantCulture);
        // The profile of the same address and range already counted them (knownTotal); otherwise count here.
        var total = knownTotal ?? DashboardSql.L((await Store.RowsAsync($"""
            SELECT count() AS n FROM {Store.T("http_logs")} WHERE {IpFilter} AND {DashboardSql.TimeFilter}
            """, p, cancellationToken).ConfigureAwait(false))[0], "n");
        // Newest first: when the range's last hour alone holds the page (a busy block), that hour is all that is read
        // (the table is sorted by hour first, so the older hours' rows are skipped, not filtered); every row of an
        // earlier hour is older than any row of it, so a full page from it is the page of the whole range.
        var newest = range.To - TimeSpan.FromHours(1);
        IReadOnlyList<System.Text.Json.JsonElement>? rows = null;
        if (newest > range.From)
        {
            var recent = new Dictionary<string, string>(p) { ["from"] = DashboardSql.Micros(newest) };
            rows = await RequestRowsAsync(recent, cancellationToken).ConfigureAwait(false);
            rows = rows.Count == limit ? rows : null;
        }
        rows ??= await RequestRowsAsync(p, cancellationToken).ConfigureAwait(false);
        return new RequestPage(total, rows.Select(r => new RequestWithHandshake(DashboardSql.Micro(r, "t"), DashboardSql.Ip(DashboardSql.S(r, "ip")),
            (int)DashboardSql.L(r, "client_port"), DashboardSql.S(r, "method"), DashboardSql.S(r, "host"), DashboardSql.S(r, "path"),
            DashboardSql.S(r, "query"), (int)DashboardSql.L(r, "status"), DashboardSql.S(r, "user_agent"), DashboardSql.S(r, "match"),
            DashboardSql.S(r, "sni"), DashboardSql.S(r, "tls"), DashboardSql.Strings(r, "alpn"), DashboardSql.S(r, "ja4"),
            DashboardSql.S(r, "ja3"))).ToList());
    }

    private Task<IReadOnlyList<System.Text.Json.JsonElement>> RequestRowsAsync(Dictionary<string, string> p,
        CancellationToken cancellationToken) => Store.RowsAsync($"""
            SELECT toUnixTimestamp64Micro(time) AS t, IPv6NumToString(client_ip) AS ip, client_port, toString(method) AS method,
                   toString(host) AS host, path, query, status, user_agent, toString(match_status) AS match, toString(sni) AS sni,
                   toString(tls_version) AS tls, arrayMap(a -> toString(a), alpn) AS alpn, toString(ja4) AS ja4, toString(ja3) AS ja3
            FROM {Store.T("http_logs")} WHERE {IpFilter} AND {DashboardSql.TimeFilter}
            ORDER BY time DESC, client_port LIMIT {"{limit:UInt32}"} OFFSET {"{offset:UInt32}"}
            """, p, cancellationToken);

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

    /// <summary>A row of the profile query's JSONCompactEachRow output.</summary>
    internal readonly record struct ProfileRow(int Set, long Bucket, ulong Key, long Requests, long Values, long Named, long Total,
        string Value)
    {
        /// <summary>Reads every <c>[g, b, key, n, values, named, total, "value"]</c> line of <paramref name="output"/>.</summary>
        public static List<ProfileRow> Parse(byte[] output)
        {
            var rows = new List<ProfileRow>();
            var reader = new System.Text.Json.Utf8JsonReader(output, new System.Text.Json.JsonReaderOptions { AllowMultipleValues = true });
            Span<long> numbers = stackalloc long[6];
            while (reader.Read())
            {
                Expect(ref reader, System.Text.Json.JsonTokenType.StartArray);
                var key = 0UL;
                for (var i = 0; i < 7; i++)
                {
                    reader.Read();
                    Expect(ref reader, System.Text.Json.JsonTokenType.Number);
                    if (i == 2)
                    {
                        key = reader.GetUInt64();
                    }
                    else
                    {
                        numbers[i < 2 ? i : i - 1] = reader.GetInt64();
                    }
                }
                reader.Read();
                Expect(ref reader, System.Text.Json.JsonTokenType.String);
                var value = reader.ValueSpan.IsEmpty ? "" : reader.GetString()!;
                reader.Read();
                Expect(ref reader, System.Text.Json.JsonTokenType.EndArray);
                rows.Add(new ProfileRow((int)numbers[0], numbers[1], key, numbers[2], numbers[3], numbers[4], numbers[5], value));
            }
            return rows;
        }

        private static void Expect(ref System.Text.Json.Utf8JsonReader reader, System.Text.Json.JsonTokenType token)
        {
            if (reader.TokenType != token)
            {
                throw new FormatException($"profile row: expected {token} at byte {reader.TokenStartIndex}, found {reader.TokenType}");
            }
        }
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
