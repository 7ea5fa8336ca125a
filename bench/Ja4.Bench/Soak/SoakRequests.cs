using System.Globalization;
using System.Text;

namespace Ja4.Bench.Soak;

/// <summary>
/// What the soak's simulated requests carry besides their connection: a web shop's traffic as
/// mod_reqin_log records it. Each client keeps one user agent (browsers on HTTP/2 with their own
/// header order, client hints, Referer and a redacted Cookie; scripts and crawlers on HTTP/1.1 with
/// a few headers); paths, query strings, statuses, sizes and durations vary per request, with
/// high-entropy values (product and image numbers, cart identifiers, click identifiers) where a
/// real site has them, so the store compresses and merges what a real site would give it rather
/// than a few repeated strings. Deterministic for a seed. Not thread-safe: one per generator thread.
/// </summary>
internal sealed class SoakRequests(int seed)
{
    private sealed record Profile(string UserAgent, bool Http2, bool Browser, string[] Headers);

    // Header orders as each client family sends them (HTTP/2 names in lower case); Host stands for :authority.
    private static readonly Profile[] Profiles =
    [
        new("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", true, true,
            ["host", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "upgrade-insecure-requests", "user-agent", "accept",
             "sec-fetch-site", "sec-fetch-mode", "sec-fetch-user", "sec-fetch-dest", "referer", "accept-encoding", "accept-language",
             "cookie", "priority"]),
        new("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.104 Mobile Safari/537.36", true, true,
            ["host", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "upgrade-insecure-requests", "user-agent", "accept",
             "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "referer", "accept-encoding", "accept-language", "cookie"]),
        new("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", true, true,
            ["host", "user-agent", "accept", "accept-language", "accept-encoding", "referer", "cookie", "upgrade-insecure-requests",
             "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "priority", "te"]),
        new("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", true, true,
            ["host", "accept", "sec-fetch-site", "cookie", "sec-fetch-dest", "accept-language", "sec-fetch-mode", "user-agent",
             "referer", "accept-encoding"]),
        new("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", true, true,
            ["host", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "upgrade-insecure-requests", "user-agent", "accept",
             "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "referer", "accept-encoding", "accept-language", "cookie"]),
        new("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", false, false,
            ["Host", "Connection", "Accept", "From", "User-Agent", "Accept-Encoding"]),
        new("curl/7.88.1", false, false, ["Host", "User-Agent", "Accept"]),
        new("python-requests/2.31.0", false, false, ["Host", "User-Agent", "Accept-Encoding", "Accept", "Connection"]),
    ];

    // The header names as the value switch below knows them (lower case), computed once rather than per request.
    private static readonly string[][] KnownNames = [.. Profiles.Select(p => p.Headers.Select(h => h.ToLowerInvariant()).ToArray())];

    private static readonly string[] Words =
    [
        "shoes", "jacket", "lamp", "chair", "table", "phone", "case", "cable", "charger", "watch", "bag", "shirt", "dress", "coffee",
        "kettle", "desk", "monitor", "keyboard", "mouse", "headphones", "speaker", "camera", "lens", "tripod", "backpack", "bottle",
        "tent", "stove", "knife", "pan", "rug", "pillow", "blanket", "mirror", "clock", "vase", "plant", "pot", "book", "pen",
    ];

    private static readonly string[] Languages =
    [
        "en-US,en;q=0.9", "en-GB,en;q=0.9", "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7",
        "es-ES,es;q=0.9", "nl-NL,nl;q=0.9,en;q=0.8", "pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7", "ja,en-US;q=0.9,en;q=0.8",
    ];

    private static readonly string[] Probes =
    [
        "/wp-login.php", "/.env", "/.git/config", "/xmlrpc.php", "/phpmyadmin/index.php", "/admin/config.php", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
        "/cgi-bin/luci/;stok=/locale", "/server-status", "/actuator/env",
    ];

    private const string Base64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    private const string Hex = "0123456789abcdef";

    // One release's static files: a stylesheet and a script per word (at 2i and 2i + 1), each name with its content hash.
    private static readonly string[] Assets =
    [
        .. Words.SelectMany((w, i) => new[] { ("css/", ".css"), ("js/", ".js") }.Select((kind, k) =>
            "/static/" + kind.Item1 + w + "." + ((uint)(i * 2 + k + 1) * 2654435761u).ToString("x8", CultureInfo.InvariantCulture) + kind.Item2)),
    ];

    private readonly Random _random = new(seed);
    private readonly StringBuilder _path = new(256);
    private readonly StringBuilder _query = new(256);

    /// <summary>
    /// Appends the request's fields after its connection's (a JSON object's members, from <c>"method"</c> to
    /// <c>"headers"</c>, without braces). <paramref name="client"/> picks the client's user agent.
    /// </summary>
    public void Append(StringBuilder json, long client, string host, long connectionRequests)
    {
        var index = (int)(client % Profiles.Length);
        var profile = Profiles[index];
        var post = NextPathAndQuery(profile.Browser, client);
        var status = NextStatus();
        var asset = _path.Length > 7 && (_path[1] == 's' || _path[1] == 'i');
        json.Append(",\"method\":\"").Append(post ? "POST" : "GET")
            .Append("\",\"path\":\"").Append(_path).Append("\",\"query\":\"").Append(_query)
            .Append("\",\"protocol\":\"").Append(profile.Http2 ? "HTTP/2.0" : "HTTP/1.1")
            .Append("\",\"status\":").Append(status.ToString(CultureInfo.InvariantCulture))
            .Append(",\"bytes_sent\":").Append((status == 304 ? 0 : asset ? _random.Next(2_000, 400_000) : _random.Next(300, 60_000)).ToString(CultureInfo.InvariantCulture))
            .Append(",\"duration_us\":").Append(((long)Math.Exp(_random.NextDouble() * 9 + 4.5)).ToString(CultureInfo.InvariantCulture))
            .Append(",\"keepalive_index\":").Append(connectionRequests.ToString(CultureInfo.InvariantCulture))
            .Append(",\"headers\":[");
        for (var i = 0; i < profile.Headers.Length; i++)
        {
            var name = profile.Headers[i];
            if (name == "referer" && _random.Next(10) < 3)
            {
                continue;
            }
            json.Append(i == 0 ? "[\"" : ",[\"").Append(name).Append("\",\"");
            AppendValue(json, KnownNames[index][i], profile, host, client, post);
            json.Append("\"]");
        }
        if (post)
        {
            json.Append(",[\"").Append(profile.Http2 ? "content-type" : "Content-Type").Append("\",\"application/json\"],[\"")
                .Append(profile.Http2 ? "content-length" : "Content-Length").Append("\",\"")
                .Append(_random.Next(20, 4_000).ToString(CultureInfo.InvariantCulture)).Append("\"]");
        }
        json.Append(']');
    }

    private void AppendValue(StringBuilder json, string name, Profile profile, string host, long client, bool post)
    {
        switch (name)
        {
            case "host":
                json.Append(host);
                break;
            case "user-agent":
                json.Append(profile.UserAgent);
                break;
            case "accept":
                json.Append(!profile.Browser ? "*/*" : post ? "application/json" : "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8");
                break;
            case "accept-language":
                json.Append(Languages[(int)(client / Profiles.Length % Languages.Length)]);
                break;
            case "accept-encoding":
                json.Append(profile.Browser ? "gzip, deflate, br, zstd" : "gzip, deflate");
                break;
            case "cookie":
                json.Append("[redacted]");
                break;
            case "referer":
                json.Append("https://").Append(host).Append('/').Append(Words[_random.Next(Words.Length)]).Append('/')
                    .Append(_random.Next(1, 200_000).ToString(CultureInfo.InvariantCulture));
                break;
            case "sec-ch-ua":
                json.Append("\\\"Google Chrome\\\";v=\\\"131\\\", \\\"Chromium\\\";v=\\\"131\\\", \\\"Not_A Brand\\\";v=\\\"24\\\"");
                break;
            case "sec-ch-ua-mobile":
                json.Append(profile.UserAgent.Contains("Mobile", StringComparison.Ordinal) ? "?1" : "?0");
                break;
            case "sec-ch-ua-platform":
                json.Append(profile.UserAgent.Contains("Android", StringComparison.Ordinal) ? "\\\"Android\\\"" : "\\\"Windows\\\"");
                break;
            case "sec-fetch-site":
                json.Append(_random.Next(4) == 0 ? "cross-site" : "same-origin");
                break;
            case "sec-fetch-mode":
                json.Append(post ? "cors" : "navigate");
                break;
            case "sec-fetch-dest":
                json.Append(post ? "empty" : "document");
                break;
            case "priority":
                json.Append("u=0, i");
                break;
            case "te":
                json.Append("trailers");
                break;
            case "from":
                json.Append("googlebot(at)googlebot.com");
                break;
            case "connection":
                json.Append("keep-alive");
                break;
            default:
                json.Append("?1");
                break;
        }
    }

    /// <summary>
    /// Fills the path and query buffers; true for a POST. As on a site: one release's asset names (a content hash per
    /// file), one slug per product, one cart per client.
    /// </summary>
    private bool NextPathAndQuery(bool browser, long client)
    {
        _path.Clear();
        _query.Clear();
        var kind = _random.Next(100);
        var wordIndex = _random.Next(Words.Length);
        var word = Words[wordIndex];
        if (kind < 25)
        {
            _path.Append(Assets[wordIndex * 2 + (_random.Next(2) == 0 ? 1 : 0)]);
        }
        else if (kind < 45)
        {
            _path.Append("/img/p/").Append(_random.Next(1, 200_000).ToString(CultureInfo.InvariantCulture)).Append('/')
                .Append((_random.Next(1, 5) * 320).ToString(CultureInfo.InvariantCulture)).Append(".webp");
        }
        else if (kind < 65)
        {
            var product = _random.Next(1, 200_000);
            _path.Append("/products/").Append(product.ToString(CultureInfo.InvariantCulture)).Append('-')
                .Append(Words[product % Words.Length]).Append('-').Append(Words[product / Words.Length % Words.Length]);
            if (browser && _random.Next(5) == 0)
            {
                _query.Append("utm_source=newsletter&utm_medium=email&utm_campaign=")
                    .Append(_random.Next(1, 5_000).ToString(CultureInfo.InvariantCulture)).Append("&fbclid=");
                AppendRandom(_query, Base64Url, 43);
            }
        }
        else if (kind < 77)
        {
            _path.Append("/category/").Append(word);
            _query.Append("page=").Append(_random.Next(1, 60).ToString(CultureInfo.InvariantCulture))
                .Append(_random.Next(2) == 0 ? "&sort=price_asc" : "&sort=newest");
        }
        else if (kind < 85)
        {
            _path.Append("/api/v1/search");
            _query.Append("q=").Append(word).Append('+').Append(Words[_random.Next(Words.Length)]).Append("&limit=24&offset=")
                .Append((_random.Next(0, 20) * 24).ToString(CultureInfo.InvariantCulture));
        }
        else if (kind < 93)
        {
            _path.Append("/api/v1/cart/");
            AppendHex(_path, unchecked((ulong)client * 0x9E3779B97F4A7C15UL));
            AppendHex(_path, unchecked((ulong)(client + 1) * 0xC2B2AE3D27D4EB4FUL));
            _path.Append("/items");
            return true;
        }
        else if (kind < 98)
        {
            _path.Append(_random.Next(4) switch { 0 => "/", 1 => "/login", 2 => "/robots.txt", _ => "/favicon.ico" });
        }
        else
        {
            _path.Append(Probes[_random.Next(Probes.Length)]);
        }
        return false;
    }

    private int NextStatus() => _random.Next(100) switch
    {
        < 80 => 200,
        < 88 => 304,
        < 94 => 404,
        < 97 => 302,
        < 98 => 403,
        < 99 => 500,
        _ => 301,
    };

    /// <summary>Appends <paramref name="value"/> as 16 lower-case hex digits, without a string per request.</summary>
    private static void AppendHex(StringBuilder sb, ulong value)
    {
        for (var shift = 60; shift >= 0; shift -= 4)
        {
            sb.Append(Hex[(int)(value >> shift) & 0xF]);
        }
    }

    private void AppendRandom(StringBuilder sb, string alphabet, int length)
    {
        for (var i = 0; i < length; i++)
        {
            sb.Append(alphabet[_random.Next(alphabet.Length)]);
        }
    }
}
