using System.Web;
using Ja4.Tests.EndToEnd;
using Ja4.Tests.Storage;
using Microsoft.Playwright;
using static Ja4.Tests.Dashboard.Api.DashboardSeed;

namespace Ja4.Tests.Dashboard.Api;

/// <summary>
/// The Anomalies, Campaigns, Search and Login pages in Debian's Chromium against the real daemon
/// bound to a non-loopback address with an account, on chDB with the rows of <see cref="DashboardSeed"/>.
/// The daemon's store lives on the test process's one chDB engine, so this class runs in the
/// "chdb" collection (one at a time with the other chDB users) with a browser of its own.
/// </summary>
[Collection("chdb")]
[Trait("Category", "EndToEnd")]
public sealed class DashboardPagesBrowserTests(ChdbFixture chdb) : IAsyncLifetime
{
    private const string Password = "tr0ub4dor&3";
    private readonly BrowserFixture _browser = new();

    public Task InitializeAsync() => _browser.InitializeAsync();

    public Task DisposeAsync() => _browser.DisposeAsync();

    private static Task Interactive(IPage page) =>
        page.WaitForSelectorAsync("#ja4-main[data-interactive=true]", new PageWaitForSelectorOptions { Timeout = 60_000 });

    private static Task Shot(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ArtifactsDir, name + ".png"), FullPage = true });

    [Fact]
    public async Task Login_is_enforced_on_a_non_loopback_binding_then_anomalies_filter_and_lead_to_the_ip_and_campaigns_and_search_render_safely()
    {
        await using var daemon = await DashboardTestDaemon.StartAsync(chdb, new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Accounts:0:Name"] = "soc",
            ["Modules:Dashboard:Accounts:0:PasswordHash"] = Ja4.Modules.Dashboard.Security.PasswordHash.Hash(Password),
        }, host: "0.0.0.0");
        await SeedAsync(daemon);
        var errors = new List<string>();
        var page = await _browser.NewPageAsync(errors);
        // Generous: the suite shares two cores with everything else that runs.
        page.SetDefaultTimeout(60_000);
        page.SetDefaultNavigationTimeout(60_000);
        var alerted = false;
        page.Dialog += (_, d) =>
        {
            alerted = true;
            _ = d.DismissAsync();
        };

        // Login first: the page asked for is where the login leads back to.
        await page.GotoAsync(daemon.BaseUrl + "/anomalies?range=24h");
        Assert.StartsWith(daemon.BaseUrl + "/login?returnUrl=", page.Url);
        await Shot(page, "login");
        await page.FillAsync("#login-name", "soc");
        await page.FillAsync("#login-password", "not the password");
        await page.ClickAsync("#login-submit");
        await page.WaitForSelectorAsync("#login-error");
        await page.FillAsync("#login-name", "soc");
        await page.FillAsync("#login-password", Password);
        await page.ClickAsync("#login-submit");
        await page.WaitForURLAsync(u => u.Contains("/anomalies?range=24h"), new PageWaitForURLOptions { Timeout = 60_000 });

        // Anomalies: three clients; filter them, sort, filter again, then follow a row.
        await page.WaitForSelectorAsync("#anomaly-table tbody tr td[data-ip]");
        await Interactive(page);
        // The live connection's own first load of the rows is over (the counts below are its, not the prerendered page's).
        await page.WaitForSelectorAsync("#page-title[data-loaded=true]");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#anomaly-table tbody tr td[data-ip]').length === 3",
            null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        Assert.Equal(1, await page.Locator("#anomaly-table td:has-text('=SUM(A1)')").CountAsync());
        // The filters are a form: what the boxes hold in the browser is what is asked for, and the
        // page changes in place (the script's marker survives: no reload).
        await page.EvaluateAsync("() => { window.ja4Marker = 'same page'; }");
        await page.Locator("#filter-bot").FillAsync("python");
        await page.Locator("#filter-host").FillAsync("shop.example");
        await page.ClickAsync("#filter-apply");
        await page.WaitForURLAsync(u => u.Contains("bot=python") && u.Contains("host=shop.example") && u.Contains("range=24h"),
            new PageWaitForURLOptions { Timeout = 60_000, WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#anomaly-table tbody tr td[data-ip]').length === 2",
            null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        await page.WaitForFunctionAsync("() => document.getElementById('anomaly-total')?.textContent.includes('2 anomalous clients')",
            null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.ja4Marker"));
        // Blank boxes are left out of the address.
        Assert.DoesNotContain("ip=", new Uri(page.Url).Query);
        Assert.Contains("bot=python", await page.GetAttributeAsync("#export-csv", "href"));
        await Shot(page, "anomalies");
        // Sorting is a link that keeps the filters.
        await page.ClickAsync("[data-sort=score]");
        await page.WaitForURLAsync(u => u.Contains("sort=score") && u.Contains("bot=python"),
            new PageWaitForURLOptions { Timeout = 60_000, WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync(
            "() => document.querySelector('#anomaly-table tbody tr td[data-ip]')?.getAttribute('data-ip') === '198.51.100.11'",
            null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        // Enter in a box sends the filters again and keeps the sort.
        await Interactive(page);
        await page.Locator("#filter-bot").FillAsync("pyth");
        await page.Locator("#filter-bot").PressAsync("Enter");
        await page.WaitForURLAsync(u => u.Contains("bot=pyth&") && u.Contains("sort=score") && u.Contains("order=desc") && u.Contains("host=shop.example"),
            new PageWaitForURLOptions { Timeout = 60_000, WaitUntil = WaitUntilState.Commit });
        // The same two rows as before: the page's own load of them is over once the export link
        // follows the new filter and the title says loaded (both set in the same render).
        await page.WaitForFunctionAsync(
            "() => document.querySelector('#export-csv')?.getAttribute('href')?.includes('bot=pyth&') " +
            "&& document.querySelector('#page-title')?.getAttribute('data-loaded') === 'true'",
            null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        Assert.Equal("198.51.100.11", await page.Locator("#anomaly-table tbody tr td[data-ip]").First.GetAttributeAsync("data-ip"));
        Assert.Equal(2, await page.Locator("#anomaly-table tbody tr td[data-ip]").CountAsync());
        // A click on a row (not on its link) follows the row's address link, in the browser and in place.
        await page.Locator("#anomaly-table tbody tr").Nth(1).Locator("td").Nth(5).ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/ip?addr=198.51.100.10&range=24h"), new PageWaitForURLOptions { Timeout = 60_000, WaitUntil = WaitUntilState.Commit });
        await page.WaitForSelectorAsync("#ip-target:has-text('198.51.100.10')");
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.ja4Marker"));

        // The threat level is the browser's own select, sent with the form as chosen: of the two python
        // clients, only .11 is critical.
        await page.GotoAsync(daemon.BaseUrl + "/anomalies?range=24h&bot=python");
        await Interactive(page);
        await page.WaitForSelectorAsync("#page-title[data-loaded=true]");
        await page.EvaluateAsync("() => { window.ja4Marker = 'level'; }");
        Assert.Equal("", await page.InputValueAsync("#filter-level"));
        await page.Locator("#filter-level").SelectOptionAsync("critical");
        await page.ClickAsync("#filter-apply");
        await page.WaitForURLAsync(u => u.Contains("level=critical") && u.Contains("bot=python") && u.Contains("range=24h"),
            new PageWaitForURLOptions { Timeout = 60_000, WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync(
            "() => document.getElementById('anomaly-total')?.textContent.trim() === '1 anomalous client' " +
            "&& document.querySelectorAll('#anomaly-table tbody tr td[data-ip]').length === 1",
            null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        Assert.Equal("198.51.100.11", await page.Locator("#anomaly-table tbody tr td[data-ip]").First.GetAttributeAsync("data-ip"));
        Assert.Equal("critical", await page.InputValueAsync("#filter-level"));
        Assert.Equal("level", await page.EvaluateAsync<string>("() => window.ja4Marker"));

        // Campaigns: the list, then one campaign with its members, paths and block-list exports.
        await page.GotoAsync(daemon.BaseUrl + "/campaigns?range=24h");
        await page.WaitForSelectorAsync("[data-campaign=c-1]");
        await Interactive(page);
        await Shot(page, "campaigns");
        await page.ClickAsync("[data-campaign=c-1]");
        await page.WaitForSelectorAsync("#campaign-members");
        Assert.Equal(2, await page.Locator("#campaign-members tbody tr").CountAsync());
        Assert.Contains("/login → /cart → /checkout", await page.InnerTextAsync("#campaign-paths"));
        Assert.Contains("format=apache", await page.GetAttributeAsync("#export-apache", "href"));
        await page.WaitForSelectorAsync("#campaign-timeline svg");
        await Shot(page, "campaign");

        // Search: typed in the box and sent with Enter (the box's form, with the page's time range);
        // the script User-Agent is text, not markup.
        await page.GotoAsync(daemon.BaseUrl + "/search?range=7d");
        await Interactive(page);
        await page.Locator("#search-box").FillAsync("script");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(u => u.Contains("q=script") && u.Contains("range=7d"),
            new PageWaitForURLOptions { Timeout = 60_000, WaitUntil = WaitUntilState.Commit });
        var cell = page.Locator("#search-user_agent td:has-text('<script>alert(1)</script>')");
        await cell.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        Assert.Equal(0, await page.Locator("#search-results script").CountAsync());
        Assert.Equal("Text", await page.GetAttributeAsync("#search-kind", "data-kind"));
        Assert.Equal("script", await page.InputValueAsync("#search-box"));
        await Shot(page, "search");
        // A hostile query travels as one escaped value: it neither adds a parameter nor cuts the address.
        const string hostile = "<b>x</b>&range=30d#frag";
        await page.Locator("#search-box").FillAsync(hostile);
        await page.Locator("#search-box").PressAsync("Enter");
        await page.WaitForURLAsync(u => u.Contains("q=%3Cb%3E"), new PageWaitForURLOptions { Timeout = 60_000, WaitUntil = WaitUntilState.Commit });
        var sent = HttpUtility.ParseQueryString(new Uri(page.Url).Query);
        Assert.Equal(hostile, sent["q"]);
        Assert.Equal(["7d"], sent.GetValues("range") ?? []);
        await page.WaitForSelectorAsync("#search-empty");
        Assert.Equal(hostile, await page.InputValueAsync("#search-box"));
        await page.GotoAsync(daemon.BaseUrl + "/search?range=24h&q=" + Ja4A[..10]);
        await page.WaitForSelectorAsync("#search-ja4");
        Assert.Equal("Ja4Prefix", await page.GetAttributeAsync("#search-kind", "data-kind"));

        Assert.False(alerted);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async Task Search_box_anomaly_filters_address_and_fingerprint_boxes_work_with_scripts_off()
    {
        await using var daemon = await DashboardTestDaemon.StartAsync(chdb);
        await SeedAsync(daemon);
        var errors = new List<string>();
        var page = await _browser.NewPageAsync(errors, javaScript: false);
        page.SetDefaultTimeout(60_000);
        page.SetDefaultNavigationTimeout(60_000);

        // The server-rendered page holds the data; Enter in a filter box submits the form itself.
        await page.GotoAsync(daemon.BaseUrl + "/anomalies?range=24h&sort=score");
        Assert.Equal(3, await page.Locator("#anomaly-table tbody tr td[data-ip]").CountAsync());
        await page.Locator("#filter-bot").FillAsync("python");
        await page.Locator("#filter-bot").PressAsync("Enter");
        await page.WaitForURLAsync(u => u.Contains("bot=python") && u.Contains("range=24h") && u.Contains("sort=score"));
        Assert.Equal(2, await page.Locator("#anomaly-table tbody tr td[data-ip]").CountAsync());
        Assert.Equal("198.51.100.11", await page.Locator("#anomaly-table tbody tr td[data-ip]").First.GetAttributeAsync("data-ip"));
        Assert.Equal("python", await page.InputValueAsync("#filter-bot"));
        // The threat level too (the browser's own select): of the two python clients only .11 is critical.
        await page.Locator("#filter-level").SelectOptionAsync("critical");
        await page.ClickAsync("#filter-apply");
        await page.WaitForURLAsync(u => u.Contains("level=critical") && u.Contains("bot=python") && u.Contains("sort=score"));
        Assert.Equal(1, await page.Locator("#anomaly-table tbody tr td[data-ip]").CountAsync());
        Assert.Equal("198.51.100.11", await page.Locator("#anomaly-table tbody tr td[data-ip]").First.GetAttributeAsync("data-ip"));
        Assert.Equal("critical", await page.InputValueAsync("#filter-level"));
        // A list of levels from the address is one more choice, chosen, and sent again as it came.
        await page.GotoAsync(daemon.BaseUrl + "/anomalies?level=high,critical&range=24h");
        Assert.Equal("high,critical", await page.InputValueAsync("#filter-level"));
        Assert.Equal("High, Critical", await page.Locator("#filter-level option:checked").InnerTextAsync());
        await page.ClickAsync("#filter-apply");
        await page.WaitForURLAsync(u => u.Contains("level=high%2Ccritical") && u.Contains("range=24h"));
        Assert.Equal("high,critical", await page.InputValueAsync("#filter-level"));
        // A level that is none, with markup in it: refused in the red box, shown as text in the picker.
        await page.GotoAsync(daemon.BaseUrl + "/anomalies?range=24h&level=" + Uri.EscapeDataString("<b>nope</b>"));
        Assert.Contains("'level' must be", await page.Locator("#anomaly-error").InnerTextAsync());
        Assert.Equal("<b>nope</b>", await page.Locator("#filter-level option:checked").InnerTextAsync());
        Assert.Equal(0, await page.Locator("#filter-level b, #anomaly-error b").CountAsync());

        await page.GotoAsync(daemon.BaseUrl + "/search?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z");
        await page.Locator("#search-box").FillAsync("script");
        await page.ClickAsync("#search-go");
        await page.WaitForURLAsync(u => u.Contains("q=script") && u.Contains("from=2000-01-01"));
        Assert.Equal(1, await page.Locator("#search-empty").CountAsync());
        await page.GotoAsync(daemon.BaseUrl + "/search?range=24h");
        await page.Locator("#search-box").FillAsync("script");
        await page.Locator("#search-box").PressAsync("Enter");
        await page.WaitForURLAsync(u => u.Contains("q=script"));
        Assert.Equal(1, await page.Locator("#search-user_agent td:has-text('<script>alert(1)</script>')").CountAsync());

        // The IP investigation's box and the fingerprint explorer's.
        await page.GotoAsync(daemon.BaseUrl + "/ip?range=24h");
        await page.Locator("#ip-input").FillAsync("198.51.100.10");
        await page.Locator("#ip-input").PressAsync("Enter");
        await page.WaitForURLAsync(u => u.Contains("/ip?addr=198.51.100.10&range=24h"));
        Assert.Equal("198.51.100.10", await page.Locator("#ip-target").InnerTextAsync());
        await page.GotoAsync(daemon.BaseUrl + "/fingerprint?range=24h");
        await page.Locator("#fp-input").FillAsync(" " + DashboardSeed.Ja4A + " ");
        await page.Locator("#fp-input").PressAsync("Enter");
        await page.WaitForURLAsync(u => u.Contains("/fingerprint?ja4=") && u.Contains("range=24h"));
        Assert.Equal(DashboardSeed.Ja4A, await page.Locator("#fp-ja4").InnerTextAsync());
        // The seed's five requests with it, from 198.51.100.10 and .11.
        Assert.Equal("5", await page.GetAttributeAsync("#fp-requests .ja4-kpi-value", "data-value"));
        Assert.Equal("2", await page.GetAttributeAsync("#fp-ips .ja4-kpi-value", "data-value"));
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}
