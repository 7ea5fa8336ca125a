using System.ComponentModel.DataAnnotations;
using System.Net;
using Ja4.Modules.Dashboard.Security;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Dashboard;

/// <summary><c>Modules:Dashboard</c>: the analyst dashboard, its REST API and the operations endpoints.</summary>
public sealed class DashboardOptions
{
    /// <summary>Switches the dashboard on. Default: false when absent.</summary>
    public bool Enabled { get; set; }

    /// <summary>Listen URLs, ';'-separated. Default: <c>http://127.0.0.1:8080</c> (loopback only).</summary>
    [Required]
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Requests kept by the live page's buffer. Default: 500.</summary>
    [Range(10, 100_000)]
    public int LiveBufferSize { get; set; } = 500;

    /// <summary>
    /// Local accounts (name and <c>ja4 hash-password</c> hash). Default: none. With at least one,
    /// every page and API call needs a login, whatever the binding.
    /// </summary>
    public List<DashboardAccount> Accounts { get; set; } = [];

    /// <summary>
    /// Trust an authenticating reverse proxy: requests from <see cref="TrustedProxies"/> carrying
    /// <see cref="TrustedProxyHeader"/> are signed in as the user it names. Default: false.
    /// </summary>
    public bool TrustedProxyAuthentication { get; set; }

    /// <summary>Header the trusted proxy puts the user name in. Default: <c>X-Remote-User</c>.</summary>
    public string TrustedProxyHeader { get; set; } = "X-Remote-User";

    /// <summary>Addresses or CIDR blocks of the trusted proxies. Default: none (required in proxy mode).</summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>A session cookie's lifetime, renewed while it is used (sliding). Default: 8 hours.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Failed logins from one address before it is refused (HTTP 429). Default: 5.</summary>
    [Range(1, 1000)]
    public int MaxLoginFailures { get; set; } = 5;

    /// <summary>Window in which failures are counted, and how long an address is refused. Default: 15 minutes.</summary>
    public TimeSpan LoginLockout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Most rows one export (CSV or JSON lines) returns. Default: 100,000.</summary>
    [Range(1, 10_000_000)]
    public int ExportMaxRows { get; set; } = 100_000;
}

/// <summary>One local dashboard account: <c>Modules:Dashboard:Accounts:&lt;n&gt;</c>.</summary>
public sealed class DashboardAccount
{
    /// <summary>The login name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The password's hash, as printed by <c>ja4 hash-password</c>.</summary>
    public string PasswordHash { get; set; } = "";
}

internal sealed class DashboardOptionsValidator : IValidateOptions<DashboardOptions>
{
    private const string Key = "Modules:Dashboard";

    public ValidateOptionsResult Validate(string? name, DashboardOptions o)
    {
        var errors = new List<string>();
        var accounts = o.Accounts ?? [];
        foreach (var url in Split(o.Urls))
        {
            if (!TryHost(url, out var host))
            {
                errors.Add($"{Key}:Urls: '{url}' is not an http(s) URL");
            }
            else if (!IsLoopback(host) && accounts.Count == 0 && !o.TrustedProxyAuthentication)
            {
                errors.Add($"{Key}:Urls: '{url}' is reachable from other hosts but no login is configured: add an account under " +
                           $"{Key}:Accounts (hash from 'ja4 hash-password'), or set {Key}:TrustedProxyAuthentication=true behind an " +
                           "authenticating reverse proxy, or bind to 127.0.0.1");
            }
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < accounts.Count; i++)
        {
            var a = accounts[i];
            if (string.IsNullOrWhiteSpace(a.Name) || a.Name.Length > 128 || a.Name.Any(char.IsControl))
            {
                errors.Add($"{Key}:Accounts:{i}:Name is required (at most 128 characters, no control characters)");
            }
            else if (!seen.Add(a.Name))
            {
                errors.Add($"{Key}:Accounts:{i}:Name '{a.Name}' appears twice");
            }
            if (!PasswordHash.TryParse(a.PasswordHash, out _, out _, out _, out var problem))
            {
                errors.Add($"{Key}:Accounts:{i}:PasswordHash {problem}");
            }
        }
        if (o.TrustedProxyAuthentication)
        {
            if (string.IsNullOrWhiteSpace(o.TrustedProxyHeader) || o.TrustedProxyHeader.Any(c => c <= ' ' || c == ':' || c > '~'))
            {
                errors.Add($"{Key}:TrustedProxyHeader must be an HTTP header name when TrustedProxyAuthentication is true");
            }
            if (o.TrustedProxies is not { Count: > 0 })
            {
                errors.Add($"{Key}:TrustedProxies must list the proxies' addresses when TrustedProxyAuthentication is true");
            }
        }
        for (var i = 0; i < (o.TrustedProxies?.Count ?? 0); i++)
        {
            if (!DashboardAccess.TryNetwork(o.TrustedProxies![i], out _))
            {
                errors.Add($"{Key}:TrustedProxies:{i}: '{o.TrustedProxies[i]}' is not an address or CIDR block");
            }
        }
        if (o.SessionTimeout < TimeSpan.FromMinutes(1) || o.SessionTimeout > TimeSpan.FromDays(30))
        {
            errors.Add($"{Key}:SessionTimeout must be between 00:01:00 and 30.00:00:00");
        }
        if (o.LoginLockout < TimeSpan.FromSeconds(1) || o.LoginLockout > TimeSpan.FromDays(1))
        {
            errors.Add($"{Key}:LoginLockout must be between 00:00:01 and 1.00:00:00");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static IEnumerable<string> Split(string? urls) =>
        (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>True when every listen URL is a loopback address (or the list is empty).</summary>
    internal static bool AllUrlsLoopback(string? urls) => Split(urls).All(u => TryHost(u, out var h) && IsLoopback(h));

    private static bool TryHost(string url, out string host)
    {
        host = "";
        // Kestrel accepts wildcard hosts that Uri does not parse: http://*:8080, http://+:8080.
        var normalized = url.Replace("://*", "://wildcard.invalid", StringComparison.Ordinal)
            .Replace("://+", "://wildcard.invalid", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
        {
            return false;
        }
        host = uri.Host;
        return true;
    }

    internal static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
