using System.Net.Sockets;
using System.Text;
using Ja4.Tests.EndToEnd;
using Microsoft.Playwright;

namespace Ja4.Tests.Dashboard;

/// <summary>
/// The Live page against the real daemon: a record sent to the ingest socket (as the Apache
/// module sends it) goes through correlation to the page; hostile strings are shown as text.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class LivePageTests(BrowserFixture browser)
{
    internal static byte[] Record(string path, string userAgent, int clientPort, string clientIp = "203.0.113.7")
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        var ua = System.Text.Json.JsonEncodedText.Encode(userAgent).ToString();
        return Encoding.UTF8.GetBytes(
            $$"""{"v":1,"time_us":{{now}},"client_ip":"{{clientIp}}","client_port":{{clientPort}},"server_ip":"192.0.2.1","server_port":80,"method":"GET","path":"{{path}}","protocol":"HTTP/1.1","host":"shop.example","status":200,"bytes_sent":10,"duration_us":50,"conn_id":1,"keepalive_index":0,"headers":[["Host","shop.example"],["User-Agent","{{ua}}"]]}""");
    }

    [Fact]
    public async Task A_request_shows_up_live_with_hostile_strings_as_text_and_filters_live_in_the_url()
    {
        var socketPath = Path.Combine(Path.GetTempPath(), $"ja4-live-{Guid.NewGuid():N}.sock");
        await using var daemon = await DaemonInstance.StartAsync(new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
            ["Modules:HttpIngest:Enabled"] = "true",
            ["Modules:HttpIngest:SocketPath"] = socketPath,
            ["Modules:HttpIngest:SocketGroup"] = "",
            ["Modules:Correlation:Enabled"] = "true",
        });
        var errors = new List<string>();
        var page = await browser.NewPageAsync(errors);
        await page.GotoAsync(daemon.BaseUrl + "/live");
        await page.WaitForSelectorAsync("#ja4-main[data-interactive=true]", new PageWaitForSelectorOptions { Timeout = 30_000 });
        var alerted = false;
        page.Dialog += (_, d) =>
        {
            alerted = true;
            _ = d.DismissAsync();
        };

        using (var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified))
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            await socket.SendAsync(Record("/cart?id=1", "<script>alert(1)</script>", 40001));
            await socket.SendAsync(Record("/login", "curl/8.5.0", 40002));
        }

        // Plain HTTP requests go out at once (no handshake to wait for); the page shows them
        // within two seconds.
        var cell = page.Locator("#live-table td:has-text('<script>alert(1)</script>')");
        await cell.WaitForAsync(new LocatorWaitForOptions { Timeout = 2_000 });
        Assert.Equal(1, await page.Locator("#live-table td:has-text('/login')").CountAsync());
        Assert.Equal(0, await page.Locator("#live-table script").CountAsync());

        await page.Locator("#live-filter").FillAsync("curl");
        await page.WaitForURLAsync(u => u.Contains("q=curl"), new PageWaitForURLOptions { Timeout = 30_000, WaitUntil = WaitUntilState.Commit });
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#live-table tbody tr').length === 1",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        Assert.Contains("/login", await page.Locator("#live-table tbody tr").InnerTextAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ArtifactsDir, "live.png") });

        // Back restores the unfiltered view.
        await page.GoBackAsync();
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#live-table tbody tr').length === 2",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        Assert.False(alerted);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}
