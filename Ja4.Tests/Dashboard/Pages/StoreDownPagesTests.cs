using Ja4.Tests.EndToEnd;
using Microsoft.Playwright;

namespace Ja4.Tests.Dashboard.Pages;

/// <summary>With a ClickHouse server that does not answer, the pages say so instead of failing.</summary>
[Collection(BrowserCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class StoreDownPagesTests(BrowserFixture browser)
{
    [Fact]
    public async Task Pages_show_a_clear_error_when_the_store_is_unreachable()
    {
        var dir = Directory.CreateTempSubdirectory("ja4-storedown-").FullName;
        try
        {
            // Nothing listens on this port: every query is refused.
            var port = DaemonInstance.FreePort();
            await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
            {
                ["Modules:Dashboard:Enabled"] = "true",
                ["Modules:Storage:Enabled"] = "true",
                ["Modules:Storage:Engine"] = "ClickHouse",
                ["Modules:Storage:ClickHouse:ConnectionString"] = $"Host=127.0.0.1;Port={port};Protocol=http",
                ["Modules:Storage:SpillPath"] = Path.Combine(dir, "spill"),
                ["Modules:Storage:AdminSocketPath"] = Path.Combine(dir, "admin.sock"),
                ["Modules:Storage:AdminSocketGroup"] = "",
            });
            var errors = new List<string>();
            var page = await browser.NewPageAsync(errors);
            foreach (var path in new[] { "/", "/ip?addr=203.0.113.7", "/fingerprint?ja4=t13d1516h2_8daaf6152771_e5627efa2ab1" })
            {
                await page.GotoAsync(daemon.BaseUrl + path);
                await page.WaitForSelectorAsync("#ja4-main[data-interactive=true]", new PageWaitForSelectorOptions { Timeout = 30_000 });
                await page.WaitForSelectorAsync("#page-title[data-loaded=true]", new PageWaitForSelectorOptions { Timeout = 60_000 });
                Assert.Contains("The store did not answer.", await page.Locator("#store-error").InnerTextAsync());
            }
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ArtifactsDir, "store-down.png") });

            await page.GotoAsync(daemon.BaseUrl + "/status");
            await page.WaitForSelectorAsync("#store-state[data-state=error]", new PageWaitForSelectorOptions { Timeout = 60_000 });
            Assert.True(errors.Count == 0, string.Join("\n", errors));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
