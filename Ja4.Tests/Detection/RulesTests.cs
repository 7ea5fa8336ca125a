using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Detection.Rules;
using Ja4.Tests.TestSupport;

namespace Ja4.Tests.Detection;

public sealed class RulesTests
{
    private const string ChromeUa = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    private const string FirefoxUa = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    private const string ChromeJa4 = "t13d1516h2_8daaf6152771_e5627efa2ab1";
    private const string FirefoxJa4 = "t13d1715h2_5b57614c22b0_3d5424432f57";
    private const string PythonJa4 = "t13d311100_e8f1e7e78f70_d41ae481755e";
    private const string CurlJa4 = "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6";

    private static readonly Lazy<KnownFingerprintTable> Known = new(() =>
        KnownFingerprintTable.Load(Path.Combine(Corpus.RepositoryRoot, "data", "known-fingerprints.csv"), null));

    private static EntityProfile Entity(string ja4, IReadOnlyList<string>? alpn, params (string Name, string Value)[] headers)
    {
        var requests = Enumerable.Range(0, 5).Select(i => FeatureTests.Request("198.51.100.20", i * 10, "/p" + i, ja4: ja4,
            alpn: alpn, protocol: alpn?.Contains("h2") == true ? "HTTP/2.0" : "HTTP/1.1", headers: headers)).ToArray();
        return FeatureExtractor.Compute(requests, FeatureTests.T0, FeatureTests.T0 + TimeSpan.FromHours(1)).Entities.Single();
    }

    private static IReadOnlyList<string> Fired(EntityProfile e, CrawlerVerification? crawler = null) =>
        new ConsistencyRules(Known.Value).Evaluate(e, crawler).Where(h => h.Fired).Select(h => h.Id).ToArray();

    [Fact]
    public void A_real_chrome_and_a_real_firefox_break_no_rule()
    {
        Assert.Empty(Fired(Entity(ChromeJa4, ["h2", "http/1.1"], ("User-Agent", ChromeUa),
            ("Sec-CH-UA", "\"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\""),
            ("Sec-CH-UA-Mobile", "?0"), ("Sec-CH-UA-Platform", "\"Windows\""))));
        Assert.Empty(Fired(Entity(FirefoxJa4, ["h2", "http/1.1"], ("User-Agent", FirefoxUa))));
        // A library that says what it is is not inconsistent (the model judges its behaviour).
        Assert.Empty(Fired(Entity(PythonJa4, [], ("User-Agent", "Python-urllib/3.11"))));
    }

    [Fact]
    public void Browser_user_agent_on_a_library_ja4_fires_and_names_both()
    {
        var hits = new ConsistencyRules(Known.Value).Evaluate(Entity(CurlJa4, ["h2", "http/1.1"], ("User-Agent", ChromeUa)));
        var hit = Assert.Single(hits, h => h.Fired);
        Assert.Equal(ConsistencyRules.BrowserUaOnLibraryJa4, hit.Id);
        Assert.Equal(0.9, hit.Weight);
        Assert.Contains("Chrome 131", hit.Explanation);
        Assert.Contains("curl", hit.Explanation);
    }

    [Fact]
    public void User_agent_family_other_than_the_ja4_family_fires()
    {
        var fired = Fired(Entity(ChromeJa4, ["h2", "http/1.1"], ("User-Agent", FirefoxUa)));
        Assert.Equal([ConsistencyRules.UaFamilyMismatch], fired);
    }

    [Fact]
    public void Current_browser_without_h2_in_alpn_fires_also_for_an_unknown_ja4()
    {
        Assert.Contains(ConsistencyRules.BrowserUaWithoutH2, Fired(Entity(PythonJa4, [], ("User-Agent", ChromeUa))));
        Assert.Equal([ConsistencyRules.BrowserUaWithoutH2],
            Fired(Entity("t13d999900_000000000000_000000000000", ["http/1.1"], ("User-Agent", ChromeUa))));
        // Chrome 40 predates h2: not "current".
        Assert.Empty(Fired(Entity("t13d999900_000000000000_000000000000", ["http/1.1"],
            ("User-Agent", "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40.0.2214.85 Safari/537.36"))));
    }

    [Theory]
    [InlineData("\"Google Chrome\";v=\"129\", \"Chromium\";v=\"129\"", "?0", "\"Windows\"", "version 129")]
    [InlineData("\"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\"", "?1", "\"Windows\"", "Sec-CH-UA-Mobile ?1")]
    [InlineData("\"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\"", "?0", "\"macOS\"", "Platform \"macOS\"")]
    public void Client_hints_contradicting_the_user_agent_fire(string brands, string mobile, string platform, string words)
    {
        var hits = new ConsistencyRules(Known.Value).Evaluate(Entity(ChromeJa4, ["h2", "http/1.1"], ("User-Agent", ChromeUa),
            ("Sec-CH-UA", brands), ("Sec-CH-UA-Mobile", mobile), ("Sec-CH-UA-Platform", platform)));
        var hit = Assert.Single(hits, h => h.Fired);
        Assert.Equal(ConsistencyRules.ClientHintsContradiction, hit.Id);
        Assert.Contains(words, hit.Explanation);
    }

