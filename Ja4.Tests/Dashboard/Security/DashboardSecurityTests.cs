using System.Net;
using System.Text.RegularExpressions;
using Ja4.Host.Commands;
using Ja4.Modules.Dashboard.Security;
using Ja4.Tests.Dashboard.Api;
using Ja4.Tests.Host;

namespace Ja4.Tests.Dashboard.Security;

/// <summary>Bindings, accounts, cookie sign-in with antiforgery, throttling and the trusted-proxy mode, on the real daemon.</summary>
[Trait("Category", "EndToEnd")]
public sealed partial class DashboardSecurityTests
{
    private const string Password = "correct horse battery staple";

    // One hash for the class: each costs 600,000 PBKDF2 iterations.
    private static readonly Lazy<string> Hash = new(() => PasswordHash.Hash(Password));

    private static Dictionary<string, string?> WithAccount(params (string Key, string? Value)[] more)
    {
        var d = new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Accounts:0:Name"] = "analyst",
            ["Modules:Dashboard:Accounts:0:PasswordHash"] = Hash.Value,
        };
        foreach (var (k, v) in more)
        {
            d[k] = v;
        }
        return d;
    }

    private static HttpClient Client(string baseUrl, CookieContainer? cookies = null) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies ?? new CookieContainer(), UseCookies = true })
        {
            BaseAddress = new Uri(baseUrl),
        };

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();

    /// <summary>GETs the login page (antiforgery cookie and token), then posts the form.</summary>
    private static async Task<HttpResponseMessage> SignInAsync(HttpClient http, string name, string password, bool withToken = true)
    {
        var page = await (await http.GetAsync("/login")).Content.ReadAsStringAsync();
        var fields = new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["Input.Name"] = name,
            ["Input.Password"] = password,
        };
        if (withToken)
        {
            fields["__RequestVerificationToken"] = WebUtility.HtmlDecode(TokenField().Match(page).Groups[1].Value);
        }
        return await http.PostAsync("/login", new FormUrlEncodedContent(fields));
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://127.0.0.1:8080;http://[::]:8080")]
    public async Task A_non_loopback_binding_without_an_account_refuses_to_start_with_one_line_naming_the_key(string urls)
    {
        var problems = await ConfigurationTests.StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
            ["Modules:Dashboard:Urls"] = urls,
        });
        var line = Assert.Single(problems);
        Assert.StartsWith("Modules:Dashboard:Urls: ", line);
        Assert.Contains("Modules:Dashboard:Accounts", line);
        Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public async Task Bad_security_settings_are_reported_by_key()
    {
        var problems = await ConfigurationTests.StartupProblems(new Dictionary<string, string?>
        {
            ["Modules:Dashboard:Enabled"] = "true",
            ["Modules:Dashboard:Accounts:0:Name"] = "analyst",
            ["Modules:Dashboard:Accounts:0:PasswordHash"] = "plain-text-password",
            ["Modules:Dashboard:Accounts:1:Name"] = "analyst",
            ["Modules:Dashboard:Accounts:1:PasswordHash"] = "pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ["Modules:Dashboard:TrustedProxyAuthentication"] = "true",
            ["Modules:Dashboard:TrustedProxies:0"] = "proxy.example",
        });
        Assert.Contains(problems, p => p.StartsWith("Modules:Dashboard:Accounts:0:PasswordHash is not a"));
        Assert.Contains(problems, p => p.StartsWith("Modules:Dashboard:Accounts:1:Name 'analyst' appears twice"));
        Assert.Contains(problems, p => p.StartsWith("Modules:Dashboard:Accounts:1:PasswordHash must use between 600000"));
        Assert.Contains(problems, p => p.StartsWith("Modules:Dashboard:TrustedProxies:0: 'proxy.example' is not an address"));
    }

    [Fact]
    public async Task With_an_account_everything_but_the_open_paths_needs_a_login_and_the_right_password_gives_a_strict_cookie()
    {
        await using var daemon = await DashboardTestDaemon.StartAsync(null, WithAccount());
        using var http = Client(daemon.BaseUrl);

        var page = await http.GetAsync("/anomalies?range=1h");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/login?returnUrl=%2Fanomalies%3Frange%3D1h", page.Headers.Location!.PathAndQuery);
        foreach (var url in new[] { "/", "/campaigns", "/search?q=x", "/status" })
        {
            Assert.Equal(HttpStatusCode.Redirect, (await http.GetAsync(url)).StatusCode);
        }
        foreach (var url in new[] { "/api/stats", "/api/anomalies", "/api/export/anomalies", "/api/detection/status", "/openapi/v1.json" })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(url)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/_blazor/negotiate?negotiateVersion=1", null)).StatusCode);
        foreach (var url in new[] { "/healthz", "/metrics", "/login" })
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url)).StatusCode);
        }

        // Antiforgery: a post without the token is refused before the password is looked at.
        Assert.Equal(HttpStatusCode.BadRequest, (await SignInAsync(http, "analyst", Password, withToken: false)).StatusCode);

        var wrong = await SignInAsync(http, "analyst", "wrong password");
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("Wrong account or password.", await wrong.Content.ReadAsStringAsync());
        Assert.DoesNotContain(wrong.Headers.TryGetValues("Set-Cookie", out var set) ? set : [], c => c.StartsWith(DashboardSecurity.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("Wrong account or password.", await (await SignInAsync(http, "nobody", Password)).Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/openapi/v1.json")).StatusCode);

        var right = await SignInAsync(http, "analyst", Password);
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal(daemon.BaseUrl + "/", new Uri(new Uri(daemon.BaseUrl), right.Headers.Location!).ToString());
        var cookie = right.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(DashboardSecurity.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("expires=", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookie.Replace("samesite", "", StringComparison.OrdinalIgnoreCase), StringComparison.OrdinalIgnoreCase);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/campaigns")).StatusCode);
        // Storage is off in this daemon: past the login, the API says why it has no data.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/api/stats")).StatusCode);

        // Sign out needs the antiforgery token too, then the session is gone.
        var loginPage = await (await http.GetAsync("/login")).Content.ReadAsStringAsync();
        Assert.Contains("Signed in as", loginPage);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync(DashboardSecurity.LogoutPath, new FormUrlEncodedContent([]))).StatusCode);
        var token = WebUtility.HtmlDecode(TokenField().Match(loginPage).Groups[1].Value);
        var logout = await http.PostAsync(DashboardSecurity.LogoutPath, new FormUrlEncodedContent(
            new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task Repeated_failures_from_one_address_are_refused_with_429_even_with_the_right_password()
    {
        await using var daemon = await DashboardTestDaemon.StartAsync(null, WithAccount(("Modules:Dashboard:MaxLoginFailures", "2")));
        using var http = Client(daemon.BaseUrl);
        Assert.Contains("Wrong account or password.", await (await SignInAsync(http, "analyst", "guess 1")).Content.ReadAsStringAsync());
        Assert.Contains("Wrong account or password.", await (await SignInAsync(http, "analyst", "guess 2")).Content.ReadAsStringAsync());
        var refused = await SignInAsync(http, "analyst", Password);
        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single()) is > 0 and <= 900);
        Assert.Contains("Too many failed sign-ins", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task A_trusted_proxy_header_signs_in_only_from_the_configured_proxies()
    {
        await using (var daemon = await DashboardTestDaemon.StartAsync(null, new Dictionary<string, string?>
                     {
                         ["Modules:Dashboard:TrustedProxyAuthentication"] = "true",
                         ["Modules:Dashboard:TrustedProxies:0"] = "127.0.0.0/8",
                     }, host: "0.0.0.0"))
        {
            using var http = Client(daemon.BaseUrl);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/openapi/v1.json")).StatusCode);
            using var signed = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json") { Headers = { { "X-Remote-User", "alice" } } };
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(signed)).StatusCode);
        }
        await using (var daemon = await DashboardTestDaemon.StartAsync(null, new Dictionary<string, string?>
                     {
                         ["Modules:Dashboard:TrustedProxyAuthentication"] = "true",
                         ["Modules:Dashboard:TrustedProxies:0"] = "192.0.2.1",
                         ["Modules:Dashboard:TrustedProxyHeader"] = "X-Auth-User",
                     }))
        {
            using var http = Client(daemon.BaseUrl);
            using var forged = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json") { Headers = { { "X-Auth-User", "mallory" } } };
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(forged)).StatusCode);
        }
    }

    [Fact]
    public void Password_hashes_are_salted_pbkdf2_sha256_with_600000_iterations_and_verify_only_the_right_password()
    {
        var a = Hash.Value;
        var parts = a.Split('$');
        Assert.Equal(["pbkdf2-sha256", "600000"], parts[..2]);
        Assert.Equal(16, Convert.FromBase64String(parts[2]).Length);
        Assert.Equal(32, Convert.FromBase64String(parts[3]).Length);
        Assert.True(PasswordHash.Verify(Password, a));
        Assert.False(PasswordHash.Verify(Password + " ", a));
        Assert.False(PasswordHash.Verify(Password, "pbkdf2-sha256$1000$" + parts[2] + "$" + parts[3]));
        Assert.False(PasswordHash.TryParse("sha1$600000$x$y", out _, out _, out _, out var problem));
        Assert.Contains("ja4 hash-password", problem);
    }

    [Fact]
    public async Task Hash_password_reads_stdin_and_prints_a_hash_that_verifies()
    {
        var output = new StringWriter();
        var code = await new HashPasswordCommand(new StringReader("s3cret pass\nignored second line\n"), output).RunAsync([], CancellationToken.None);
        Assert.Equal(0, code);
        var hash = output.ToString().Trim();
        Assert.StartsWith("pbkdf2-sha256$600000$", hash);
        Assert.True(PasswordHash.Verify("s3cret pass", hash));
        await Assert.ThrowsAsync<Ja4.Host.CommandFailedException>(() => new HashPasswordCommand(new StringReader(""), new StringWriter()).RunAsync([], CancellationToken.None));
        await Assert.ThrowsAsync<Ja4.Host.UsageException>(() => new HashPasswordCommand(new StringReader("x\n"), new StringWriter()).RunAsync(["--iterations", "1000"], CancellationToken.None));
        await Assert.ThrowsAsync<Ja4.Host.UsageException>(() => new HashPasswordCommand(new StringReader("x\n"), new StringWriter()).RunAsync(["secret"], CancellationToken.None));
    }

    [Theory]
    [InlineData("/anomalies?range=1h", "/anomalies?range=1h")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData(null, "/")]
    public void Return_urls_stay_on_this_site(string? url, string expected) =>
        Assert.Equal(expected, Ja4.Modules.Dashboard.Components.Pages.Login.LocalReturnUrl(url));
}
