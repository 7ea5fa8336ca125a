using System.Text.RegularExpressions;

namespace Ja4.Modules.Detection.Rules;

/// <summary>TLS stack family of a browser: what its ClientHello looks like, whatever its name.</summary>
public enum ClientFamily : byte
{
    Unknown = 0,
    /// <summary>Chrome, Chromium, Edge, Opera, Brave, Googlebot's renderer: BoringSSL.</summary>
    Chromium = 1,
    /// <summary>Firefox on desktop and Android: NSS.</summary>
    Firefox = 2,
    /// <summary>Safari and every iOS browser (CriOS, FxiOS use Apple's stack).</summary>
    Safari = 3,
    /// <summary>An HTTP library or command-line tool (curl, Python, Go, Java, Node, .NET, wget).</summary>
    Library = 4,
}

/// <summary>What a User-Agent header claims.</summary>
public sealed record UserAgentInfo(
    string Raw,
    ClientFamily Family,
    string Browser,
    int MajorVersion,
    bool Mobile,
    string Platform,
    string? Crawler)
{
    public bool ClaimsBrowser => Family is ClientFamily.Chromium or ClientFamily.Firefox or ClientFamily.Safari && Crawler is null;
}

/// <summary>Parses the claims of a User-Agent string: browser family and version, platform, declared crawler.</summary>
public static partial class UserAgentParser
{
    /// <summary>Declared crawlers and the reverse-DNS domains that their operators publish for them.</summary>
    public static readonly IReadOnlyList<DeclaredCrawler> Crawlers =
    [
        new("Googlebot", ["googlebot", "google-inspectiontool", "googleother", "adsbot-google", "mediapartners-google"],
            ["googlebot.com", "google.com", "googleusercontent.com"]),
        new("Bingbot", ["bingbot", "adidxbot", "bingpreview"], ["search.msn.com"]),
        new("Applebot", ["applebot"], ["applebot.apple.com"]),
        new("DuckDuckBot", ["duckduckbot"], ["duckduckgo.com"]),
        new("YandexBot", ["yandexbot", "yandeximages"], ["yandex.ru", "yandex.net", "yandex.com"]),
        new("Baiduspider", ["baiduspider"], ["baidu.com", "baidu.jp"]),
    ];

    private static readonly (string Token, string Name)[] Libraries =
    [
        ("curl/", "curl"), ("wget/", "Wget"), ("python-requests", "python-requests"), ("python-urllib", "Python urllib"),
        ("python-httpx", "httpx"), ("aiohttp", "aiohttp"), ("go-http-client", "Go net/http"), ("java/", "Java"),
        ("java-http-client", "Java HttpClient"), ("okhttp", "OkHttp"), ("apache-httpclient", "Apache HttpClient"),
        ("node-fetch", "node-fetch"), ("axios", "axios"), ("undici", "undici"), ("libwww-perl", "libwww-perl"),
        ("scrapy", "Scrapy"), ("httpie", "HTTPie"), ("powershell", "PowerShell"), ("guzzlehttp", "Guzzle"),
    ];

    public static UserAgentInfo Parse(string? ua)
    {
        if (string.IsNullOrWhiteSpace(ua))
        {
            return new UserAgentInfo("", ClientFamily.Unknown, "", 0, false, "", null);
        }
        var lower = ua.ToLowerInvariant();
        var mobile = lower.Contains("mobile", StringComparison.Ordinal) || lower.Contains("android", StringComparison.Ordinal);
        var platform = PlatformOf(lower);
        foreach (var c in Crawlers)
        {
            if (c.Tokens.Any(t => lower.Contains(t, StringComparison.Ordinal)))
            {
                return new UserAgentInfo(ua, ClientFamily.Unknown, c.Name, 0, mobile, platform, c.Name);
            }
        }
        foreach (var (token, name) in Libraries)
        {
            if (lower.Contains(token, StringComparison.Ordinal) && !lower.StartsWith("mozilla/", StringComparison.Ordinal))
            {
                return new UserAgentInfo(ua, ClientFamily.Library, name, 0, false, platform, null);
            }
        }
        if (!lower.StartsWith("mozilla/", StringComparison.Ordinal))
        {
            return new UserAgentInfo(ua, ClientFamily.Unknown, "", 0, mobile, platform, null);
        }
        // iOS browsers all run on Apple's TLS stack, whatever brand they show.
        if (platform == "iOS" && (Version(CriOs(), ua) is var (b, v)))
        {
            return new UserAgentInfo(ua, ClientFamily.Safari, b, v, mobile, platform, null);
        }
        if (Version(Edge(), ua) is var (eb, ev))
        {
            return new UserAgentInfo(ua, ClientFamily.Chromium, eb, ev, mobile, platform, null);
        }
        if (Version(Chrome(), ua) is var (cb, cv))
        {
            return new UserAgentInfo(ua, ClientFamily.Chromium, cb, cv, mobile, platform, null);
        }
        if (Version(Firefox(), ua) is var (fb, fv))
        {
            return new UserAgentInfo(ua, ClientFamily.Firefox, fb, fv, mobile, platform, null);
        }
        if (lower.Contains("safari/", StringComparison.Ordinal) && Version(SafariVersion(), ua) is var (_, sv))
        {
            return new UserAgentInfo(ua, ClientFamily.Safari, "Safari", sv, mobile, platform, null);
        }
        return new UserAgentInfo(ua, ClientFamily.Unknown, "", 0, mobile, platform, null);
    }

    private static (string, int)? Version(Regex regex, string ua)
    {
        var m = regex.Match(ua);
        if (!m.Success)
        {
            return null;
        }
        _ = int.TryParse(m.Groups["v"].ValueSpan, System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var v);
        return (m.Groups["b"].Value, v);
    }

    private static string PlatformOf(string lower) =>
        lower.Contains("iphone", StringComparison.Ordinal) || lower.Contains("ipad", StringComparison.Ordinal) ? "iOS"
        : lower.Contains("android", StringComparison.Ordinal) ? "Android"
        : lower.Contains("windows", StringComparison.Ordinal) ? "Windows"
        : lower.Contains("cros", StringComparison.Ordinal) ? "Chrome OS"
        : lower.Contains("macintosh", StringComparison.Ordinal) || lower.Contains("mac os x", StringComparison.Ordinal) ? "macOS"
        : lower.Contains("linux", StringComparison.Ordinal) ? "Linux"
        : "";

    [GeneratedRegex(@"(?<b>CriOS|FxiOS|EdgiOS|Version)/(?<v>\d+)")]
    private static partial Regex CriOs();

    [GeneratedRegex(@"(?<b>Edg|EdgA|OPR|YaBrowser|SamsungBrowser)/(?<v>\d+)")]
    private static partial Regex Edge();

    [GeneratedRegex(@"(?<b>HeadlessChrome|Chrome|Chromium)/(?<v>\d+)")]
    private static partial Regex Chrome();

    [GeneratedRegex(@"(?<b>Firefox)/(?<v>\d+)")]
    private static partial Regex Firefox();

    [GeneratedRegex(@"(?<b>Version)/(?<v>\d+)")]
    private static partial Regex SafariVersion();
}

/// <summary>A crawler that names itself in its User-Agent, with its operator's reverse-DNS domains.</summary>
public sealed record DeclaredCrawler(string Name, IReadOnlyList<string> Tokens, IReadOnlyList<string> Domains);
