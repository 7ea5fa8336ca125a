using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Ja4.Modules.Core.Events;

namespace Ja4.Modules.Detection.Simulation;

/// <summary>Ground-truth label of a simulated client.</summary>
public enum TrafficKind : byte
{
    Human = 0,
    /// <summary>Library fingerprint and an honest library User-Agent, fetching pages fast.</summary>
    Scraper = 1,
    /// <summary>POSTs to /login, mostly rejected.</summary>
    CredentialStuffer = 2,
    /// <summary>A browser User-Agent (and browser-like headers) on a library ClientHello.</summary>
    UaSpoofer = 3,
    /// <summary>One actor on many addresses, rotating User-Agents and JA4s.</summary>
    Rotator = 4,
    /// <summary>A page every few minutes, no assets, no referer, no cookies.</summary>
    LowAndSlow = 5,
    /// <summary>A declared search-engine crawler from its operator's addresses.</summary>
    GoodCrawler = 6,
}

/// <summary>How many clients of each kind to simulate, and over how long.</summary>
public sealed record SimulationMix
{
    public int Humans { get; init; } = 300;
    public int Scrapers { get; init; } = 12;
    public int CredentialStuffers { get; init; } = 8;
    public int UaSpoofers { get; init; } = 20;
    public int RotatorCampaigns { get; init; } = 3;
    public int RotatorAddresses { get; init; } = 12;
    public int LowAndSlow { get; init; } = 10;
    public int GoodCrawlers { get; init; } = 4;
    public TimeSpan Duration { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>One simulated client: its address, ground truth and (for rotators) campaign number.</summary>
public sealed record SimulatedClient(IPAddress Address, TrafficKind Kind, int Actor, string Description);

/// <summary>Simulated traffic: requests with their handshakes, sorted by time, and who sent them.</summary>
public sealed record SimulatedTraffic(
    IReadOnlyList<CorrelatedRequest> Requests,
    IReadOnlyDictionary<IPAddress, SimulatedClient> Clients,
    DateTimeOffset Start,
    DateTimeOffset End)
{
    public TrafficKind KindOf(IPAddress address) => Clients[address].Kind;
}

/// <summary>
/// A labelled traffic generator: HTTP requests and the matching TLS handshakes of humans on real
/// browser fingerprints (a page, then its assets; think times; referers; cookies after the first
/// response) and of bots (see <see cref="TrafficKind"/>). Pure: the same seed and mix give the same
/// traffic.
/// </summary>
public sealed class TrafficSimulator
{
    public static readonly string[] Hosts = ["shop.example.com", "blog.example.com"];
    private static readonly IPAddress Server = IPAddress.Parse("192.0.2.10");

    private readonly Random _rng;
    private readonly SimulationMix _mix;
    private readonly DateTimeOffset _start;
    private readonly List<CorrelatedRequest> _requests = [];
    private readonly Dictionary<IPAddress, SimulatedClient> _clients = [];
    private int _actor;
    private int _campaigns;

    private TrafficSimulator(int seed, SimulationMix mix, DateTimeOffset start)
    {
        _rng = new Random(seed);
        _mix = mix;
        _start = start;
    }

    /// <summary>Generates the traffic of <paramref name="mix"/> starting at <paramref name="start"/>.</summary>
    public static SimulatedTraffic Generate(int seed, SimulationMix mix, DateTimeOffset start)
    {
        var s = new TrafficSimulator(seed, mix, start);
        for (var i = 0; i < mix.Humans; i++)
        {
            s.Human();
        }
        for (var i = 0; i < mix.Scrapers; i++)
        {
            s.Scraper();
        }
        for (var i = 0; i < mix.CredentialStuffers; i++)
        {
            s.CredentialStuffer();
        }
        for (var i = 0; i < mix.UaSpoofers; i++)
        {
            s.UaSpoofer();
        }
        for (var i = 0; i < mix.RotatorCampaigns; i++)
        {
            s.RotatorCampaign(mix.RotatorAddresses);
        }
        for (var i = 0; i < mix.LowAndSlow; i++)
        {
            s.LowAndSlowCrawler();
        }
        for (var i = 0; i < mix.GoodCrawlers; i++)
        {
            s.GoodCrawler(i);
        }
        var end = start + mix.Duration;
        var sorted = s._requests.Where(r => r.Request.Timestamp < end).OrderBy(r => r.Request.Timestamp).ToArray();
        return new SimulatedTraffic(sorted, s._clients, start, end);
    }

    // ---- clients ----

    private void Human()
    {
        var browser = Pick(ClientProfiles.Browsers);
        var ua = BrowserUserAgent(browser);
        var client = NewClient(TrafficKind.Human, $"human on {browser.Name}");
        var host = Pick(Hosts);
        var t = RandomStart(0.9);
        var sessions = 1 + (_rng.NextDouble() < 0.3 ? 1 : 0);
        var cookie = false;
        for (var s = 0; s < sessions; s++)
        {
            var conn = Connect(client, browser, host, at: t);
            string? referer = _rng.NextDouble() < 0.6 ? "https://www.google.com/" : null;
            var pages = 1 + Geometric(0.18);
            var page = Pick(["/", "/products", "/blog", $"/product/{_rng.Next(1, 500)}", $"/blog/{_rng.Next(1, 200)}"]);
            for (var p = 0; p < pages; p++)
            {
                Emit(conn, t, "GET", page, PageQuery(page), 200, PageBytes(), ua, browser, referer, cookie, acceptLanguage: true);
                cookie = true;
                // Assets follow the page within a second; later pages hit the cache for most of them.
                var assets = p == 0 ? _rng.Next(6, 16) : _rng.Next(1, 6);
                var at = t;
                for (var a = 0; a < assets; a++)
                {
                    at += TimeSpan.FromMilliseconds(_rng.Next(5, 250));
                    var (path, bytes) = Asset(page, a);
                    var status = p > 0 && _rng.NextDouble() < 0.3 ? 304 : 200;
                    Emit(conn, at, "GET", path, null, status, status == 304 ? 0 : bytes, ua, browser,
                        $"https://{host}{page}", cookie, acceptLanguage: true);
                }
                if (_rng.NextDouble() < 0.01)
                {
                    Emit(conn, at + TimeSpan.FromSeconds(1), "GET", "/missing-page", null, 404, 900, ua, browser,
                        $"https://{host}{page}", cookie, acceptLanguage: true);
                }
                referer = $"https://{host}{page}";
                page = NextPage(page);
                if (page == "/login" && _rng.NextDouble() < 0.5)
                {
                    var post = t + LogNormal(8, 0.5);
                    Emit(conn, post, "POST", "/login", null, _rng.NextDouble() < 0.85 ? 302 : 401, 600, ua, browser,
                        $"https://{host}/login", cookie, acceptLanguage: true);
                }
                t = at + LogNormal(20, 1.0);
                if (t - conn.Opened > TimeSpan.FromMinutes(2))
                {
                    conn = Connect(client, browser, host, at: t);
                }
            }
            t += TimeSpan.FromMinutes(_rng.Next(5, 30));
        }
    }

    private void Scraper()
    {
        var lib = Pick(ClientProfiles.Libraries);
        var client = NewClient(TrafficKind.Scraper, $"scraper on {lib.Name}");
        var host = Pick(Hosts);
        var noSni = _rng.NextDouble() < 0.3;
        var conn = Connect(client, lib, host, noSni);
        var t = RandomStart(0.5);
        var n = _rng.Next(100, 800);
        var gap = 0.3 + (_rng.NextDouble() * 2.5);
        var id = _rng.Next(1, 200);
        for (var i = 0; i < n; i++)
        {
            var path = _rng.NextDouble() < 0.15 ? $"/category/{_rng.Next(1, 30)}" : $"/product/{id++}";
            var status = id > 500 || _rng.NextDouble() < 0.05 ? 404 : 200;
            Emit(conn, t, "GET", path, null, status, status == 200 ? PageBytes() : 900, lib.UserAgent, lib, null, false,
                acceptLanguage: false);
            t += TimeSpan.FromSeconds(gap * (0.7 + (0.6 * _rng.NextDouble())));
        }
    }

    private void CredentialStuffer()
    {
        var lib = Pick([ClientProfiles.Python, ClientProfiles.Node, ClientProfiles.Java, ClientProfiles.Curl]);
        var client = NewClient(TrafficKind.CredentialStuffer, $"credential stuffer on {lib.Name}");
        var host = Hosts[0];
        var conn = Connect(client, lib, host);
        var ua = _rng.NextDouble() < 0.5 ? lib.UserAgent : ChromeUserAgent(_rng.Next(128, 132), "Windows");
        var t = RandomStart(0.6);
        var n = _rng.Next(30, 200);
        for (var i = 0; i < n; i++)
        {
            var status = _rng.NextDouble() < 0.9 ? 401 : (_rng.NextDouble() < 0.5 ? 403 : 302);
            Emit(conn, t, "POST", "/login", null, status, 450, ua, lib, _rng.NextDouble() < 0.5 ? $"https://{host}/login" : null,
                false, acceptLanguage: false);
            t += TimeSpan.FromSeconds(1 + (_rng.NextDouble() * 7));
        }
    }

    private void UaSpoofer()
    {
        var lib = Pick(ClientProfiles.Libraries);
        var client = NewClient(TrafficKind.UaSpoofer, $"Chrome User-Agent on {lib.Name}");
        var host = Pick(Hosts);
        var conn = Connect(client, lib, host);
        var platform = Pick(["Windows", "macOS", "Linux"]);
        var ua = ChromeUserAgent(_rng.Next(128, 132), platform);
        // Half copy a browser's client hints as well; the hints then claim a stack the hello does not have.
        var hints = _rng.NextDouble() < 0.5 ? ChromeHints(ua) : null;
        var keepCookies = _rng.NextDouble() < 0.5;
        var t = RandomStart(0.7);
        var n = _rng.Next(20, 90);
        string? referer = null;
        for (var i = 0; i < n; i++)
        {
            var page = Pick(["/products", $"/product/{_rng.Next(1, 500)}", $"/category/{_rng.Next(1, 30)}", "/search"]);
            Emit(conn, t, "GET", page, PageQuery(page), 200, PageBytes(), ua, lib, referer, keepCookies && i > 0,
                acceptLanguage: true, hintsOverride: hints);
            if (_rng.NextDouble() < 0.3)
            {
                var (asset, bytes) = Asset(page, 0);
                Emit(conn, t + TimeSpan.FromMilliseconds(80), "GET", asset, null, 200, bytes, ua, lib, $"https://{host}{page}",
                    keepCookies, acceptLanguage: true, hintsOverride: hints);
            }
            referer = $"https://{host}{page}";
            t += LogNormal(12, 0.6);
        }
    }

    private void RotatorCampaign(int addresses)
    {
        var campaign = ++_actor;
        var useBrowserStack = _rng.NextDouble() < 0.5;
        ClientProfile[] stacks = useBrowserStack
            ? [ClientProfiles.Chromium]
            : [Pick(ClientProfiles.Libraries), Pick(ClientProfiles.Libraries)];
        string[] uas =
        [
            ChromeUserAgent(131, "Windows"), ChromeUserAgent(130, "macOS"), FirefoxUserAgent(133, "Windows"),
            FirefoxUserAgent(132, "Linux"), SafariUserAgent(),
        ];
        // Each actor works through its own target list: prices, stock, reviews, search results.
        string[][] scripts =
        [
            ["/search", "/product/{id}", "/product/{id}/reviews"],
            ["/api/price/{id}", "/api/stock/{id}"],
            ["/category/{id}", "/product/{id}", "/cart"],
            ["/product/{id}/questions", "/search"],
        ];
        var script = scripts[_campaigns++ % scripts.Length];
        var host = Pick(Hosts);
        var gap = 1.5 + (_rng.NextDouble() * 2);
        var t0 = RandomStart(0.6);
        for (var a = 0; a < addresses; a++)
        {
            var client = NewClient(TrafficKind.Rotator, $"rotator campaign {campaign}", campaign);
            var t = t0 + TimeSpan.FromSeconds(_rng.Next(0, 600));
            var n = _rng.Next(8, 40);
            var id = _rng.Next(1, 400);
            Connection? conn = null;
            for (var i = 0; i < n; i++)
            {
                if (conn is null || i % 4 == 0)
                {
                    conn = Connect(client, stacks[i / 4 % stacks.Length], host);
                }
                var path = script[i % script.Length].Replace("{id}", id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
                if (i % script.Length == script.Length - 1)
                {
                    id++;
                }
                var ua = uas[_rng.Next(uas.Length)];
                Emit(conn, t, "GET", path, path == "/search" ? $"q=item{id}" : null, 200, PageBytes(), ua, conn.Profile, null,
                    false, acceptLanguage: true);
                t += TimeSpan.FromSeconds(gap * (0.9 + (0.2 * _rng.NextDouble())));
            }
        }
    }

    private void LowAndSlowCrawler()
    {
        var headless = _rng.NextDouble() < 0.5;
        var profile = headless ? ClientProfiles.Chromium : Pick(ClientProfiles.Libraries);
        var client = NewClient(TrafficKind.LowAndSlow, $"low-and-slow crawler on {profile.Name}");
        var host = Pick(Hosts);
        var ua = headless ? ChromeUserAgent(_rng.Next(128, 132), "Linux") : profile.UserAgent;
        var t = _start + TimeSpan.FromSeconds(_rng.Next(0, 120));
        var gap = _rng.Next(60, 240);
        var id = _rng.Next(1, 200);
        while (t < _start + _mix.Duration)
        {
            var conn = Connect(client, profile, host);
            var path = _rng.NextDouble() < 0.5 ? $"/product/{id++}" : $"/blog/{id}";
            Emit(conn, t, "GET", path, null, 200, PageBytes(), ua, profile, null, false, acceptLanguage: headless);
            t += TimeSpan.FromSeconds(gap * (0.85 + (0.3 * _rng.NextDouble())));
        }
    }

    private void GoodCrawler(int index)
    {
        var address = IPAddress.Parse($"66.249.66.{10 + index}");
        var client = NewClient(TrafficKind.GoodCrawler, "Googlebot", address: address);
        var profile = ClientProfiles.Chromium;
        const string Ua = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) " +
                          "Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
        var host = Pick(Hosts);
        var conn = Connect(client, profile, host);
        var t = RandomStart(0.3);
        var n = _rng.Next(50, 300);
        for (var i = 0; i < n; i++)
        {
            var path = i == 0 ? "/robots.txt" : Pick([$"/product/{_rng.Next(1, 500)}", $"/blog/{_rng.Next(1, 200)}", "/sitemap.xml"]);
            Emit(conn, t, "GET", path, null, 200, PageBytes(), Ua, profile, null, false, acceptLanguage: false);
            t += TimeSpan.FromSeconds(2 + (_rng.NextDouble() * 20));
        }
    }

    // ---- building blocks ----

    private sealed class Connection(IPAddress client, ushort port, ClientProfile profile, TlsClientHello hello, DateTimeOffset opened,
        string host)
    {
        public string Host { get; } = host;
        public IPAddress Client { get; } = client;
        public ushort Port { get; } = port;
        public ClientProfile Profile { get; } = profile;
        public TlsClientHello Hello { get; } = hello;
        public DateTimeOffset Opened { get; } = opened;
        public int Index { get; set; }
    }

    private Connection Connect(SimulatedClient client, ClientProfile profile, string host, bool noSni = false,
        DateTimeOffset? at = null)
    {
        var port = (ushort)_rng.Next(32768, 61000);
        var flow = FlowKey.Create(client.Address, port, Server, 443);
        var hello = new TlsClientHello(_start, flow, Transport.Tcp, noSni ? null : host, profile.Alpn, "1.3", 0x0303,
            profile.Ja4, "", "", "", profile.Ja3, "");
        return new Connection(client.Address, port, profile, hello, at ?? _start, host);
    }

    private void Emit(Connection conn, DateTimeOffset at, string method, string path, string? query, int status, long bytes,
        string? ua, ClientProfile stack, string? referer, bool cookie, bool acceptLanguage,
        IReadOnlyList<KeyValuePair<string, string>>? hintsOverride = null)
    {
        var host = conn.Host;
        var h2 = stack.OffersH2;
        var headers = new List<KeyValuePair<string, string>>();
        void Add(string k, string v) => headers.Add(new(k, v));
        if (!h2)
        {
            Add("Host", host);
        }
        var browserUa = ua is not null && ua.StartsWith("Mozilla/", StringComparison.Ordinal) && !ua.Contains("Googlebot", StringComparison.Ordinal);
        if (browserUa && stack.Family == Rules.ClientFamily.Chromium && ua!.Contains("Chrome/", StringComparison.Ordinal))
        {
            foreach (var kv in ChromeHints(ua))
            {
                headers.Add(kv);
            }
        }
        else if (hintsOverride is not null)
        {
            headers.AddRange(hintsOverride);
        }
        if (!string.IsNullOrEmpty(ua))
        {
            Add("User-Agent", ua);
        }
        Add("Accept", path.StartsWith("/static", StringComparison.Ordinal) || path.StartsWith("/img", StringComparison.Ordinal)
            ? "*/*" : "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        if (acceptLanguage)
        {
            Add("Accept-Language", "en-US,en;q=0.9");
        }
        if (browserUa)
        {
            Add("Accept-Encoding", "gzip, deflate, br");
        }
        if (referer is not null)
        {
            Add("Referer", referer);
        }
        if (cookie)
        {
            Add("Cookie", "sid=" + Convert.ToHexStringLower(conn.Client.GetAddressBytes()));
        }
        var names = string.Join(",", headers.Select(h => h.Key.ToLowerInvariant()));
        var request = new HttpRequest
        {
            Timestamp = at,
            Flow = conn.Hello.Flow,
            Method = method,
            Path = path,
            Query = query,
            Protocol = h2 ? "HTTP/2.0" : "HTTP/1.1",
            Host = host,
            Headers = headers,
            Status = status,
            BytesSent = bytes,
            DurationMicros = _rng.Next(300, 40_000),
            ConnectionId = conn.Port,
            KeepAliveIndex = conn.Index++,
            TlsProtocol = "TLSv1.3",
            TlsSni = conn.Hello.Sni,
            HeaderSignature = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(names)))[..12],
            HeaderSignatureRaw = names,
        };
        _requests.Add(new CorrelatedRequest(request, conn.Hello with { Timestamp = at }, MatchStatus.Matched, at));
    }

    private SimulatedClient NewClient(TrafficKind kind, string description, int actor = 0, IPAddress? address = null)
    {
        while (address is null || _clients.ContainsKey(address))
        {
            address = new IPAddress([(byte)_rng.Next(11, 223), (byte)_rng.Next(0, 256), (byte)_rng.Next(0, 256), (byte)_rng.Next(1, 255)]);
            if (address.GetAddressBytes()[0] is 66 or 127 or 192 or 198 or 203 or 100 or 172)
            {
                address = null;
            }
        }
        var client = new SimulatedClient(address, kind, actor == 0 ? ++_actor : actor, description);
        _clients[address] = client;
        return client;
    }

    private string BrowserUserAgent(ClientProfile browser)
    {
        var platform = Pick(["Windows", "Windows", "macOS", "Linux", "Android"]);
        return browser.Family == Rules.ClientFamily.Firefox
            ? FirefoxUserAgent(_rng.Next(128, 134), platform == "Android" ? "Windows" : platform)
            : ChromeUserAgent(_rng.Next(126, 132), platform);
    }

    internal static string ChromeUserAgent(int version, string platform) => platform switch
    {
        "Windows" => $"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Safari/537.36",
        "macOS" => $"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Safari/537.36",
        "Android" => $"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Mobile Safari/537.36",
        _ => $"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Safari/537.36",
    };

    internal static string FirefoxUserAgent(int version, string platform) => platform switch
    {
        "Windows" => $"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{version}.0) Gecko/20100101 Firefox/{version}.0",
        "macOS" => $"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:{version}.0) Gecko/20100101 Firefox/{version}.0",
        _ => $"Mozilla/5.0 (X11; Linux x86_64; rv:{version}.0) Gecko/20100101 Firefox/{version}.0",
    };

    internal static string SafariUserAgent() =>
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";

    /// <summary>The client hints Chrome sends with the given User-Agent.</summary>
    internal static IReadOnlyList<KeyValuePair<string, string>> ChromeHints(string ua)
    {
        var info = Rules.UserAgentParser.Parse(ua);
        var v = info.MajorVersion.ToString(CultureInfo.InvariantCulture);
        return
        [
            new("Sec-CH-UA", $"\"Google Chrome\";v=\"{v}\", \"Chromium\";v=\"{v}\", \"Not_A Brand\";v=\"24\""),
            new("Sec-CH-UA-Mobile", info.Mobile ? "?1" : "?0"),
            new("Sec-CH-UA-Platform", $"\"{info.Platform}\""),
        ];
    }

    private static string? PageQuery(string page) => page == "/search" ? "q=shoes" : null;

    private (string Path, long Bytes) Asset(string page, int index) => index switch
    {
        0 => ("/static/app.3f9a.css", 31_000),
        1 => ("/static/app.8c21.js", 182_000),
        2 => ("/static/vendor.11b0.js", 298_000),
        3 => ("/fonts/inter.woff2", 48_000),
        4 => ("/favicon.ico", 4_200),
        _ => ($"/img/{page.Length}{page[^1]}-{index}.jpg", _rng.Next(8_000, 220_000)),
    };

    private string NextPage(string page)
    {
        var r = _rng.NextDouble();
        return r switch
        {
            < 0.45 => $"/product/{_rng.Next(1, 500)}",
            < 0.6 => $"/category/{_rng.Next(1, 30)}",
            < 0.7 => "/search",
            < 0.8 => $"/blog/{_rng.Next(1, 200)}",
            < 0.88 => "/cart",
            < 0.93 => "/login",
            _ => page == "/" ? "/about" : "/",
        };
    }

    private long PageBytes() => _rng.Next(18_000, 90_000);

    private DateTimeOffset RandomStart(double within) =>
        _start + TimeSpan.FromSeconds(_rng.NextDouble() * within * _mix.Duration.TotalSeconds);

    private TimeSpan LogNormal(double medianSeconds, double sigma)
    {
        // Box–Muller normal, then exp: think times are log-normal (long right tail).
        var u1 = 1.0 - _rng.NextDouble();
        var u2 = _rng.NextDouble();
        var z = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        return TimeSpan.FromSeconds(Math.Min(1800, medianSeconds * Math.Exp(sigma * z)));
    }

    private int Geometric(double p)
    {
        var n = 0;
        while (_rng.NextDouble() > p && n < 60)
        {
            n++;
        }
        return n;
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_rng.Next(items.Count)];
}
