using System.Net;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection.Features;

namespace Ja4.Tests.Detection;

/// <summary>Feature definitions checked on small hand-built windows; expected values worked out by hand.</summary>
public sealed class FeatureTests
{
    internal static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly IPAddress Server = IPAddress.Parse("192.0.2.1");

    internal static CorrelatedRequest Request(string ip, double atSeconds, string path, int status = 200, string method = "GET",
        string? ja4 = "t13d1516h2_8daaf6152771_e5627efa2ab1", string host = "a.example", string? sni = "a.example",
        string protocol = "HTTP/2.0", IReadOnlyList<string>? alpn = null, long bytes = 1000, string? sig = "sig1",
        params (string Name, string Value)[] headers)
    {
        var flow = FlowKey.Create(IPAddress.Parse(ip), 40000, Server, 443);
        var at = T0 + TimeSpan.FromSeconds(atSeconds);
        var request = new HttpRequest
        {
            Timestamp = at,
            Flow = flow,
            Method = method,
            Path = path,
            Protocol = protocol,
            Host = host,
            Headers = headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value)).ToArray(),
            Status = status,
            BytesSent = bytes,
            HeaderSignature = sig,
        };
        var hello = ja4 is null
            ? null
            : new TlsClientHello(at, flow, Transport.Tcp, sni, alpn ?? ["h2", "http/1.1"], "1.3", 0x0303, ja4, "", "", "", "", "");
        return new CorrelatedRequest(request, hello, hello is null ? MatchStatus.PlainHttp : MatchStatus.Matched, at);
    }

    private static float F(WindowFeatures w, int row, string name) => w.Matrix[row, FeatureSchema.IndexOf(name)];

    [Fact]
    public void Counts_ratios_entropy_and_timing_of_one_entity()
    {
        (string, string)[] browser = [("User-Agent", "UA1"), ("Accept-Language", "en"), ("Referer", "https://a.example/")];
        CorrelatedRequest[] requests =
        [
            Request("198.51.100.7", 0, "/a", headers: browser),
            Request("198.51.100.7", 10, "/a", status: 404, headers: [("User-Agent", "UA1")]),
            Request("198.51.100.7", 20, "/b.css", status: 401, method: "POST", bytes: 3000, headers: [("User-Agent", "UA2"), ("Cookie", "x=1")]),
            Request("198.51.100.7", 60, "/b.css", status: 503, headers: browser),
        ];
        var w = FeatureExtractor.Compute(requests, T0, T0 + TimeSpan.FromMinutes(10));
        Assert.Single(w.Entities);
        // 4 requests in a 10-minute window: 0.4 per minute, stored as ln(1.4).
        Assert.Equal(Math.Log(1.4), F(w, 0, "log_request_rate"), 5);
        Assert.Equal(Math.Log(3), F(w, 0, "log_distinct_paths"), 5);
        // Two paths, two requests each: exactly 1 bit.
        Assert.Equal(1.0, F(w, 0, "path_entropy"), 5);
        Assert.Equal(0.5, F(w, 0, "static_ratio"), 5);
        Assert.Equal(0.5, F(w, 0, "status_4xx_ratio"), 5);
        Assert.Equal(0.25, F(w, 0, "status_5xx_ratio"), 5);
        Assert.Equal(0.25, F(w, 0, "status_401_403_ratio"), 5);
        Assert.Equal(0.25, F(w, 0, "non_get_ratio"), 5);
        Assert.Equal(Math.Log(1 + 1500), F(w, 0, "log_mean_bytes"), 4);
        // Gaps 10, 10, 40: mean 20, population standard deviation sqrt((100 + 100 + 400) / 3) = sqrt(200).
        Assert.Equal(Math.Log(21), F(w, 0, "log_interarrival_mean"), 5);
        Assert.Equal(Math.Sqrt(200) / 20, F(w, 0, "interarrival_cv"), 5);
        Assert.Equal(0.5, F(w, 0, "no_referer_ratio"), 5);
        Assert.Equal(0.5, F(w, 0, "no_accept_language_ratio"), 5);
        Assert.Equal(0.75, F(w, 0, "no_cookie_ratio"), 5);
        Assert.Equal(2, F(w, 0, "distinct_user_agents"));
        Assert.Equal(13, F(w, 0, "tls_version"));
        Assert.Equal(0, F(w, 0, "alpn_mismatch_ratio"));
        Assert.Equal(0, F(w, 0, "sni_mismatch_ratio"));
        Assert.Equal(0, F(w, 0, "header_signature_rarity"));
        // Browser-like = Accept-Language and (Referer or Cookie): requests 1 and 4.
        Assert.Equal(0.5, F(w, 0, "ja4_browser_share"), 5);
        Assert.Equal(0, F(w, 0, "ja4_volume_rank"));
        var e = w.Entities[0];
        Assert.Equal(new EntityKey("198.51.100.7", "t13d1516h2_8daaf6152771_e5627efa2ab1", "a.example"), e.Key);
        Assert.Equal(["GET /a", "GET /a"], e.PathTemplates);
        Assert.Equal(20, e.MeanGapSeconds, 6);
    }

    [Fact]
    public void Window_bounds_entities_rotation_fleet_rank_and_tls_mismatches()
    {
        const string Lib = "t13d311100_e8f1e7e78f70_d41ae481755e";
        CorrelatedRequest[] requests =
        [
            Request("198.51.100.1", -1, "/before-the-window"),
            Request("198.51.100.1", 1, "/x"),
            Request("198.51.100.2", 2, "/x"),
            Request("198.51.100.3", 3, "/y", ja4: Lib, protocol: "HTTP/1.1", alpn: [], sni: null, sig: "rare"),
            Request("198.51.100.3", 4, "/y", ja4: "t13d1715h2_5b57614c22b0_3d5424432f57", protocol: "HTTP/1.1", host: "b.example:8443"),
            Request("198.51.100.4", 5, "/plain", ja4: null, protocol: "HTTP/1.1"),
            Request("198.51.100.1", 600, "/after-the-window"),
        ];
        var w = FeatureExtractor.Compute(requests, T0, T0 + TimeSpan.FromMinutes(10));
        Assert.Equal(5, w.Entities.Count);
        int Row(string ip, string ja4) => w.Entities.Select((e, i) => (e, i)).Single(x => x.e.Key.ClientIp == ip && x.e.Key.Ja4 == ja4).i;
        var chrome = "t13d1516h2_8daaf6152771_e5627efa2ab1";
        var r1 = Row("198.51.100.1", chrome);
        var r3 = Row("198.51.100.3", Lib);
        var r3b = Row("198.51.100.3", "t13d1715h2_5b57614c22b0_3d5424432f57");
        var plain = Row("198.51.100.4", "");
        Assert.Equal(1, w.Entities[r1].Requests);
        Assert.Equal(2, F(w, r3, "ja4s_per_ip"));
        Assert.Equal(1, F(w, r1, "ja4s_per_ip"));
        Assert.Equal(Math.Log(3), F(w, r1, "log_ips_per_ja4"), 5);
        // Chrome's JA4 has 2 requests, the other three 1 each, ties ordered by JA4 text ("" < t13d1715 < t13d3111):
        // ranks 0, 1, 2, 3 scaled by 1/3.
        Assert.Equal(0, F(w, r1, "ja4_volume_rank"));
        Assert.Equal(1 / 3.0, F(w, plain, "ja4_volume_rank"), 5);
        Assert.Equal(2 / 3.0, F(w, r3b, "ja4_volume_rank"), 5);
        Assert.Equal(1, F(w, r3, "ja4_volume_rank"), 5);
        // No SNI and HTTP/1.1 without h2 offered: SNI mismatch, no ALPN mismatch.
        Assert.Equal(1, F(w, r3, "sni_mismatch_ratio"));
        Assert.Equal(0, F(w, r3, "alpn_mismatch_ratio"));
        // Firefox offered h2 but spoke HTTP/1.1; SNI a.example against Host b.example (port dropped).
        Assert.Equal(1, F(w, r3b, "alpn_mismatch_ratio"));
        Assert.Equal(1, F(w, r3b, "sni_mismatch_ratio"));
        Assert.Equal("b.example", w.Entities[r3b].Key.Host);
        // "rare" is 1 of the window's 5 requests: −log10(1/5).
        Assert.Equal(-Math.Log10(0.2), F(w, r3, "header_signature_rarity"), 5);
        Assert.Equal(0, F(w, plain, "tls_version"));
        Assert.Equal(0, F(w, plain, "sni_mismatch_ratio"));
        // One request: no gaps, so the mean gap is the window and the CV is the neutral 1.
        Assert.Equal(Math.Log(1 + 600), F(w, r1, "log_interarrival_mean"), 4);
        Assert.Equal(1, F(w, r1, "interarrival_cv"));
    }

    [Theory]
    [InlineData("/product/17", "/product/{n}")]
    [InlineData("/a/1/b/22x", "/a/{n}/b/{n}x")]
    [InlineData("/", "/")]
    public void Path_templates_replace_digit_runs(string path, string template) => Assert.Equal(template, FeatureExtractor.Template(path));

    [Fact]
    public void The_sql_definition_names_every_feature_in_schema_order()
    {
        var sql = FeatureSql.Query;
        var select = sql[sql.LastIndexOf("SELECT", StringComparison.Ordinal)..];
        var positions = FeatureSchema.Names.Select(n => select.IndexOf(n, StringComparison.Ordinal)).ToArray();
        Assert.All(positions, p => Assert.True(p > 0));
        Assert.Equal(positions.Order(), positions);
    }
}
