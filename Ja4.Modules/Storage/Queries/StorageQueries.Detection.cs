using System.Globalization;
using System.Net;
using System.Text.Json;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Writer;

namespace Ja4.Modules.Storage.Queries;

/// <summary>One member entity of a campaign.</summary>
public sealed record CampaignMember(IPAddress ClientIp, string Ja4, string Host);

/// <summary>One campaign as a detection run saw it (a row of <c>ml_campaigns</c>).</summary>
/// <param name="Time">Time of the run.</param>
/// <param name="Id">Stable id: the same behaviour gets the same id in every run.</param>
/// <param name="Key">What the members share.</param>
/// <param name="Size">Distinct client addresses.</param>
/// <param name="UserAgents">Distinct User-Agents across the members.</param>
/// <param name="FirstSeen">Earliest request of any member.</param>
/// <param name="LastSeen">Latest request of any member.</param>
/// <param name="Risk">Risk of the campaign.</param>
/// <param name="ThreatLevel">Level of that risk (lower case).</param>
/// <param name="Returning">Seen again after a quiet period.</param>
/// <param name="ModelVersion">Model of the run.</param>
/// <param name="Members">Member entities.</param>
public sealed record CampaignRecord(DateTimeOffset Time, string Id, string Key, int Size, int UserAgents, DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen, float Risk, string ThreatLevel, bool Returning, string ModelVersion, IReadOnlyList<CampaignMember> Members);

public sealed partial class StorageQueries
{
    /// <summary>Qualified name to read <paramref name="table"/> from (the Distributed <c>_all</c> table in cluster mode).</summary>
    public string TableName(string table) => T(table);

    private static readonly IReadOnlyList<string> CampaignColumns =
        ["time", "id", "key", "size", "user_agents", "first_seen", "last_seen", "risk", "threat_level", "returning", "model_version", "members"];

    /// <summary>Writes one row per campaign to <c>ml_campaigns</c> (RowBinary).</summary>
    public async Task WriteCampaignsAsync(IReadOnlyCollection<CampaignRecord> campaigns, IStoreExecutor writer,
        CancellationToken cancellationToken = default)
    {
        if (campaigns.Count == 0)
        {
            return;
        }
        var b = new ByteBuffer();
        foreach (var c in campaigns)
        {
            b.DateTime64Milli(c.Time);
            b.String(c.Id);
            b.String(c.Key);
            b.UInt32((uint)Math.Max(0, c.Size));
            b.UInt32((uint)Math.Max(0, c.UserAgents));
            b.DateTime64Milli(c.FirstSeen);
            b.DateTime64Milli(c.LastSeen);
            b.Float32(c.Risk);
            b.String(c.ThreatLevel);
            b.Bool(c.Returning);
            b.String(c.ModelVersion);
            b.VarUInt((ulong)c.Members.Count);
            foreach (var m in c.Members)
            {
                b.IPv6(m.ClientIp);
                b.String(m.Ja4);
                b.String(m.Host);
            }
            b.EndRow();
        }
        await writer.InsertAsync($"{options.Database}.ml_campaigns", CampaignColumns, "RowBinary", b.Memory, null, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Campaigns seen in [from, to): the latest row of each id (its current state), riskiest first.
    /// </summary>
    public async Task<IReadOnlyList<CampaignRecord>> CampaignsAsync(DateTimeOffset from, DateTimeOffset to, int limit = 1000,
        CancellationToken cancellationToken = default)
    {
        var p = Range(from, to);
        p["limit"] = Math.Clamp(limit, 1, 100_000).ToString(CultureInfo.InvariantCulture);
        var rows = await RowsAsync($"""
            SELECT * FROM
            (
                SELECT {CampaignSelect} FROM {T("ml_campaigns")}
                WHERE {TimeFilter} ORDER BY time DESC LIMIT 1 BY id
            )
            ORDER BY risk DESC, id LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(Campaign).ToList();
    }

    /// <summary>Every row of one campaign in [from, to), oldest first (its history across runs).</summary>
    public async Task<IReadOnlyList<CampaignRecord>> CampaignHistoryAsync(string id, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken = default)
    {
        var p = Range(from, to);
        p["id"] = id;
        var rows = await RowsAsync($"""
            SELECT {CampaignSelect} FROM {T("ml_campaigns")}
            WHERE id = {"{id:String}"} AND {TimeFilter} ORDER BY time
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(Campaign).ToList();
    }

    private const string CampaignSelect =
        "toUnixTimestamp64Milli(time) AS t, id, key, size, user_agents, toUnixTimestamp64Milli(first_seen) AS fs, " +
        "toUnixTimestamp64Milli(last_seen) AS ls, risk, toString(threat_level) AS threat, returning, toString(model_version) AS model, " +
        "arrayMap(m -> IPv6NumToString(m.1), members) AS mips, arrayMap(m -> m.2, members) AS mja4s, arrayMap(m -> m.3, members) AS mhosts";

    private static CampaignRecord Campaign(JsonElement r)
    {
        var ips = r.GetProperty("mips").EnumerateArray().Select(x => x.GetString() ?? "").ToArray();
        var ja4s = r.GetProperty("mja4s").EnumerateArray().Select(x => x.GetString() ?? "").ToArray();
        var hosts = r.GetProperty("mhosts").EnumerateArray().Select(x => x.GetString() ?? "").ToArray();
        var members = new CampaignMember[ips.Length];
        for (var i = 0; i < ips.Length; i++)
        {
            members[i] = new CampaignMember(FromV6(ips[i]), ja4s[i], hosts[i]);
        }
        return new CampaignRecord(DateTimeOffset.FromUnixTimeMilliseconds(L(r, "t")), S(r, "id"), S(r, "key"), (int)L(r, "size"),
            (int)L(r, "user_agents"), DateTimeOffset.FromUnixTimeMilliseconds(L(r, "fs")), DateTimeOffset.FromUnixTimeMilliseconds(L(r, "ls")),
            (float)D(r.GetProperty("risk")), S(r, "threat"), r.GetProperty("returning").GetBoolean(), S(r, "model"), members);
    }
}
