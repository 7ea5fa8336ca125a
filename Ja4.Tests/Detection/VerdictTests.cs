using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Detection.Rules;
using Ja4.Modules.Detection.Simulation;
using Ja4.Modules.Detection.Verdicts;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.Detection;

/// <summary>Each planted cause in simulator traffic must show up in the verdict's explanation.</summary>
public sealed class VerdictTests
{
    private static KnownFingerprintTable Known() =>
        KnownFingerprintTable.Load(Path.Combine(Corpus.RepositoryRoot, "data", "known-fingerprints.csv"), null);

    private static async Task<(SimulatedTraffic Traffic, DetectionResult Result)> Run(int seed, SimulationMix? mix = null)
    {
        var traffic = TrafficSimulator.Generate(seed, mix ?? new SimulationMix(), SimulatorTests.Start);
        var known = Known();
        var engine = new DetectionEngine(new DetectionSettings(), known, new ConsistencyRules(known), null);
        var window = FeatureExtractor.Compute(traffic.Requests, traffic.Start, traffic.End);
        return (traffic, await engine.RunAsync(window, traffic.End, CancellationToken.None));
    }

    private static Verdict[] Of(SimulatedTraffic t, DetectionResult r, TrafficKind kind) =>
        r.Verdicts.Where(v => t.KindOf(v.Entity.Address) == kind).ToArray();

    private static void AtLeast(double share, IReadOnlyList<Verdict> verdicts, Func<Verdict, bool> test, string what)
    {
        Assert.NotEmpty(verdicts);
        var ok = verdicts.Count(test);
        Assert.True(ok >= share * verdicts.Count,
            $"{what}: {ok} of {verdicts.Count}; first miss: {verdicts.FirstOrDefault(v => !test(v))?.Explanation}");
    }

    [Fact]
    public async Task Ua_spoofers_are_alerted_and_their_explanation_names_the_ua_ja4_mismatch_rule()
    {
        var (t, r) = await Run(11);
        var spoofers = Of(t, r, TrafficKind.UaSpoofer);
        AtLeast(1.0, spoofers, v => v.FiredRuleIds.Contains(ConsistencyRules.BrowserUaOnLibraryJa4) &&
                                   v.Explanation.Contains("[" + ConsistencyRules.BrowserUaOnLibraryJa4 + "]") &&
                                   v.Level >= ThreatLevel.High, "spoofers named by the UA/JA4 rule");
    }

