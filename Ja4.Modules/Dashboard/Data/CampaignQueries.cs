using System.Globalization;
using System.Text.Json;

namespace Ja4.Modules.Dashboard.Data;

/// <summary>A campaign as its latest detection run left it.</summary>
public sealed record CampaignSummary(string Id, string Key, long Size, long UserAgents, DateTimeOffset FirstSeen, DateTimeOffset LastSeen,
    double Risk, string ThreatLevel, bool Returning, string ModelVersion, DateTimeOffset UpdatedAt);

/// <summary>One member of a campaign.</summary>
public sealed record CampaignMember(string ClientIp, string Ja4, string Host);

/// <summary>How many members share a value (a JA4, a path sequence).</summary>
public sealed record SharedValue(string Value, long Members);

/// <summary>A path sequence: the first paths members requested, in order, and how many members did so.</summary>
public sealed record PathSequence(IReadOnlyList<string> Paths, long Members);

/// <summary>Everything the campaign page shows.</summary>
public sealed record CampaignDetail(CampaignSummary Campaign, IReadOnlyList<CampaignMember> Members,
    IReadOnlyList<SharedValue> SharedFingerprints, IReadOnlyList<PathSequence> PathSequences, IReadOnlyList<SeriesPoint> Timeline);

/// <summary>
/// The detector's campaigns (<c>ml_campaigns</c>: one row per campaign per run, the latest row is
/// the current state) and, for one campaign, its members' requests from <c>http_logs</c>.
/// </summary>
public sealed class CampaignQueries(DashboardStore store)
{
    /// <summary>Paths per member in a path sequence.</summary>
    public const int SequenceLength = 8;

    public const int MaxIdLength = 128;

    /// <summary>Checks a campaign id; throws <see cref="BadParameterException"/> naming <c>id</c>.</summary>
    public static string CheckId(string? id) =>
        Text.Check("id", id, MaxIdLength) ?? throw new BadParameterException("id", "'id' is required");

    private const string SummaryColumns =
        "id, key, size, user_agents, toUnixTimestamp64Milli(first_seen) AS fs, toUnixTimestamp64Milli(last_seen) AS ls, risk, " +
        "lower(toString(threat_level)) AS level, returning, toString(model_version) AS model, toUnixTimestamp64Milli(time) AS t";

    /// <summary>Campaigns updated in the time range, riskiest first.</summary>
    public async Task<IReadOnlyList<CampaignSummary>> ListAsync(TimeRange range, int limit = 200, CancellationToken cancellationToken = default)
    {
        var p = Sql.Range(range);
        p["limit"] = Math.Clamp(limit, 1, 10_000).ToString(CultureInfo.InvariantCulture);
        var rows = await store.RowsAsync($"""
            SELECT {SummaryColumns} FROM (
                SELECT * FROM {store.T("ml_campaigns")} WHERE {Sql.TimeFilter} ORDER BY time DESC LIMIT 1 BY id)
            ORDER BY risk DESC, size DESC, id LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(Summary).ToList();
    }

    /// <summary>One campaign with its members, shared fingerprints, path sequences and timeline; null when the range has no such campaign.</summary>
    public async Task<CampaignDetail?> GetAsync(string id, TimeRange range, CancellationToken cancellationToken = default)
    {
        id = CheckId(id);
        var p = Sql.Range(range);
        p["id"] = id;
        var latest = $"""
            SELECT * FROM {store.T("ml_campaigns")} WHERE id = {"{id:String}"} AND {Sql.TimeFilter} ORDER BY time DESC LIMIT 1
            """;
        var head = await store.RowsAsync($"SELECT {SummaryColumns} FROM ({latest})", p, cancellationToken).ConfigureAwait(false);
        if (head.Count == 0)
        {
            return null;
        }
        var members = (await store.RowsAsync($"""
            SELECT IPv6NumToString(tupleElement(m, 1)) AS ip, tupleElement(m, 2) AS ja4, tupleElement(m, 3) AS host
            FROM ({latest}) ARRAY JOIN members AS m ORDER BY ip, ja4, host
            """, p, cancellationToken).ConfigureAwait(false))
            .Select(r => new CampaignMember(Sql.Address(J.S(r, "ip")), J.S(r, "ja4"), J.S(r, "host"))).ToList();
        var shared = members.GroupBy(m => m.Ja4, StringComparer.Ordinal)
            .Select(g => new SharedValue(g.Key, g.Select(m => m.ClientIp).Distinct(StringComparer.Ordinal).LongCount()))
            .OrderByDescending(s => s.Members).ThenBy(s => s.Value, StringComparer.Ordinal).ToList();
        var memberIps = $"client_ip IN (SELECT tupleElement(arrayJoin(members), 1) FROM ({latest}))";
        p["n"] = SequenceLength.ToString(CultureInfo.InvariantCulture);
        var sequences = (await store.RowsAsync($"""
            SELECT seq, count() AS members FROM (
                SELECT client_ip, arrayMap(x -> x.2, arraySort(groupArray((time, path)))) AS seq FROM (
                    SELECT client_ip, time, path FROM {store.T("http_logs")}
                    WHERE {Sql.TimeFilter} AND {memberIps}
                    ORDER BY client_ip, time LIMIT {"{n:UInt32}"} BY client_ip)
                GROUP BY client_ip)
            GROUP BY seq ORDER BY members DESC, seq LIMIT 5
            """, p, cancellationToken).ConfigureAwait(false))
            .Select(r => new PathSequence(r.GetProperty("seq").EnumerateArray().Select(e => e.GetString() ?? "").ToList(), J.L(r, "members")))
            .ToList();
        p["bucket"] = ((long)range.Bucket.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var timeline = (await store.RowsAsync($"""
            SELECT toUnixTimestamp(toStartOfInterval(time, toIntervalSecond({"{bucket:UInt32}"}))) AS t, count() AS v
            FROM {store.T("http_logs")} WHERE {Sql.TimeFilter} AND {memberIps} GROUP BY t ORDER BY t
            """, p, cancellationToken).ConfigureAwait(false))
            .Select(r => new SeriesPoint(DateTimeOffset.FromUnixTimeSeconds(J.L(r, "t")), J.L(r, "v"))).ToList();
        return new CampaignDetail(Summary(head[0]), members, shared, sequences, timeline);
    }

    private static CampaignSummary Summary(JsonElement r) => new(J.S(r, "id"), J.S(r, "key"), J.L(r, "size"), J.L(r, "user_agents"),
        DateTimeOffset.FromUnixTimeMilliseconds(J.L(r, "fs")), DateTimeOffset.FromUnixTimeMilliseconds(J.L(r, "ls")),
        Math.Round(J.D(r, "risk"), 4), J.S(r, "level"), J.B(r, "returning"), J.S(r, "model"), DateTimeOffset.FromUnixTimeMilliseconds(J.L(r, "t")));
}
