using Ja4.Modules.Core.Pipeline;
using Ja4.Tests.EndToEnd;
using Microsoft.Playwright;

namespace Ja4.Tests.Dashboard;

[Collection(BrowserCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class StatusPageTests(BrowserFixture browser)
{
    [Fact]
    public async Task Status_page_shows_modules_and_channels_and_keeps_its_filter_in_the_url()
    {
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
            ["Modules:HttpIngest:Enabled"] = "true",
            ["Modules:HttpIngest:SocketPath"] = Path.Combine(Path.GetTempPath(), $"ja4-status-{Guid.NewGuid():N}.sock"),
            ["Modules:Correlation:Enabled"] = "true",
        });
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors);
        await page.GotoAsync(daemon.BaseUrl + "/status");
        await page.WaitForSelectorAsync("#channels");

        Assert.Equal("true", await page.GetAttributeAsync("[data-module=Dashboard]", "data-enabled"));
        Assert.Equal("false", await page.GetAttributeAsync("[data-module=Capture]", "data-enabled"));
        Assert.Equal("active", await page.Locator("[data-channel=LiveFeed] + td + td").InnerTextAsync());
        Assert.Equal("off", await page.Locator("[data-channel=Handshakes] + td + td").InnerTextAsync());
        foreach (var edge in Edges.All)
        {
            Assert.Equal(1, await page.Locator($"[data-channel={edge.Name}]").CountAsync());
        }

        // Wait for the interactive circuit, then filter the metrics table.
        await page.WaitForSelectorAsync("#ja4-main[data-interactive=true]", new PageWaitForSelectorOptions { Timeout = 30_000 });
        await page.Locator("#metric-filter").FillAsync("capacity");
        await page.WaitForURLAsync(u => u.Contains("q=capacity"),
            new PageWaitForURLOptions { Timeout = 30_000, WaitUntil = WaitUntilState.Commit });
        // Active edges: HttpIngest -> Correlation and Correlation -> Dashboard.
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#metrics tbody tr').length === 2",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        var rows = await page.Locator("#metrics tbody tr").AllInnerTextsAsync();
        Assert.All(rows, r => Assert.Contains("ja4_channel_capacity", r));
        Assert.Contains(rows, r => r.Contains("channel=\"LiveFeed\""));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ArtifactsDir, "status.png"), FullPage = true });

        // Reloading the shared link shows the same filter.
        await page.GotoAsync(daemon.BaseUrl + "/status?q=nothing-matches-this");
        await page.WaitForSelectorAsync("text=No metric matches.");
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        // Close the page (and its interactive circuit) before the daemon stops: an open circuit keeps the server's
        // graceful stop waiting.
        await page.CloseAsync();
    }

    [Fact]
    public async Task Pages_send_security_headers()
    {
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
        });
        using var http = new HttpClient();
        var response = await http.GetAsync(daemon.BaseUrl + "/status");
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }
}