    [Fact]
    public async Task Rotators_are_grouped_into_their_campaigns_and_named_by_a_ua_rule()
    {
        var (t, r) = await Run(12, new SimulationMix { RotatorCampaigns = 4, RotatorAddresses = 10 });
        var rotators = Of(t, r, TrafficKind.Rotator);
        AtLeast(0.9, rotators, v => v.CampaignId.Length > 0, "rotators in a campaign");
        AtLeast(0.9, rotators, v => v.FiredRuleIds.Any(id => id is ConsistencyRules.BrowserUaOnLibraryJa4 or ConsistencyRules.UaFamilyMismatch),
            "rotators named by a User-Agent rule");
        // A campaign spans one actor's addresses, never a human's.
        foreach (var c in r.Campaigns)
        {
            Assert.DoesNotContain(c.Entities, e => t.KindOf(System.Net.IPAddress.Parse(e.ClientIp)) == TrafficKind.Human);
            Assert.True(c.Size >= 3);
            Assert.True(c.Level >= c.Entities.Max(e => r.Verdicts.Single(v => v.Entity.Key == e).Level) ||
                        c.Level == ThreatLevel.Critical);
        }
        var actors = rotators.Where(v => v.CampaignId.Length > 0)
            .GroupBy(v => v.CampaignId).Select(g => g.Select(v => t.Clients[v.Entity.Address].Actor).Distinct().Count());
        Assert.All(actors, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Credential_stuffers_are_explained_by_rejected_logins()
    {
        var (t, r) = await Run(13);
        AtLeast(0.9, Of(t, r, TrafficKind.CredentialStuffer),
            v => v.Level >= ThreatLevel.Medium &&
                 v.TopFeatures.Any(f => f.Name is "status_401_403_ratio" or "status_4xx_ratio" or "non_get_ratio"),
            "stuffers explained by 401/403, 4xx or POST share");
    }

    [Fact]
    public async Task Scrapers_carry_their_library_as_bot_name_and_declared_crawlers_their_name()
    {
        var (t, r) = await Run(14);
        var libraries = ClientProfiles.Libraries.Select(l => l.Name).ToHashSet();
        AtLeast(1.0, Of(t, r, TrafficKind.Scraper), v => Known().TryGet(v.Entity.Key.Ja4, out var k) && v.BotName == k.Application,
            "scrapers named after their JA4's client");
        AtLeast(1.0, Of(t, r, TrafficKind.GoodCrawler), v => v.BotName == "Googlebot (unverified)" &&
            v.Rules.Any(h => !h.Fired && h.Explanation.Contains("unverified")), "crawlers named, unverified without DNS");
        Assert.NotEmpty(libraries);
    }

    [Fact]
    public async Task Few_humans_are_alerted()
    {
        var (t, r) = await Run(15);
        var humans = Of(t, r, TrafficKind.Human);
        Assert.True(humans.Count(v => v.Level >= ThreatLevel.Medium) <= humans.Length / 100,
            string.Join("\n", humans.Where(v => v.Level >= ThreatLevel.Medium).Select(v => v.Explanation)));
    }

    [Fact]
    public async Task Addresses_and_campaigns_flagged_again_after_the_quiet_period_are_returning()
    {
        var traffic = TrafficSimulator.Generate(16, new SimulationMix(), SimulatorTests.Start);
        var known = Known();
        var engine = new DetectionEngine(new DetectionSettings { QuietPeriod = TimeSpan.FromHours(24) }, known, new ConsistencyRules(known), null);
        var window = FeatureExtractor.Compute(traffic.Requests, traffic.Start, traffic.End);
        var first = await engine.RunAsync(window, traffic.End, CancellationToken.None);
        Assert.DoesNotContain(first.Verdicts, v => v.Returning);
        Assert.DoesNotContain(first.Campaigns, c => c.Returning);
        var soon = await engine.RunAsync(window, traffic.End + TimeSpan.FromHours(1), CancellationToken.None);
        Assert.DoesNotContain(soon.Verdicts, v => v.Returning);
        var later = await engine.RunAsync(window, traffic.End + TimeSpan.FromHours(26), CancellationToken.None);
        var alerted = later.Verdicts.Where(v => v.Level >= ThreatLevel.Medium).ToArray();
        Assert.NotEmpty(alerted);
        Assert.All(alerted, v => Assert.True(v.Returning));
        Assert.All(later.Campaigns, c => Assert.True(c.Returning));
        Assert.All(alerted, v => Assert.Contains("returning", v.Explanation));
    }

    [Fact]
    public async Task Verified_crawlers_are_capped_below_alerts_and_thresholds_map_risk_to_levels()
    {
        var thresholds = new ThreatThresholds();
        Assert.Equal(ThreatLevel.None, thresholds.LevelOf(0.49));
        Assert.Equal(ThreatLevel.Low, thresholds.LevelOf(0.5));
        Assert.Equal(ThreatLevel.Medium, thresholds.LevelOf(0.7));
        Assert.Equal(ThreatLevel.High, thresholds.LevelOf(0.85));
        Assert.Equal(ThreatLevel.Critical, thresholds.LevelOf(0.95));

        var traffic = TrafficSimulator.Generate(17, new SimulationMix(), SimulatorTests.Start);
        using var dns = new TestDnsServer();
        foreach (var ip in traffic.Clients.Values.Where(c => c.Kind == TrafficKind.GoodCrawler).Select(c => c.Address.ToString()))
        {
            var name = $"crawl-{ip.Replace('.', '-')}.googlebot.com";
            dns.Ptr(ip, name).A(name, ip);
        }
        var known = Known();
        var verifier = new CrawlerVerifier(new UdpDnsResolver(dns.EndPoint, TimeSpan.FromSeconds(5), TimeProvider.System),
            TimeProvider.System, TimeSpan.FromHours(1));
        var engine = new DetectionEngine(new DetectionSettings(), known, new ConsistencyRules(known), verifier);
        var result = await engine.RunAsync(FeatureExtractor.Compute(traffic.Requests, traffic.Start, traffic.End), traffic.End,
            CancellationToken.None);
        var crawlers = result.Verdicts.Where(v => traffic.KindOf(v.Entity.Address) == TrafficKind.GoodCrawler).ToArray();
        Assert.NotEmpty(crawlers);
        Assert.All(crawlers, v =>
        {
            Assert.Equal("Googlebot", v.BotName);
            Assert.True(v.Risk <= 0.2);
            Assert.Contains("verified by forward-confirmed reverse DNS", v.Explanation);
        });
    }
}
