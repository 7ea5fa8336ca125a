using System.Globalization;
using System.Text.RegularExpressions;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.KnownFingerprints;

namespace Ja4.Modules.Detection.Rules;

/// <summary>A consistency rule: id, default weight (its share of the risk when it fires), what it checks.</summary>
public sealed record RuleDefinition(string Id, double Weight, string Checks);

/// <summary>A rule's finding on one entity. Weight 0 findings (unverified, verified) explain without adding risk.</summary>
public sealed record RuleHit(string Id, double Weight, string Explanation, bool Fired);

/// <summary>
/// Checks that what a client says (User-Agent, client hints, declared crawler) agrees with what its
/// TLS stack is (JA4, ALPN). A model trained on one site cannot learn these: they need knowledge
/// of which stacks browsers and libraries have.
/// </summary>
public sealed partial class ConsistencyRules
{
    public const string BrowserUaOnLibraryJa4 = "ua-browser-on-library-ja4";
    public const string UaFamilyMismatch = "ua-family-mismatch";
    public const string BrowserUaWithoutH2 = "browser-ua-without-h2";
    public const string ClientHintsContradiction = "client-hints-contradiction";
    public const string CrawlerFcrdnsFailed = "crawler-fcrdns-failed";

    public static readonly IReadOnlyList<RuleDefinition> Definitions =
    [
        new(BrowserUaOnLibraryJa4, 0.9, "User-Agent claims a browser, the JA4 is a known library or tool's"),
        new(UaFamilyMismatch, 0.7, "User-Agent claims one browser family, the JA4 is another family's"),
        new(BrowserUaWithoutH2, 0.6, "User-Agent claims a current browser, the ClientHello offered no h2 in ALPN"),
        new(ClientHintsContradiction, 0.6, "Sec-CH-UA / -Mobile / -Platform contradict the User-Agent or the TLS stack"),
        new(CrawlerFcrdnsFailed, 0.8, "User-Agent declares a search-engine crawler, forward-confirmed reverse DNS fails"),
    ];

    /// <summary>Oldest major versions that offer h2 in ALPN and count as "current" (all shipped h2 years before).</summary>
    public const int CurrentChromium = 100, CurrentFirefox = 100, CurrentSafari = 15;

    private readonly KnownFingerprintTable _known;
    private readonly IReadOnlyDictionary<string, double> _weights;
    private readonly double _minShare;

    /// <param name="known">JA4 → client table.</param>
    /// <param name="weights">Weight overrides by rule id (<c>Modules:Detection:RuleWeights</c>).</param>
    /// <param name="minShare">Share of an entity's requests that must break a User-Agent rule for it to fire.</param>
    public ConsistencyRules(KnownFingerprintTable known, IReadOnlyDictionary<string, double>? weights = null, double minShare = 0.2)
    {
        _known = known;
        _minShare = minShare;
        var w = Definitions.ToDictionary(d => d.Id, d => d.Weight, StringComparer.Ordinal);
        foreach (var (id, value) in weights ?? new Dictionary<string, double>())
        {
            w[id] = value;
        }
        _weights = w;
    }

    public double Weight(string id) => _weights[id];

    /// <summary>Declared crawler of the entity's main User-Agent, if any.</summary>
    public static DeclaredCrawler? DeclaredCrawlerOf(EntityProfile entity)
    {
        var top = entity.UserAgents.MaxBy(kv => kv.Value).Key;
        var name = UserAgentParser.Parse(top).Crawler;
        return name is null ? null : UserAgentParser.Crawlers.First(c => c.Name == name);
    }

