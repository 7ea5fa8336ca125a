using Bunit;
using Ja4.Modules.Dashboard.Components.Shared;
using Ja4.Modules.Dashboard.Data;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Ja4.Tests.Dashboard.Pages;

/// <summary>The shared components with logic: number formatting, the rotation matrix and the decoded raw fingerprint.</summary>
public sealed class ComponentTests : IAsyncLifetime
{
    private readonly BunitContext _ctx = new();

    public ComponentTests()
    {
        _ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        _ctx.Services.AddMudServices(o => o.PopoverOptions.CheckForPopoverProvider = false);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _ctx.DisposeAsync();

    [Theory]
    [InlineData(0, "0")]
    [InlineData(999, "999")]
    [InlineData(1000, "1k")]
    [InlineData(1250, "1.2k")]
    [InlineData(1299, "1.2k")] // truncated, never rounded up
    [InlineData(12_345, "12.3k")]
    [InlineData(123_456, "123k")]
    [InlineData(999_999, "999k")]
    [InlineData(1_000_000, "1M")]
    [InlineData(2_500_000_000, "2.5G")]
    [InlineData(-1500, "-1.5k")]
    public void Counts_are_compact(long value, string text) => Assert.Equal(text, Numbers.Compact(value));

    [Fact]
    public void Exact_counts_and_shares()
    {
        Assert.Equal("1\u2009234\u2009567", Numbers.Exact(1_234_567));
        Assert.Equal("97.3 %", Numbers.Percent(0.9731));
        Assert.Equal("0.0 %", Numbers.Percent(0));
        Assert.Equal("—", Numbers.Percent(double.NaN));
    }

    [Fact]
    public void A_kpi_card_shows_the_compact_count_and_keeps_the_exact_one()
    {
        var card = _ctx.Render<KpiCard>(p => p.Add(c => c.Title, "Requests").Add(c => c.Count, 1_234_567L).Add(c => c.Id, "k"));
        var value = card.Find(".ja4-kpi-value");
        Assert.Equal("1.2M", value.TextContent.Trim());
        Assert.Equal("1234567", value.GetAttribute("data-value"));

        var empty = _ctx.Render<KpiCard>(p => p.Add(c => c.Title, "Requests"));
        Assert.Equal("—", empty.Find(".ja4-kpi-value").TextContent.Trim());
    }

    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_rotation_matrix_counts_values_buckets_and_changes()
    {
        // Bucket 0: A; bucket 1: A and B; bucket 2: B; bucket 3: B; bucket 4: C.
        var cells = new (DateTimeOffset, string, long)[]
        {
            (T0, "A", 3), (T0.AddHours(1), "A", 1), (T0.AddHours(1), "B", 2), (T0.AddHours(2), "B", 5),
            (T0.AddHours(3), "B", 1), (T0.AddHours(4), "C", 4), (T0.AddHours(4), "D", 0),
        };
        var m = RotationMatrix.Build(cells, maxRows: 2);
        Assert.Equal([T0, T0.AddHours(1), T0.AddHours(2), T0.AddHours(3), T0.AddHours(4)], m.Buckets);
        Assert.Equal(["B", "A"], m.Rows.Select(r => r.Value)); // 8 and 4 requests; C (4) loses the tie to A by name
        Assert.Equal([0L, 2, 5, 1, 0], m.Rows[0].Counts);
        Assert.Equal([1, 2, 1, 1, 1], m.DistinctPerBucket);
        Assert.Equal(3, m.Switches); // {A}→{A,B}→{B}, {B}→{B} unchanged, {B}→{C}
        Assert.Equal(1, m.HiddenValues);
        Assert.Equal(3, m.DistinctValues);

        Assert.Equal(0, RotationMatrix.Build([]).Switches);
        Assert.Throws<ArgumentOutOfRangeException>(() => RotationMatrix.Build(cells, 0));
    }

    [Fact]
    public void The_rotation_view_renders_hostile_values_as_text()
    {
        var m = RotationMatrix.Build([(T0, "<script>alert(1)</script>", 2L), (T0.AddHours(1), "curl/8.5.0", 1L)]);
        var view = _ctx.Render<RotationMatrixView>(p => p.Add(c => c.Matrix, m).Add(c => c.Id, "rot").Add(c => c.Label, "User-Agent"));
        Assert.Empty(view.FindAll("script"));
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", view.Markup);
        Assert.Equal("2", view.Find("#rot").GetAttribute("data-distinct"));
        Assert.Equal("1", view.Find("#rot").GetAttribute("data-switches"));
        Assert.Equal(2, view.FindAll("td.ja4-cell-on").Count);
        // Shades in tenths of the busiest cell, rounded up: 2 of 2 is the darkest, 1 of 2 the fifth.
        Assert.Equal(["2", "1"], view.FindAll("td.ja4-shade-10, td.ja4-shade-5").Select(td => td.GetAttribute("title")));
        Assert.Single(view.FindAll("td.ja4-shade-10"));
    }

    [Fact]
    public void A_raw_fingerprint_decodes_to_iana_names()
    {
        // FoxIO's latest.pcapng, first handshake (Chrome): names checked by hand against the IANA registries.
        var e = DashboardSeed.Corpus(0);
        var hello = DecodedHello.Decode(e.GetProperty("ja4_ro").GetString(), e.GetProperty("ja3_full").GetString());
        Assert.Empty(hello.Problems);
        Assert.Equal("t13d1516h2", hello.Prefix);
        Assert.Equal(15, hello.CipherSuites.Count);
        Assert.Equal(["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
            hello.CipherSuites.Take(4).Select(c => c.Name));
        Assert.Equal(["session_ticket", "renegotiation_info", "server_name", "compress_certificate", "signed_certificate_timestamp"],
            hello.Extensions.Take(5).Select(x => x.Name));
        Assert.Contains(hello.Extensions, x => x.Code == 0x4469 && x.Name.StartsWith("application_settings", StringComparison.Ordinal));
        Assert.Equal(["ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256", "rsa_pkcs1_sha256"], hello.SignatureAlgorithms.Take(3).Select(s => s.Name));
        Assert.Equal(["x25519", "secp256r1", "secp384r1"], hello.SupportedGroups.Select(g => g.Name)); // ja3_full groups 29-23-24

        var view = _ctx.Render<DecodedFingerprintView>(p => p.Add(c => c.Hello, hello).Add(c => c.Id, "dec"));
        Assert.Equal(15, view.FindAll("#decoded-ciphers tr").Count);
        Assert.Contains("0x1301", view.Find("#decoded-ciphers").TextContent);
        Assert.Equal(3, view.FindAll("#decoded-groups tr").Count);
    }

    [Fact]
    public void A_malformed_raw_fingerprint_is_reported_not_thrown()
    {
        var hello = DecodedHello.Decode("t13d0202h2_1301,zz<b>_0a0a,1234", "771,4865,0,29-x,0");
        Assert.Equal(["TLS_AES_128_GCM_SHA256"], hello.CipherSuites.Select(c => c.Name));
        Assert.Equal([("GREASE", true), ("unknown", false)], hello.Extensions.Select(x => (x.Name, x.Known)));
        Assert.Equal(["x25519"], hello.SupportedGroups.Select(g => g.Name));
        Assert.Equal(2, hello.Problems.Count);

        var view = _ctx.Render<DecodedFingerprintView>(p => p.Add(c => c.Hello, hello));
        Assert.Empty(view.FindAll("b"));
        Assert.Contains("zz&lt;b&gt;", view.Markup);

        Assert.Single(DecodedHello.Decode(null, null).Problems);
        Assert.Single(DecodedHello.Decode("a_b", "1,2").Problems, p => p.Contains("parts", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(DashboardSeed.ChromeUa, "Chrome")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0", "Edge")]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "Safari")]
    [InlineData("curl/8.5.0", "curl")]
    [InlineData("python-requests/2.31.0", "Python")]
    [InlineData("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot")]
    [InlineData("", "(none)")]
    [InlineData("<script>alert(1)</script>", "other")]
    public void User_agent_families(string ua, string family) => Assert.Equal(family, UserAgentFamilies.Of(ua));

    [Theory]
    [InlineData(0, 1)]
    [InlineData(4, 1)]
    [InlineData(7, 2)]
    [InlineData(10, 5)]
    [InlineData(40, 10)]
    [InlineData(100, 50)]
    [InlineData(1000, 500)]
    public void Chart_ticks_are_round(double max, int step) => Assert.Equal(step, ChartAxis.TickStep(max));

    [Fact]
    public void Buckets_fill_every_step_of_the_range()
    {
        var range = new TimeRange(T0.AddSeconds(30), T0.AddMinutes(5), null); // 1-minute buckets
        var filled = Buckets.Fill(range, [new SeriesPoint(T0.AddMinutes(2), 7)]);
        Assert.Equal([0L, 0, 7, 0, 0], filled.Select(p => p.Value));
        Assert.Equal(T0, filled[0].Time); // aligned down to the bucket
        Assert.Equal(["10:00", "", "10:02", "", "10:04"], ChartAxis.Labels(filled.Select(p => p.Time).ToList(), range.Bucket, shown: 3));
    }
}
