using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ja4.Modules.Dashboard.Data;

/// <summary>
/// One address or a CIDR block as the inclusive range of stored (IPv6, IPv4-mapped) addresses
/// it covers: <see cref="Low"/> and <see cref="High"/> are IPv6 text for <c>{x:IPv6}</c> parameters.
/// </summary>
public sealed record AddressRange(string Text, string Low, string High, bool IsSingle)
{
    public static bool TryParse(string? text, out AddressRange range)
    {
        range = null!;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64)
        {
            return false;
        }
        text = text.Trim();
        IPAddress ip;
        int prefix;
        var slash = text.IndexOf('/');
        if (slash < 0)
        {
            if (!IPAddress.TryParse(text, out ip!) || text.Contains('%') || !LooksLikeAddress(text))
            {
                return false;
            }
            prefix = ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        }
        else
        {
            // Host bits may be set ("192.0.2.7/24" is the block 192.0.2.0/24).
            var head = text[..slash];
            if (!LooksLikeAddress(head) || head.Contains('%') || !IPAddress.TryParse(head, out ip!) ||
                !int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) ||
                prefix > (ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
            {
                return false;
            }
        }
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
            prefix = Math.Max(0, prefix - 96);
        }
        var v4 = ip.AddressFamily == AddressFamily.InterNetwork;
        var bytes = (v4 ? ip.MapToIPv6() : ip).GetAddressBytes();
        var hostBits = (v4 ? 32 : 128) - prefix;
        var low = (byte[])bytes.Clone();
        var high = (byte[])bytes.Clone();
        for (var bit = 0; bit < hostBits; bit++)
        {
            var index = 15 - bit / 8;
            var mask = (byte)(1 << (bit % 8));
            low[index] &= (byte)~mask;
            high[index] |= mask;
        }
        var single = hostBits == 0;
        var shown = single ? ip.ToString() : $"{new IPAddress(v4 ? low[12..] : low)}/{prefix}";
        range = new AddressRange(shown, new IPAddress(low).ToString(), new IPAddress(high).ToString(), single);
        return true;
    }

    /// <summary>Dotted-quad IPv4 or IPv6 with colons: not the short forms ("1234", "10.1") that the parser also takes.</summary>
    private static bool LooksLikeAddress(string text) => text.Contains(':') || text.Count(c => c == '.') == 3;
}

/// <summary>What a search query is, as <see cref="SearchQueries.Classify"/> decides.</summary>
public enum SearchKind
{
    Ip,
    Cidr,
    Ja4,
    Ja4Prefix,
    Ja3,
    Text,
}

/// <summary>One search result: a value, its volume, and the page that shows it (null when none does).</summary>
public sealed record SearchHit(string Value, long Requests, long UniqueIps, string? Link);

/// <summary>Results of one kind (addresses, fingerprints, User-Agents, hosts, paths).</summary>
public sealed record SearchGroup(string Kind, string Title, IReadOnlyList<SearchHit> Hits);

/// <summary>A query, what it was taken for, and its results by kind.</summary>
public sealed record SearchResult(string Query, SearchKind Kind, IReadOnlyList<SearchGroup> Groups);

/// <summary>One stored request as exports list it.</summary>
public sealed record ExportRequest(DateTimeOffset Time, string ClientIp, string Host, string Method, string Path, int Status,
    string UserAgent, string Ja4, string Ja3);

/// <summary>
/// The search box: an address, a CIDR block, a JA4 or its start, a JA3 (32 hex digits), or else a
/// substring of User-Agents, hosts and paths. Parameterised SQL, bounded by the time range.
/// </summary>
public sealed partial class SearchQueries(DashboardStore store)
{
    public const int MaxQueryLength = 256;

    // JA4 (FoxIO spec): protocol t|q|d, TLS version 2 chars, SNI d|i, 2-digit cipher and extension
    // counts, 2-char ALPN, then two 12-hex truncated SHA-256 hashes: "t13d1516h2_8daaf6152771_e5627efa2ab1".
    [GeneratedRegex("^[tqd][0-9a-z]{2}[di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$")]
    private static partial Regex FullJa4();

    // The start of one: at least the protocol, version and SNI flag ("t13d"), then any prefix of the rest.
    [GeneratedRegex("^[tqd][0-9a-z]{2}[di][0-9a-z_]{0,31}$")]
    private static partial Regex Ja4Start();

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex Ja3Hash();

    /// <summary>What <paramref name="query"/> is taken for.</summary>
    public static SearchKind Classify(string query)
    {
        if (AddressRange.TryParse(query, out var range))
        {
            return range.IsSingle ? SearchKind.Ip : SearchKind.Cidr;
        }
        var lower = query.ToLowerInvariant();
        if (Ja3Hash().IsMatch(lower))
        {
            return SearchKind.Ja3;
        }
        if (FullJa4().IsMatch(lower))
        {
            return SearchKind.Ja4;
        }
        return Ja4Start().IsMatch(lower) && (lower.Length <= 10 || lower.Contains('_')) && lower.Any(char.IsDigit)
            ? SearchKind.Ja4Prefix
            : SearchKind.Text;
    }

