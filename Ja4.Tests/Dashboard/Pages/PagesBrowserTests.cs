using System.Text;
using Ja4.Modules.Storage.Engines;
using Ja4.Tests.EndToEnd;
using Ja4.Tests.Storage;
using Microsoft.Playwright;

namespace Ja4.Tests.Dashboard.Pages;

/// <summary>
/// The analyst pages in Chromium against the real daemon and its embedded store, seeded with
/// <see cref="DashboardSeed"/>. The daemon shares the test process's chDB engine (one data path
/// per process), so this class joins the "chdb" collection and brings its own browser.
/// </summary>
[Collection("chdb")]
[Trait("Category", "EndToEnd")]
public sealed class PagesBrowserTests(ChdbFixture chdb) : IAsyncLifetime
{
    private readonly BrowserFixture _browser = new();
    private readonly string _database = "dashpages_" + Guid.NewGuid().ToString("N")[..12];
    private readonly string _dir = Directory.CreateTempSubdirectory("ja4-pages-").FullName;
    private DaemonInstance _daemon = null!;
    private IStoreExecutor _store = null!;

    public async Task InitializeAsync()
    {
        await _browser.InitializeAsync();
        var settings = chdb.DaemonStorage(_database, _dir);
        settings["Modules:Dashboard:Enabled"] = "true";
        _daemon = await DaemonInstance.StartAsync(settings);
        _store = chdb.Open("chdb");
        // Two hours that ended at the last full hour: inside "Last 24 hours", never in the future.
        var now = DateTimeOffset.UtcNow;
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        await new DashboardSeed(hour.AddHours(-2)).WriteAsync(_store, _database);
    }

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        await _store.QueryAsync($"DROP DATABASE IF EXISTS {_database} SYNC");
        await _store.DisposeAsync();
        await _browser.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<IPage> OpenAsync(List<string> errors, string path, int width = 1366, int height = 768)
    {
        var page = await _browser.NewPageAsync(errors, width, height);
        page.Dialog += (_, d) =>
        {
            errors.Add("dialog: " + d.Message);
            _ = d.DismissAsync();
        };
        await page.GotoAsync(_daemon.BaseUrl + path);
        await page.WaitForSelectorAsync("#ja4-main[data-interactive=true]", new PageWaitForSelectorOptions { Timeout = 30_000 });
        if (path.StartsWith("/live", StringComparison.Ordinal) || path.StartsWith("/status", StringComparison.Ordinal))
        {
            await page.WaitForSelectorAsync("h1, .mud-typography-h4", new PageWaitForSelectorOptions { Timeout = 30_000 });
        }
        else
        {
            // The page has loaded its panels from the store.
            await page.WaitForSelectorAsync("#page-title[data-loaded=true]", new PageWaitForSelectorOptions { Timeout = 30_000 });
        }
        var storeError = page.Locator("#store-error");
        Assert.True(await storeError.CountAsync() == 0, path + ": " + (await storeError.CountAsync() > 0 ? await storeError.InnerTextAsync() : ""));
        return page;
    }