    /// <summary>Evaluates every rule on an entity; <paramref name="crawler"/> is the FCrDNS result when it declared one.</summary>
    public IReadOnlyList<RuleHit> Evaluate(EntityProfile entity, CrawlerVerification? crawler = null)
    {
        var hits = new List<RuleHit>();
        _known.TryGet(entity.Key.Ja4, out var stack);
        var total = (double)entity.Requests;
        int onLibrary = 0, otherFamily = 0, noH2 = 0;
        UserAgentInfo? libraryExample = null, familyExample = null, h2Example = null;
        foreach (var (ua, count) in entity.UserAgents)
        {
            var info = UserAgentParser.Parse(ua);
            if (!info.ClaimsBrowser)
            {
                continue;
            }
            if (stack is { IsBrowser: false })
            {
                onLibrary += count;
                libraryExample ??= info;
            }
            else if (stack is { IsBrowser: true } && stack.Family != info.Family)
            {
                otherFamily += count;
                familyExample ??= info;
            }
            if (entity.HasHandshake && entity.Transport == Transport.Tcp && !entity.Alpn.Contains("h2") && IsCurrent(info))
            {
                noH2 += count;
                h2Example ??= info;
            }
        }
        if (libraryExample is not null && onLibrary / total >= _minShare)
        {
            hits.Add(Hit(BrowserUaOnLibraryJa4,
                $"User-Agent claims {Describe(libraryExample)} but the TLS handshake (JA4 {entity.Key.Ja4}) is {Describe(stack!)}" +
                Share(onLibrary, total)));
        }
        if (familyExample is not null && otherFamily / total >= _minShare)
        {
            hits.Add(Hit(UaFamilyMismatch,
                $"User-Agent claims {Describe(familyExample)} ({familyExample.Family} family) but the TLS handshake is " +
                $"{Describe(stack!)} ({stack!.Family} family)" + Share(otherFamily, total)));
        }
        if (h2Example is not null && noH2 / total >= _minShare)
        {
            var offered = entity.Alpn.Count == 0 ? "no ALPN at all" : "only " + string.Join(",", entity.Alpn);
            hits.Add(Hit(BrowserUaWithoutH2,
                $"User-Agent claims {Describe(h2Example)}, which always offers h2, but the ClientHello offered {offered}" +
                Share(noH2, total)));
        }
        if (HintsContradiction(entity, stack) is { } why)
        {
            hits.Add(Hit(ClientHintsContradiction, why));
        }
        if (crawler is not null)
        {
            hits.Add(crawler.Check switch
            {
                CrawlerCheck.Failed => Hit(CrawlerFcrdnsFailed,
                    $"User-Agent declares {crawler.Crawler} but forward-confirmed reverse DNS failed: {crawler.Detail}"),
                CrawlerCheck.Verified => new RuleHit(CrawlerFcrdnsFailed, 0,
                    $"declared {crawler.Crawler}, verified by forward-confirmed reverse DNS ({crawler.Detail})", Fired: false),
                _ => new RuleHit(CrawlerFcrdnsFailed, 0,
                    $"declares {crawler.Crawler}; unverified: {crawler.Detail}", Fired: false),
            });
        }
        return hits;
    }

    private RuleHit Hit(string id, string explanation) => new(id, _weights[id], explanation, Fired: true);

    private static string Share(int count, double total) =>
        count < total ? string.Create(CultureInfo.InvariantCulture, $" ({count} of {total} requests)") : "";

    private static bool IsCurrent(UserAgentInfo ua) => ua.Family switch
    {
        ClientFamily.Chromium => ua.MajorVersion >= CurrentChromium,
        ClientFamily.Firefox => ua.MajorVersion >= CurrentFirefox,
        ClientFamily.Safari => ua.MajorVersion >= CurrentSafari,
        _ => false,
    };

    private static string Describe(UserAgentInfo ua) =>
        ua.MajorVersion > 0 ? $"{ua.Browser} {ua.MajorVersion.ToString(CultureInfo.InvariantCulture)}" : ua.Browser;

    private static string Describe(KnownFingerprint f) =>
        f.Library.Length > 0 && f.Library != f.Application ? $"{f.Application} ({f.Library})" : f.Application;

    /// <summary>The first contradiction found in the entity's client hints, or null.</summary>
    private static string? HintsContradiction(EntityProfile entity, KnownFingerprint? stack)
    {
        if (entity.HintRequests == 0)
        {
            return null;
        }
        var ua = UserAgentParser.Parse(entity.HintUserAgent);
        if (ua.Family is ClientFamily.Firefox or ClientFamily.Safari)
        {
            return $"Sec-CH-UA headers sent with a {Describe(ua)} User-Agent; {ua.Browser} does not send client hints";
        }
        if (ua.Family == ClientFamily.Library)
        {
            return $"Sec-CH-UA headers sent by {ua.Browser}, which does not send client hints";
        }
        if (entity.SecChUa is { } brands)
        {
            var versions = BrandVersion().Matches(brands)
                .Where(m => !m.Groups["b"].Value.Contains("Brand", StringComparison.OrdinalIgnoreCase))
                .Select(m => int.Parse(m.Groups["v"].ValueSpan, CultureInfo.InvariantCulture)).Distinct().ToArray();
            if (ua.Family == ClientFamily.Chromium && ua.MajorVersion > 0 && versions.Length > 0 && !versions.Contains(ua.MajorVersion))
            {
                return $"Sec-CH-UA claims version {string.Join("/", versions)} but the User-Agent says {Describe(ua)}";
            }
        }
        if (entity.SecChUaMobile is { } mobile && ua.Family == ClientFamily.Chromium)
        {
            var claimsMobile = mobile.Trim() == "?1";
            if (claimsMobile != ua.Mobile)
            {
                return $"Sec-CH-UA-Mobile {mobile} but the User-Agent is a {(ua.Mobile ? "mobile" : "desktop")} browser";
            }
        }
        if (entity.SecChUaPlatform is { } platform && ua.Platform.Length > 0)
        {
            var p = platform.Trim().Trim('"');
            if (!string.Equals(p, ua.Platform, StringComparison.OrdinalIgnoreCase))
            {
                return $"Sec-CH-UA-Platform \"{p}\" but the User-Agent says {ua.Platform}";
            }
        }
        if (stack is not null && stack.Family != ClientFamily.Chromium)
        {
            return $"client hints claim a Chromium browser but the TLS handshake is {Describe(stack)}";
        }
        return null;
    }

    [GeneratedRegex("\"(?<b>[^\"]+)\";v=\"(?<v>\\d+)")]
    private static partial Regex BrandVersion();
}