    /// <summary>Checks and trims a query; throws <see cref="BadParameterException"/> naming <c>q</c>.</summary>
    public static string CheckQuery(string? q) =>
        Text.Check("q", q, MaxQueryLength) ?? throw new BadParameterException("q", "'q' is required: an address, CIDR block, JA4 (or its start), JA3 or text");

    public async Task<SearchResult> SearchAsync(string query, TimeRange range, int limit = 50, CancellationToken cancellationToken = default)
    {
        query = CheckQuery(query);
        var kind = Classify(query);
        limit = Math.Clamp(limit, 1, 500);
        var groups = new List<SearchGroup>();
        switch (kind)
        {
            case SearchKind.Ip:
            case SearchKind.Cidr:
                AddressRange.TryParse(query, out var addresses);
                groups.Add(new SearchGroup("ip", kind == SearchKind.Ip ? "Address" : "Addresses in the block",
                    await AddressesAsync(addresses, range, limit, cancellationToken).ConfigureAwait(false)));
                groups.Add(new SearchGroup("ja4", "JA4 fingerprints used",
                    await Ja4sAsync("client_ip BETWEEN {lo:IPv6} AND {hi:IPv6}",
                        new() { ["lo"] = addresses.Low, ["hi"] = addresses.High }, range, limit, cancellationToken).ConfigureAwait(false)));
                break;
            case SearchKind.Ja4:
            case SearchKind.Ja4Prefix:
                groups.Add(new SearchGroup("ja4", kind == SearchKind.Ja4 ? "JA4 fingerprint" : "JA4 fingerprints starting with it",
                    await Ja4sAsync("startsWith(toString(ja4), {q:String})", new() { ["q"] = query.ToLowerInvariant() }, range, limit,
                        cancellationToken).ConfigureAwait(false)));
                break;
            case SearchKind.Ja3:
                groups.Add(new SearchGroup("ja4", "JA4 fingerprints seen with this JA3",
                    await Ja3Async(query.ToLowerInvariant(), range, limit, cancellationToken).ConfigureAwait(false)));
                break;
            default:
                groups.Add(new SearchGroup("user_agent", "User-Agents", await UserAgentsAsync(query, range, limit, cancellationToken).ConfigureAwait(false)));
                groups.Add(new SearchGroup("host", "Hosts", await HostsAsync(query, range, limit, cancellationToken).ConfigureAwait(false)));
                groups.Add(new SearchGroup("path", "Paths", await PathsAsync(query, range, limit, cancellationToken).ConfigureAwait(false)));
                break;
        }
        return new SearchResult(query, kind, groups);
    }

    /// <summary>The busiest addresses of a range (one for a single address), from the hourly aggregates.</summary>
    public async Task<IReadOnlyList<SearchHit>> AddressesAsync(AddressRange addresses, TimeRange range, int limit,
        CancellationToken cancellationToken = default)
    {
        var p = Params(range, limit);
        p["lo"] = addresses.Low;
        p["hi"] = addresses.High;
        var rows = await store.RowsAsync($"""
            SELECT IPv6NumToString(client_ip) AS v, sum(requests) AS requests, 1 AS ips
            FROM {store.T("agg_host_ip_ja4_1h")} WHERE client_ip BETWEEN {"{lo:IPv6}"} AND {"{hi:IPv6}"} AND {Sql.HourFilter}
            GROUP BY client_ip ORDER BY requests DESC, client_ip LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r =>
        {
            var ip = Sql.Address(J.S(r, "v"));
            return new SearchHit(ip, J.L(r, "requests"), J.L(r, "ips"), Links.Ip(ip, range));
        }).ToList();
    }

    /// <summary>JA4s by requests among the hourly aggregates' rows that meet <paramref name="condition"/>.</summary>
    private Task<IReadOnlyList<SearchHit>> Ja4sAsync(string condition, Dictionary<string, string> extra, TimeRange range, int limit,
        CancellationToken cancellationToken) =>
        Ja4sFromAsync("agg_host_ip_ja4_1h", "sum(requests)", Sql.HourFilter, condition, extra, range, limit, cancellationToken);

    /// <summary>JA4s seen with a JA3: requests carry both, the aggregates do not.</summary>
    private Task<IReadOnlyList<SearchHit>> Ja3Async(string ja3, TimeRange range, int limit, CancellationToken cancellationToken) =>
        Ja4sFromAsync("http_logs", "count()", Sql.TimeFilter, "ja3 = {ja3:String}", new() { ["ja3"] = ja3 }, range, limit, cancellationToken);

    private async Task<IReadOnlyList<SearchHit>> Ja4sFromAsync(string table, string requests, string timeFilter, string condition,
        Dictionary<string, string> extra, TimeRange range, int limit, CancellationToken cancellationToken)
    {
        var p = Params(range, limit);
        foreach (var (k, v) in extra)
        {
            p[k] = v;
        }
        var rows = await store.RowsAsync($"""
            SELECT toString(ja4) AS v, {requests} AS requests, uniq(client_ip) AS ips
            FROM {store.T(table)} WHERE {condition} AND {timeFilter}
            GROUP BY ja4 ORDER BY requests DESC, v LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => Hit(r, v => v.Length == 0 ? null : Links.Ja4(v, range))).ToList();
    }

