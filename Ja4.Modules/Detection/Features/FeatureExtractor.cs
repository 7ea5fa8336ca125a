using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection.Model;

namespace Ja4.Modules.Detection.Features;

/// <summary>The unit that is judged: one client address with one JA4 on one host.</summary>
public readonly record struct EntityKey(string ClientIp, string Ja4, string Host)
{
    public override string ToString() => $"{ClientIp} {(Ja4.Length == 0 ? "(no TLS)" : Ja4)} {Host}";
}

/// <summary>What the rules, campaigns and explanations need to know about an entity besides its features.</summary>
public sealed class EntityProfile
{
    public required EntityKey Key { get; init; }
    public required IPAddress Address { get; init; }
    public int Requests { get; internal set; }
    public DateTimeOffset FirstSeen { get; internal set; }
    public DateTimeOffset LastSeen { get; internal set; }
    /// <summary>User-Agents and how many requests carried each.</summary>
    public Dictionary<string, int> UserAgents { get; } = new(StringComparer.Ordinal);
    /// <summary>Requests that sent client hints, with the first such request's values.</summary>
    public int HintRequests { get; internal set; }
    public string? SecChUa { get; internal set; }
    public string? SecChUaMobile { get; internal set; }
    public string? SecChUaPlatform { get; internal set; }
    /// <summary>User-Agent of the request that carried those hints.</summary>
    public string? HintUserAgent { get; internal set; }
    /// <summary>ALPN offered by the entity's handshake (empty when none was seen).</summary>
    public IReadOnlyList<string> Alpn { get; internal set; } = [];
    public bool HasHandshake { get; internal set; }
    public Transport Transport { get; internal set; }
    /// <summary>The first paths requested, digits replaced by {n}, in order (campaign matching).</summary>
    public List<string> PathTemplates { get; } = [];
    /// <summary>Mean seconds between consecutive requests (0 with fewer than two).</summary>
    public double MeanGapSeconds { get; internal set; }
}

/// <summary>Features of every entity seen in a window, one matrix row per entity.</summary>
public sealed record WindowFeatures(IReadOnlyList<EntityProfile> Entities, FeatureMatrix Matrix, DateTimeOffset Start,
    DateTimeOffset End);

/// <summary>
/// Computes <see cref="FeatureSchema"/> in memory from correlated requests. Pure: no I/O, no clock.
/// </summary>
public static class FeatureExtractor
{
    /// <summary>How many leading path templates an entity keeps for campaign matching.</summary>
    public const int TemplateCount = 8;

    public static WindowFeatures Compute(IEnumerable<CorrelatedRequest> requests, DateTimeOffset start, DateTimeOffset end)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var index = new Dictionary<EntityKey, int>();
        var acc = new List<Accumulator>();
        var ipText = new Dictionary<IPAddress, string>();
        var ja4Stats = new Dictionary<string, Ja4Stats>(StringComparer.Ordinal);
        var ipJa4s = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var signatures = new Dictionary<string, int>(StringComparer.Ordinal);
        var hosts = new Dictionary<string, string>(StringComparer.Ordinal);
        var total = 0;

        foreach (var cr in requests)
        {
            var r = cr.Request;
            if (r.Timestamp < start || r.Timestamp >= end)
            {
                continue;
            }
            total++;
            if (!ipText.TryGetValue(r.Flow.ClientIp, out var ip))
            {
                ip = r.Flow.ClientIp.ToString();
                ipText[r.Flow.ClientIp] = ip;
            }
            var hello = cr.Handshake;
            var ja4 = hello?.Ja4 ?? "";
            var rawHost = r.Host ?? r.TlsSni ?? "";
            if (!hosts.TryGetValue(rawHost, out var host))
            {
                host = HostOnly(rawHost);
                hosts[rawHost] = host;
            }
            var key = new EntityKey(ip, ja4, host);
            if (!index.TryGetValue(key, out var e))
            {
                e = acc.Count;
                index[key] = e;
                acc.Add(new Accumulator(new EntityProfile { Key = key, Address = r.Flow.ClientIp, FirstSeen = r.Timestamp, LastSeen = r.Timestamp }));
            }
            var a = acc[e];
            var browserLike = a.Add(r, hello, host);

            if (!ja4Stats.TryGetValue(ja4, out var js))
            {
                js = new Ja4Stats();
                ja4Stats[ja4] = js;
            }
            js.Requests++;
            js.Ips.Add(ip);
            js.Hosts.Add(host);
            js.Paths.Add(r.Path);
            if (browserLike)
            {
                js.BrowserLike++;
            }
            if (!ipJa4s.TryGetValue(ip, out var set))
            {
                set = new HashSet<string>(StringComparer.Ordinal);
                ipJa4s[ip] = set;
            }
            set.Add(ja4);
            CollectionsMarshal.GetValueRefOrAddDefault(signatures, r.HeaderSignature ?? "", out _)++;
        }

