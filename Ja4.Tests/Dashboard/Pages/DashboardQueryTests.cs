using Ja4.Modules.Dashboard.Data;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Queries;
using Ja4.Tests.Storage;

namespace Ja4.Tests.Dashboard.Pages;

/// <summary>
/// The pages' queries on the real engine over <see cref="DashboardSeed"/>'s rows; every expected
/// value is counted by hand from the seed.
/// </summary>
[Collection("chdb")]
public sealed class DashboardQueryTests(ChdbFixture chdb) : IAsyncLifetime
{
    private static readonly DateTimeOffset Base = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);
    private readonly DashboardSeed _seed = new(Base);
    private readonly StorageOptions _options = chdb.Options("chdb", "dashq");
    private readonly TimeRange _range = new(Base, Base.AddHours(2), null);
    private Modules.Storage.Engines.IStoreExecutor _store = null!;
    private OverviewQueries _overview = null!;
    private InvestigationQueries _investigation = null!;

    public async Task InitializeAsync()
    {
        _store = chdb.Open("chdb");
        await StorageTestKit.MigrateAsync(_store, _options);
        await _seed.WriteAsync(_store, _options.Database);
        var queries = new StorageQueries(_store, _options);
        _overview = new OverviewQueries(queries, _options);
        _investigation = new InvestigationQueries(queries, _options);
    }

    public async Task DisposeAsync()
    {
        await StorageTestKit.DropAsync(_store, _options);
        await _store.DisposeAsync();
    }

    private static IpTarget Target(string text)
    {
        Assert.True(IpTarget.TryParse(text, out var t, out var error), error);
        return t!;
    }

    [Fact]
    public async Task Overview_panels_count_the_seeded_rows()
    {
        var k = await _overview.KpisAsync(_range);
        // 5 requests from 3 addresses, 2 non-empty JA4s, 4 matched, one 404 and one 500.
        Assert.Equal(new OverviewKpis(5, 3, 2, 4, 1, 1), k);
        Assert.Equal(0.8, k.MatchRate, 10);

        var series = await _overview.RequestSeriesAsync(_range);
        Assert.Equal(120, series.Count); // two hours of one-minute buckets
        Assert.Equal(Base, series[0].Time);
        Assert.Equal(5, series.Sum(p => p.Value));
        Assert.Equal(1, series[5].Value);
        Assert.Equal(1, series[100].Value);
        Assert.Equal(0, series[6].Value);

        Assert.Equal([new LevelCount("high", 2), new LevelCount("medium", 1)], await _overview.AnomaliesByLevelAsync(_range));
        var anomalySeries = await _overview.AnomalySeriesAsync(_range);
        Assert.Equal([new LevelPoint(Base.AddMinutes(50), "high", 1), new LevelPoint(Base.AddMinutes(80), "medium", 1),
            new LevelPoint(Base.AddMinutes(90), "high", 1)], anomalySeries);

        // Tie on two requests each: ordered by JA4, the TLS 1.2 one first.
        Assert.Equal([new TopJa4(DashboardSeed.Ja4Curl, 2, 1, ""), new TopJa4(DashboardSeed.Ja4Chrome, 2, 2, "Chrome")],
            await _overview.TopJa4sAsync(_range));
        Assert.Equal(["shop.example", "api.example"], (await _overview.TopHostsAsync(_range)).Select(h => h.Key));
        Assert.Equal(("/login", 2L), (await _overview.TopPathsAsync(_range)).Select(p => (p.Key, p.Requests)).First());

        var mix = await _overview.TlsMixAsync(_range);
        Assert.Equal([new CountEntry("1.2", 2), new CountEntry("1.3", 2)], mix.Versions);
        Assert.Equal([new CountEntry("h2", 2), new CountEntry("(none)", 1), new CountEntry("http/1.1", 1)], mix.Alpn);
    }

    [Fact]
    public async Task Hourly_buckets_read_the_aggregates_and_empty_ranges_give_zeros()
    {
        var week = new TimeRange(Base.AddDays(-6), Base.AddDays(1), null);
        var series = await _overview.RequestSeriesAsync(week);
        Assert.Equal(TimeSpan.FromHours(1), week.Bucket);
        Assert.Equal(168, series.Count);
        Assert.Equal(3, series.Single(p => p.Time == Base).Value); // minutes 5, 20 and 30
        Assert.Equal(5, series.Sum(p => p.Value));
        Assert.Equal(2, series.Single(p => p.Time == Base.AddHours(1)).Value);

        var empty = new TimeRange(Base.AddDays(-3), Base.AddDays(-2), null);
        Assert.Equal(new OverviewKpis(0, 0, 0, 0, 0, 0), await _overview.KpisAsync(empty));
        Assert.Empty(await _overview.TopJa4sAsync(empty));
        Assert.Empty(await _overview.AnomaliesByLevelAsync(empty));
        Assert.Equal(0, (await _overview.KpisAsync(empty)).MatchRate);
    }

    [Fact]
    public async Task Live_and_status_read_the_newest_anomalies_and_the_last_run()
    {
        var after = await _overview.AnomaliesAfterAsync(Base.AddMinutes(50), Base.AddHours(2));
        Assert.Equal([("198.51.100.4", "high"), ("203.0.113.9", "medium")], after.Select(a => (a.ClientIp, a.ThreatLevel)));
        Assert.Equal("Plain HTTP script", after[0].Explanation);
        Assert.Equal(0.9, after[0].Risk, 5);

        var run = await _overview.LastDetectionRunAsync(Base.AddHours(2));
        Assert.Equal(new DetectionRun(Base.AddMinutes(90), DashboardSeed.ModelB, 2, 1), run);
        Assert.Equal(new DetectionRun(null, "", 0, 0), await _overview.LastDetectionRunAsync(Base.AddDays(-40)));
        Assert.Null(await _overview.PingAsync());
    }

    [Fact]
    public async Task An_address_shows_its_requests_rotation_verdicts_and_campaigns()
    {
        var ip = Target("203.0.113.7");
        var profile = await _investigation.IpProfileAsync(ip, _range);
        Assert.Equal(new IpSummary(3, 1, 2, 3, 2, 3, Base.AddMinutes(5), Base.AddMinutes(70)), profile.Summary);

        Assert.Equal([new RotationCell(Base.AddMinutes(5), DashboardSeed.Ja4Chrome, 1), new RotationCell(Base.AddMinutes(20), DashboardSeed.Ja4Curl, 1),
            new RotationCell(Base.AddMinutes(70), DashboardSeed.Ja4Curl, 1)], profile.Ja4Cells);
        Assert.Equal(3, profile.UserAgentCells.Count);
        Assert.Contains(profile.UserAgentCells, c => c.Value == DashboardSeed.Hostile && c.Start == Base.AddMinutes(70));

        var page1 = await _investigation.IpRequestsAsync(ip, _range, 0, 2);
        Assert.Equal(3, page1.Total);
        Assert.Equal([Base.AddMinutes(70), Base.AddMinutes(20)], page1.Rows.Select(r => r.Time));
        var hostile = page1.Rows[0];
        Assert.Equal((DashboardSeed.Hostile, "/" + DashboardSeed.Hostile, DashboardSeed.Hostile, "1.2", 40003),
            (hostile.UserAgent, hostile.Path, hostile.Sni, hostile.TlsVersion, hostile.ClientPort));
        Assert.Equal(["http/1.1"], page1.Rows[1].Alpn);
        var page2 = await _investigation.IpRequestsAsync(ip, _range, 2, 2);
        Assert.Equal([Base.AddMinutes(5)], page2.Rows.Select(r => r.Time));
        // A page the range's last hour fills alone is read from that hour; the next one reaches back before it.
        Assert.Equal([Base.AddMinutes(70)], (await _investigation.IpRequestsAsync(ip, _range, 0, 1)).Rows.Select(r => r.Time));
        Assert.Equal([Base.AddMinutes(20)], (await _investigation.IpRequestsAsync(ip, _range, 1, 1)).Rows.Select(r => r.Time));
        Assert.Equal([Base.AddMinutes(20), Base.AddMinutes(5)],
            (await _investigation.IpRequestsAsync(ip, _range, 1, 5, knownTotal: 3)).Rows.Select(r => r.Time));

        var verdicts = await _investigation.IpVerdictsAsync(ip, _range);
        Assert.Equal([(Base.AddMinutes(90), "low", false), (Base.AddMinutes(50), "high", true)],
            verdicts.Select(v => (v.Time, v.ThreatLevel, v.IsAnomaly)));
        Assert.Equal(["ua_tls_mismatch"], verdicts[1].RuleIds);
        Assert.Equal("Rotates JA4 and User-Agent between requests", verdicts[1].Explanation);
        Assert.Equal("c-1", verdicts[1].CampaignId);

        var timeline = profile.Timeline;
        Assert.Equal(120, timeline.Count);
        Assert.Equal(3, timeline.Sum(p => p.Requests));
        Assert.Equal(0.82, timeline[50].MaxRisk!.Value, 5);
        Assert.Null(timeline[51].MaxRisk);

        // The latest row of c-1 (two members) counts; c-2 does not include the address.
        var campaign = Assert.Single(await _investigation.IpCampaignsAsync(ip, _range));
        Assert.Equal(("c-1", 2L, "high"), (campaign.Id, campaign.Size, campaign.ThreatLevel));
    }

    [Fact]
    public async Task A_cidr_block_covers_its_addresses_only()
    {
        var block = Target("203.0.113.0/24");
        Assert.True(block.IsNetwork);
        Assert.Equal(("203.0.113.0", "203.0.113.255"), (block.First.ToString(), block.Last.ToString()));
        var profile = await _investigation.IpProfileAsync(block, _range);
        Assert.Equal((4L, 2L), (profile.Summary.Requests, profile.Summary.Addresses));
        Assert.Equal([new CountEntry("200", 2), new CountEntry("404", 1), new CountEntry("500", 1)], profile.Statuses);
        Assert.Equal([new CountEntry("shop.example", 3), new CountEntry("api.example", 1)], profile.Hosts);
        Assert.Equal(new CountEntry("/login", 2), profile.Paths[0]);
        Assert.Equal(4, (await _investigation.IpVerdictsAsync(block, _range)).Count);
        // A limit keeps the biggest: one host, the busier one.
        Assert.Equal([new CountEntry("shop.example", 3)], (await _investigation.IpProfileAsync(block, _range, pathLimit: 1, hostLimit: 1)).Hosts);
        var empty = await _investigation.IpProfileAsync(Target("10.0.0.0/8"), _range);
        Assert.Equal(new IpSummary(0, 0, 0, 0, 0, 0, null, null), empty.Summary);
        Assert.Equal((120, 0L), (empty.Timeline.Count, empty.Timeline.Sum(p => p.Requests)));
        Assert.Empty(empty.Paths);
    }

    [Fact]
    public async Task Invalid_utf8_in_a_stored_user_agent_and_path_reaches_the_profile_as_replacement_characters()
    {
        // Written by another writer straight into the table: bytes that are no UTF-8 at all.
        await _store.QueryAsync($"""
            INSERT INTO {_options.Database}.http_logs (time, client_ip, host, path, user_agent, match_status, ja4)
            VALUES (toDateTime64('2026-11-20 10:30:00', 6, 'UTC'), toIPv6('192.0.2.99'), 'shop.example',
                    concat('/p', unhex('FF'), 'x'), concat('bot', unhex('C328'), '"\\'), 'plain_http', '')
            """);
        var profile = await _investigation.IpProfileAsync(Target("192.0.2.99"), _range);
        Assert.Equal(1, profile.Summary.Requests);
        Assert.Equal("/p\uFFFDx", Assert.Single(profile.Paths).Key);
        var agent = Assert.Single(profile.UserAgentCells).Value;
        Assert.StartsWith("bot\uFFFD", agent);
        Assert.EndsWith("(\"\\", agent);
    }

    [Fact]
    public async Task A_fingerprint_shows_what_it_is_who_uses_it_and_its_raw_form()
    {
        var chrome = await _investigation.FingerprintAsync(DashboardSeed.Ja4Chrome, _range);
        Assert.Equal(new FingerprintSummary(DashboardSeed.Ja4Chrome, 2, 2, 1, "Chrome", "BoringSSL", "", "Linux", "browser", "test"), chrome);
        var users = await _investigation.FingerprintUsersAsync(DashboardSeed.Ja4Chrome, _range);
        Assert.Equal(["203.0.113.7", "203.0.113.9"], users.TopIps.Select(i => i.Key).Order());
        var (distinct, requests, top) = await _investigation.FingerprintUserAgentsAsync(DashboardSeed.Ja4Chrome, _range);
        Assert.Equal((1L, 2L), (distinct, requests));
        Assert.Equal(DashboardSeed.ChromeUa, Assert.Single(top).Key);

        var curlUas = await _investigation.FingerprintUserAgentsAsync(DashboardSeed.Ja4Curl, _range);
        Assert.Equal((2L, 2L), (curlUas.Distinct, curlUas.Requests));

        // Chrome's raw form comes from tls_handshakes, curl's from the requests' copy.
        var raw = await _investigation.FingerprintRawAsync(DashboardSeed.Ja4Chrome, _range);
        Assert.Equal(DashboardSeed.Corpus(0).GetProperty("ja4_ro").GetString(), raw!.Ja4Ro);
        var curlRaw = await _investigation.FingerprintRawAsync(DashboardSeed.Ja4Curl, _range);
        Assert.Equal(DashboardSeed.Corpus(1).GetProperty("ja3_full").GetString(), curlRaw!.Ja3Full);
        Assert.Null(await _investigation.FingerprintRawAsync("t13d0000h2_000000000000_000000000000", _range));

        var unknown = await _investigation.FingerprintAsync("x' OR 1=1 --", _range);
        Assert.Equal((0L, ""), (unknown.Requests, unknown.Application));
    }

    [Fact]
    public void Bad_addresses_are_refused_with_a_message()
    {
        foreach (var bad in new[] { "", "   ", "not-an-ip", "10.1", "203.0.113.7/33", "203.0.113.7'; DROP TABLE x" })
        {
            Assert.False(IpTarget.TryParse(bad, out var target, out var error));
            Assert.Null(target);
            Assert.False(string.IsNullOrEmpty(error));
        }
        var v6 = Target("2001:db8::/126");
        Assert.Equal(("2001:db8::", "2001:db8::3"), (v6.First.ToString(), v6.Last.ToString()));
        Assert.Equal("203.0.113.7", Target(" 203.0.113.7 ").Text);
    }

    [Fact]
    public async Task Without_the_storage_module_the_queries_say_so()
    {
        var off = new OverviewQueries(null, null);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => off.KpisAsync(_range));
        Assert.Contains("Modules:Storage:Enabled", e.Message);
        Assert.NotNull(await off.PingAsync());
    }
}