    private async Task<IReadOnlyList<SearchHit>> UserAgentsAsync(string text, TimeRange range, int limit, CancellationToken cancellationToken)
    {
        var p = Params(range, limit);
        p["q"] = text;
        var rows = await store.RowsAsync($"""
            SELECT user_agent AS v, count() AS requests, uniq(client_ip) AS ips, IPv6NumToString(topK(1)(client_ip)[1]) AS top
            FROM {store.T("http_logs")} WHERE {Sql.TimeFilter} AND positionCaseInsensitiveUTF8(user_agent, {"{q:String}"}) > 0
            GROUP BY user_agent ORDER BY requests DESC, v LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        // A User-Agent has no page of its own: it links to the address that sent it most.
        return rows.Select(r => new SearchHit(J.S(r, "v"), J.L(r, "requests"), J.L(r, "ips"), Links.Ip(Sql.Address(J.S(r, "top")), range))).ToList();
    }

    private async Task<IReadOnlyList<SearchHit>> HostsAsync(string text, TimeRange range, int limit, CancellationToken cancellationToken)
    {
        var p = Params(range, limit);
        p["q"] = text;
        var rows = await store.RowsAsync($"""
            SELECT toString(host) AS v, sum(requests) AS requests, uniq(client_ip) AS ips
            FROM {store.T("agg_host_ip_ja4_1h")} WHERE {Sql.HourFilter} AND positionCaseInsensitiveUTF8(toString(host), {"{q:String}"}) > 0
            GROUP BY host ORDER BY requests DESC, v LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => Hit(r, _ => null)).ToList();
    }

    private async Task<IReadOnlyList<SearchHit>> PathsAsync(string text, TimeRange range, int limit, CancellationToken cancellationToken)
    {
        var p = Params(range, limit);
        p["q"] = text;
        var rows = await store.RowsAsync($"""
            SELECT path AS v, sum(requests) AS requests, uniqMerge(client_ips) AS ips
            FROM {store.T("agg_host_path_1h")} WHERE {Sql.HourFilter} AND positionCaseInsensitiveUTF8(path, {"{q:String}"}) > 0
            GROUP BY path ORDER BY requests DESC, v LIMIT {"{limit:UInt32}"}
            """, p, cancellationToken).ConfigureAwait(false);
        return rows.Select(r => Hit(r, _ => null)).ToList();
    }

    /// <summary>The requests a query matches, newest first, at most <paramref name="limit"/>, one by one.</summary>
    public Task ExportAsync(string query, TimeRange range, int limit, Func<ExportRequest, ValueTask> onRow,
        CancellationToken cancellationToken = default)
    {
        query = CheckQuery(query);
        var p = Params(range, Math.Max(1, limit));
        string condition;
        switch (Classify(query))
        {
            case SearchKind.Ip:
            case SearchKind.Cidr:
                AddressRange.TryParse(query, out var a);
                p["lo"] = a.Low;
                p["hi"] = a.High;
                condition = "client_ip BETWEEN {lo:IPv6} AND {hi:IPv6}";
                break;
            case SearchKind.Ja4:
            case SearchKind.Ja4Prefix:
                p["q"] = query.ToLowerInvariant();
                condition = "startsWith(toString(ja4), {q:String})";
                break;
            case SearchKind.Ja3:
                p["q"] = query.ToLowerInvariant();
                condition = "ja3 = {q:String}";
                break;
            default:
                p["q"] = query;
                condition = "(positionCaseInsensitiveUTF8(user_agent, {q:String}) > 0 OR positionCaseInsensitiveUTF8(toString(host), {q:String}) > 0 " +
                            "OR positionCaseInsensitiveUTF8(path, {q:String}) > 0)";
                break;
        }
        return store.StreamRowsAsync($"""
            SELECT toUnixTimestamp64Micro(time) AS t, IPv6NumToString(client_ip) AS ip, toString(host) AS host, toString(method) AS method,
                   path, status, user_agent, toString(ja4) AS ja4, toString(ja3) AS ja3
            FROM {store.T("http_logs")} WHERE {Sql.TimeFilter} AND {condition}
            ORDER BY time DESC LIMIT {"{limit:UInt32}"}
            """, p, r => onRow(new ExportRequest(DateTimeOffset.UnixEpoch.AddTicks(J.L(r, "t") * 10), Sql.Address(J.S(r, "ip")),
                J.S(r, "host"), J.S(r, "method"), J.S(r, "path"), (int)J.L(r, "status"), J.S(r, "user_agent"), J.S(r, "ja4"), J.S(r, "ja3"))),
            cancellationToken);
    }

    private static Dictionary<string, string> Params(TimeRange range, int limit)
    {
        var p = Sql.Range(range);
        p["limit"] = limit.ToString(CultureInfo.InvariantCulture);
        return p;
    }

    private static SearchHit Hit(JsonElement r, Func<string, string?> link)
    {
        var v = J.S(r, "v");
        return new SearchHit(v, J.L(r, "requests"), J.L(r, "ips"), link(v));
    }
}