    private static Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ArtifactsDir, name + ".png"), FullPage = true });

    [Fact]
    public async Task Every_analyst_page_loads_the_seeded_store_without_console_errors()
    {
        var errors = new List<string>();

        // Overview: the numbers counted by hand from the seed.
        var page = await OpenAsync(errors, "/?range=24h");
        Assert.Equal("Overview · ja4", await page.TitleAsync());
        Assert.Equal("5", await page.GetAttributeAsync("#kpi-requests .ja4-kpi-value", "data-value"));
        Assert.Equal("3", await page.GetAttributeAsync("#kpi-ips .ja4-kpi-value", "data-value"));
        Assert.Equal("2", await page.GetAttributeAsync("#kpi-ja4s .ja4-kpi-value", "data-value"));
        Assert.Equal("80.0 %", await page.GetAttributeAsync("#kpi-match .ja4-kpi-value", "data-value"));
        Assert.Equal("2", await page.GetAttributeAsync("#kpi-anomalies [data-level=high]", "data-count"));
        Assert.Equal("Chrome", (await page.Locator($"#top-ja4s tr:has-text('{DashboardSeed.Ja4Chrome}') td").Nth(1).InnerTextAsync()).Trim());
        Assert.Equal($"/fingerprint?ja4={DashboardSeed.Ja4Chrome}&range=24h",
            await page.Locator($"#top-ja4s a:has-text('{DashboardSeed.Ja4Chrome}')").GetAttributeAsync("href"));
        Assert.Equal(1, await page.Locator("#chart-requests svg").CountAsync());
        await ShotAsync(page, "overview");

        // Light theme at tablet width still renders.
        await page.SetViewportSizeAsync(820, 1180);
        await page.Locator("button[aria-label=theme]").ClickAsync();
        await page.WaitForSelectorAsync("button[aria-label=theme]");
        await ShotAsync(page, "overview-light-tablet");

        // Following an IP from the top list opens its investigation.
        await page.SetViewportSizeAsync(1366, 768);
        await page.Locator("#top-ips a:has-text('203.0.113.7')").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/ip?addr=203.0.113.7"), new PageWaitForURLOptions { Timeout = 30_000 });
        await page.WaitForSelectorAsync("#ip-verdict-table", new PageWaitForSelectorOptions { Timeout = 30_000 });

        // IP investigation: hostile strings from the network stay text.
        page = await OpenAsync(errors, "/ip?addr=203.0.113.7&range=24h");
        Assert.StartsWith("203.0.113.7", await page.TitleAsync());
        Assert.Equal("3", await page.GetAttributeAsync("#ip-requests .ja4-kpi-value", "data-value"));
        Assert.Equal("2", await page.GetAttributeAsync("#rotation-ja4", "data-distinct"));
        Assert.Equal("1", await page.GetAttributeAsync("#rotation-ja4", "data-switches"));
        Assert.Equal("3", await page.GetAttributeAsync("#rotation-ua", "data-distinct"));
        Assert.Contains("Rotates JA4 and User-Agent between requests", await page.Locator("#ip-verdict-table").InnerTextAsync());
        Assert.Equal(1, await page.Locator("#ip-campaigns a[href^='/campaigns?id=c-1']").CountAsync());
        await page.WaitForSelectorAsync("#ip-requests-table tbody tr >> nth=2");
        var requests = await page.Locator("#ip-requests-table").InnerTextAsync();
        Assert.Contains("/" + DashboardSeed.Hostile, requests);
        Assert.Contains("SNI " + DashboardSeed.Hostile, requests);
        Assert.Contains(DashboardSeed.Hostile, await page.Locator("#rotation-ua").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#ja4-main script").CountAsync());
        await ShotAsync(page, "ip-investigation");

        // A block typed in the page's box and sent with Enter: the box's form asks for it with the page's time range,
        // in place (the script's marker survives: no reload).
        await page.EvaluateAsync("() => { window.ja4Marker = 'same page'; }");
        await page.Locator("#ip-input").FillAsync(" 203.0.113.0/24 ");
        await page.Locator("#ip-input").PressAsync("Enter");
        await page.WaitForURLAsync(u => u.Contains("/ip?addr=203.0.113.0%2F24&range=24h"),
            new PageWaitForURLOptions { Timeout = 30_000, WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync("() => document.querySelector('#ip-addresses .ja4-kpi-value')?.getAttribute('data-value') === '2'",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        Assert.Equal("203.0.113.0/24", await page.Locator("#ip-target").InnerTextAsync());
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.ja4Marker"));
        // Markup and a second range typed in the box arrive as one escaped addr: refused as text, the page's range kept.
        const string typed = "<b>nope</b>&range=30d";
        await page.Locator("#ip-input").FillAsync(typed);
        await page.Locator("#ip-input").PressAsync("Enter");
        await page.WaitForSelectorAsync("#ip-error", new PageWaitForSelectorOptions { Timeout = 30_000 });
        var sent = System.Web.HttpUtility.ParseQueryString(new Uri(page.Url).Query);
        Assert.Equal(typed, sent["addr"]);
        Assert.Equal(["24h"], sent.GetValues("range") ?? []);
        Assert.Contains("is not an IP address or CIDR block", await page.Locator("#ip-error").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#ip-error b").CountAsync());
        // A bad address in the page's address.
        page = await OpenAsync(errors, "/ip?addr=" + Uri.EscapeDataString("<b>nope</b>"));
        Assert.Contains("is not an IP address or CIDR block", await page.Locator("#ip-error").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#ip-error b").CountAsync());

        // Fingerprint explorer: known application, users, decoded raw form.
        page = await OpenAsync(errors, $"/fingerprint?ja4={DashboardSeed.Ja4Chrome}&range=24h");
        Assert.Equal("Chrome", await page.Locator("#fp-application").InnerTextAsync());
        Assert.Equal("2", await page.GetAttributeAsync("#fp-ips .ja4-kpi-value", "data-value"));
        Assert.Contains("TLS_AES_128_GCM_SHA256", await page.Locator("#decoded-ciphers").InnerTextAsync());
        Assert.Contains("x25519", await page.Locator("#decoded-groups").InnerTextAsync());
        Assert.Contains("100.0 %", await page.Locator("#fp-ua-summary").InnerTextAsync());
        await ShotAsync(page, "fingerprint");
        // Another fingerprint through the page's box and its button.
        await page.Locator("#fp-input").FillAsync(DashboardSeed.Ja4Curl);
        await page.ClickAsync("#fp-go");
        await page.WaitForURLAsync(u => u.Contains($"/fingerprint?ja4={DashboardSeed.Ja4Curl}&range=24h"),
            new PageWaitForURLOptions { Timeout = 30_000, WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync($"() => document.getElementById('fp-ja4')?.textContent === '{DashboardSeed.Ja4Curl}'",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });

        // Status: store health and the last detection run.
        page = await OpenAsync(errors, "/status");
        Assert.Equal("ok", await page.GetAttributeAsync("#store-state", "data-state"));
        Assert.Equal(DashboardSeed.ModelB, (await page.Locator("#model-version").InnerTextAsync()).Trim());
        Assert.Equal("2", (await page.Locator("#last-run-scores").InnerTextAsync()).Trim());
        await ShotAsync(page, "status");

        // Live: an anomaly written while the page is open appears without a reload.
        page = await OpenAsync(errors, "/live");
        var now = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
        var row = $$"""{"time":"{{now}}","client_ip":"::ffff:192.0.2.200","ja4":"{{DashboardSeed.Ja4Curl}}","host":"shop.example","score":0.9,"risk":0.95,"threat_level":"critical","explanation":"{{DashboardSeed.Hostile}} written during the test"}""";
        await _store.InsertAsync($"{_database}.ml_detected_anomalies", ["time", "client_ip", "ja4", "host", "score", "risk", "threat_level", "explanation"],
            "JSONEachRow", Encoding.UTF8.GetBytes(row + "\n"));
        var cell = page.Locator("#live-anomaly-table td:has-text('192.0.2.200')");
        await cell.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        Assert.Contains(DashboardSeed.Hostile, await page.Locator("#live-anomaly-table").InnerTextAsync());
        await ShotAsync(page, "live");

        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}