    [Fact]
    public void Client_hints_from_firefox_or_over_a_non_chromium_stack_fire()
    {
        Assert.Contains(ConsistencyRules.ClientHintsContradiction, Fired(Entity(FirefoxJa4, ["h2", "http/1.1"],
            ("User-Agent", FirefoxUa), ("Sec-CH-UA", "\"Chromium\";v=\"133\""))));
        var overJava = new ConsistencyRules(Known.Value).Evaluate(Entity("t13d3713h2_db35923f8641_7c76daad20ec", ["h2", "http/1.1"],
            ("User-Agent", ChromeUa), ("Sec-CH-UA", "\"Google Chrome\";v=\"131\""), ("Sec-CH-UA-Mobile", "?0"),
            ("Sec-CH-UA-Platform", "\"Windows\"")));
        Assert.Contains(overJava, h => h.Id == ConsistencyRules.ClientHintsContradiction && h.Explanation.Contains("Java HttpClient"));
    }

    [Fact]
    public void Declared_crawler_fires_only_when_fcrdns_failed()
    {
        var e = Entity(ChromeJa4, ["h2", "http/1.1"], ("User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"));
        Assert.Equal("Googlebot", ConsistencyRules.DeclaredCrawlerOf(e)!.Name);
        var rules = new ConsistencyRules(Known.Value);
        var failed = rules.Evaluate(e, new CrawlerVerification(CrawlerCheck.Failed, "Googlebot", "PTR x.example is not under googlebot.com"));
        Assert.Contains(failed, h => h.Fired && h.Id == ConsistencyRules.CrawlerFcrdnsFailed && h.Weight == 0.8);
        var unverified = rules.Evaluate(e, new CrawlerVerification(CrawlerCheck.Unverified, "Googlebot", "reverse DNS unavailable"));
        var u = Assert.Single(unverified);
        Assert.False(u.Fired);
        Assert.Contains("unverified", u.Explanation);
        Assert.DoesNotContain(rules.Evaluate(e, new CrawlerVerification(CrawlerCheck.Verified, "Googlebot", "ok")), h => h.Fired);
    }

    [Fact]
    public void Weights_can_be_overridden_and_the_minimum_share_applies()
    {
        var rules = new ConsistencyRules(Known.Value, new Dictionary<string, double> { [ConsistencyRules.BrowserUaOnLibraryJa4] = 0.3 });
        Assert.Equal(0.3, rules.Weight(ConsistencyRules.BrowserUaOnLibraryJa4));
        Assert.Equal(0.7, rules.Weight(ConsistencyRules.UaFamilyMismatch));
        // One browser User-Agent among five requests is 20 %: fires at a 0.2 minimum share, not at 0.5.
        var requests = Enumerable.Range(0, 5).Select(i => FeatureTests.Request("198.51.100.30", i, "/", ja4: CurlJa4,
            headers: ("User-Agent", i == 0 ? ChromeUa : "curl/7.88.1"))).ToArray();
        var e = FeatureExtractor.Compute(requests, FeatureTests.T0, FeatureTests.T0 + TimeSpan.FromHours(1)).Entities.Single();
        Assert.Contains(new ConsistencyRules(Known.Value, minShare: 0.2).Evaluate(e), h => h.Fired);
        Assert.DoesNotContain(new ConsistencyRules(Known.Value, minShare: 0.5).Evaluate(e), h => h.Fired);
    }

    [Theory]
    [InlineData(ChromeUa, ClientFamily.Chromium, "Chrome", 131, false, "Windows", null)]
    [InlineData(FirefoxUa, ClientFamily.Firefox, "Firefox", 133, false, "Linux", null)]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        ClientFamily.Safari, "CriOS", 131, true, "iOS", null)]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        ClientFamily.Safari, "Safari", 17, false, "macOS", null)]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
        ClientFamily.Chromium, "Edg", 131, false, "Windows", null)]
    [InlineData("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", ClientFamily.Unknown, "Bingbot", 0, false, "", "Bingbot")]
    [InlineData("python-requests/2.31.0", ClientFamily.Library, "python-requests", 0, false, "", null)]
    [InlineData("curl/7.88.1", ClientFamily.Library, "curl", 0, false, "", null)]
    public void User_agents_are_parsed_into_their_claims(string ua, ClientFamily family, string browser, int version, bool mobile,
        string platform, string? crawler)
    {
        var info = UserAgentParser.Parse(ua);
        Assert.Equal((family, browser, version, mobile, platform, crawler),
            (info.Family, info.Browser, info.MajorVersion, info.Mobile, info.Platform, info.Crawler));
    }
}