        var rank = ja4Stats.OrderByDescending(kv => kv.Value.Requests).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select((kv, i) => (kv.Key, i)).ToDictionary(x => x.Key, x => x.i, StringComparer.Ordinal);
        var rankScale = Math.Max(1, ja4Stats.Count - 1);
        var windowMinutes = Math.Max(1e-9, (end - start).TotalMinutes);
        var matrix = new FeatureMatrix(acc.Count, FeatureSchema.All.Count);
        var profiles = new EntityProfile[acc.Count];
        for (var i = 0; i < acc.Count; i++)
        {
            var a = acc[i];
            var p = a.Profile;
            profiles[i] = p;
            var js = ja4Stats[p.Key.Ja4];
            var row = matrix.Row(i);
            var n = (double)p.Requests;
            var (gapMean, gapCv) = a.Gaps(end - start);
            p.MeanGapSeconds = p.Requests > 1 ? gapMean : 0;
            var topSig = a.TopSignature();
            row[0] = Ln1p(n / windowMinutes);
            row[1] = Ln1p(a.Paths.Count);
            row[2] = (float)Entropy(a.Paths.Values, n);
            row[3] = (float)(a.Static / n);
            row[4] = (float)(a.Status4xx / n);
            row[5] = (float)(a.Status5xx / n);
            row[6] = (float)(a.Status401403 / n);
            row[7] = (float)(a.NonGet / n);
            row[8] = Ln1p(a.Bytes / n);
            row[9] = Ln1p(gapMean);
            row[10] = (float)gapCv;
            row[11] = (float)(a.NoReferer / n);
            row[12] = (float)(a.NoAcceptLanguage / n);
            row[13] = (float)(a.NoCookie / n);
            row[14] = p.UserAgents.Count;
            row[15] = ipJa4s[p.Key.ClientIp].Count;
            row[16] = Ln1p(js.Ips.Count);
            row[17] = a.TlsVersion;
            row[18] = (float)(a.AlpnMismatch / n);
            row[19] = (float)(a.SniMismatch / n);
            row[20] = (float)-Math.Log10((double)signatures.GetValueOrDefault(topSig, 1) / Math.Max(1, total));
            row[21] = (float)((double)js.BrowserLike / js.Requests);
            row[22] = (float)rank[p.Key.Ja4] / rankScale;
            row[23] = Ln1p(js.Hosts.Count);
            row[24] = Ln1p(js.Paths.Count);
        }
        return new WindowFeatures(profiles, matrix, start, end);
    }

    private static float Ln1p(double x) => (float)Math.Log(1 + Math.Max(0, x));

    /// <summary>Shannon entropy in bits of a frequency distribution.</summary>
    internal static double Entropy(IEnumerable<int> counts, double total)
    {
        double h = 0;
        foreach (var c in counts)
        {
            var q = c / total;
            h -= q * Math.Log2(q);
        }
        return h;
    }

    /// <summary>Host header without port, lower case.</summary>
    internal static string HostOnly(string host)
    {
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            return close > 0 ? host[..(close + 1)].ToLowerInvariant() : host.ToLowerInvariant();
        }
        var colon = host.LastIndexOf(':');
        return (colon > 0 && host.IndexOf(':', StringComparison.Ordinal) == colon ? host[..colon] : host).ToLowerInvariant();
    }

    /// <summary>A path with every run of digits replaced by {n}: /product/17 → /product/{n}.</summary>
    public static string Template(string path)
    {
        var sb = new StringBuilder(path.Length);
        var inDigits = false;
        foreach (var c in path)
        {
            if (char.IsAsciiDigit(c))
            {
                if (!inDigits)
                {
                    sb.Append("{n}");
                }
                inDigits = true;
            }
            else
            {
                sb.Append(c);
                inDigits = false;
            }
        }
        return sb.ToString();
    }

    private sealed class Ja4Stats
    {
        public int Requests;
        public int BrowserLike;
        public readonly HashSet<string> Ips = new(StringComparer.Ordinal);
        public readonly HashSet<string> Hosts = new(StringComparer.Ordinal);
        public readonly HashSet<string> Paths = new(StringComparer.Ordinal);
    }

    private sealed class Accumulator(EntityProfile profile)
    {
        public EntityProfile Profile { get; } = profile;
        public readonly Dictionary<string, int> Paths = new(StringComparer.Ordinal);
        public readonly Dictionary<string, int> Signatures = new(StringComparer.Ordinal);
        private readonly List<long> _times = [];
        public int Static, Status4xx, Status5xx, Status401403, NonGet, NoReferer, NoAcceptLanguage, NoCookie;
        public int AlpnMismatch, SniMismatch;
        public double Bytes;
        public float TlsVersion;

        /// <summary>Adds one request; returns whether it looks like a browser's (Accept-Language and Referer or Cookie).</summary>
        public bool Add(HttpRequest r, TlsClientHello? hello, string host)
        {
            var p = Profile;
            p.Requests++;
            if (r.Timestamp < p.FirstSeen)
            {
                p.FirstSeen = r.Timestamp;
            }
            if (r.Timestamp > p.LastSeen)
            {
                p.LastSeen = r.Timestamp;
            }
            _times.Add(r.Timestamp.UtcTicks);
            CollectionsMarshal.GetValueRefOrAddDefault(Paths, r.Path, out _)++;
            CollectionsMarshal.GetValueRefOrAddDefault(Signatures, r.HeaderSignature ?? "", out _)++;
            if (FeatureSchema.IsStatic(r.Path))
            {
                Static++;
            }
            else if (p.PathTemplates.Count < TemplateCount)
            {
                p.PathTemplates.Add(r.Method + " " + Template(r.Path));
            }
            if (r.Status is >= 400 and < 500)
            {
                Status4xx++;
            }
            if (r.Status is >= 500 and < 600)
            {
                Status5xx++;
            }
            if (r.Status is 401 or 403)
            {
                Status401403++;
            }
            if (r.Method is not ("GET" or "HEAD"))
            {
                NonGet++;
            }
            Bytes += Math.Max(0, r.BytesSent);
            string? ua = null, referer = null, language = null, cookie = null, chUa = null, chMobile = null, chPlatform = null;
            foreach (var (name, value) in r.Headers)
            {
                if (Is(name, "user-agent"))
                {
                    ua ??= value;
                }
                else if (Is(name, "referer"))
                {
                    referer ??= value;
                }
                else if (Is(name, "accept-language"))
                {
                    language ??= value;
                }
                else if (Is(name, "cookie"))
                {
                    cookie ??= value;
                }
                else if (Is(name, "sec-ch-ua"))
                {
                    chUa ??= value;
                }
                else if (Is(name, "sec-ch-ua-mobile"))
                {
                    chMobile ??= value;
                }
                else if (Is(name, "sec-ch-ua-platform"))
                {
                    chPlatform ??= value;
                }
            }
            if (referer is null)
            {
                NoReferer++;
            }
            if (language is null)
            {
                NoAcceptLanguage++;
            }
            if (cookie is null)
            {
                NoCookie++;
            }
            CollectionsMarshal.GetValueRefOrAddDefault(p.UserAgents, ua ?? "", out _)++;
            if (chUa is not null || chMobile is not null || chPlatform is not null)
            {
                p.HintRequests++;
                if (p.HintRequests == 1)
                {
                    p.SecChUa = chUa;
                    p.SecChUaMobile = chMobile;
                    p.SecChUaPlatform = chPlatform;
                    p.HintUserAgent = ua;
                }
            }
            if (hello is not null)
            {
                p.HasHandshake = true;
                p.Alpn = hello.Alpn;
                p.Transport = hello.Transport;
                TlsVersion = hello.TlsVersion switch { "1.3" => 13, "1.2" => 12, "1.1" => 11, "1.0" => 10, _ => 0 };
                if (hello.Transport == Transport.Tcp)
                {
                    var offeredH2 = hello.Alpn.Contains("h2");
                    var usedH2 = r.Protocol.StartsWith("HTTP/2", StringComparison.Ordinal);
                    if (offeredH2 != usedH2)
                    {
                        AlpnMismatch++;
                    }
                }
                if (hello.Sni is null || !string.Equals(hello.Sni, host, StringComparison.OrdinalIgnoreCase))
                {
                    SniMismatch++;
                }
            }
            return language is not null && (referer is not null || cookie is not null);
        }

        /// <summary>The most frequent header signature; a tie goes to the smallest (ordinal), as in <see cref="FeatureSql"/>.</summary>
        public string TopSignature()
        {
            var top = "";
            var count = -1;
            foreach (var (sig, n) in Signatures)
            {
                if (n > count || (n == count && string.CompareOrdinal(sig, top) < 0))
                {
                    top = sig;
                    count = n;
                }
            }
            return top;
        }

        private static bool Is(string name, string lower) =>
            name.Length == lower.Length && string.Equals(name, lower, StringComparison.OrdinalIgnoreCase);

        /// <summary>Mean and coefficient of variation of the gaps between consecutive requests.</summary>
        public (double Mean, double Cv) Gaps(TimeSpan window)
        {
            if (_times.Count < 2)
            {
                return (window.TotalSeconds, 1.0);
            }
            _times.Sort();
            double sum = 0, sumSq = 0;
            for (var i = 1; i < _times.Count; i++)
            {
                var g = (_times[i] - _times[i - 1]) / (double)TimeSpan.TicksPerSecond;
                sum += g;
                sumSq += g * g;
            }
            var k = _times.Count - 1;
            var mean = sum / k;
            if (k < 2 || mean <= 0)
            {
                return (mean, 1.0);
            }
            var variance = Math.Max(0, (sumSq / k) - (mean * mean));
            return (mean, Math.Sqrt(variance) / mean);
        }
    }
}
