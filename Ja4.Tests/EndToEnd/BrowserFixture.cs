using Microsoft.Playwright;

namespace Ja4.Tests.EndToEnd;

/// <summary>
/// Debian's Chromium driven by Playwright, headless, offline (no browser download): one browser
/// per test collection, a fresh context per test.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots go: <c>Ja4.Tests/artifacts/</c> in the checkout.</summary>
    public static string ArtifactsDir { get; } = Path.Combine(TestSupport.Corpus.RepositoryRoot, "Ja4.Tests", "artifacts");

    public async Task InitializeAsync()
    {
        var executable = new[] { "/usr/lib/chromium/chromium", "/usr/bin/chromium" }.FirstOrDefault(File.Exists)
                         ?? throw new InvalidOperationException("Chromium is not installed: apt-get install -y chromium");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic",
            ],
        });
        Directory.CreateDirectory(ArtifactsDir);
    }

    /// <summary>
    /// A page that records console errors and failed requests into <paramref name="errors"/>;
    /// <paramref name="javaScript"/> false gives a browser with scripts off (server-rendered pages only).
    /// </summary>
    public async Task<IPage> NewPageAsync(List<string> errors, int width = 1366, int height = 768, bool javaScript = true)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            JavaScriptEnabled = javaScript,
        });
        var page = await context.NewPageAsync();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                errors.Add("console: " + m.Text);
            }
        };
        page.PageError += (_, e) => errors.Add("page: " + e);
        page.RequestFailed += (_, r) => errors.Add("request failed: " + r.Url);
        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
