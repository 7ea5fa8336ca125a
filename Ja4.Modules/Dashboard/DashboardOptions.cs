using System.ComponentModel.DataAnnotations;
using System.Net;
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
    /// Allow listening on a non-loopback address. Default: false. This version has no login
    /// yet, so the daemon refuses such a binding unless an operator puts an authenticating
    /// reverse proxy in front and says so here.
    /// </summary>
    public bool TrustedProxyAuthentication { get; set; }
}

internal sealed class DashboardOptionsValidator : IValidateOptions<DashboardOptions>
{
    public ValidateOptionsResult Validate(string? name, DashboardOptions o)
    {
        var errors = new List<string>();
        foreach (var url in (o.Urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TryHost(url, out var host))
            {
                errors.Add($"Modules:Dashboard:Urls: '{url}' is not an http(s) URL");
            }
            else if (!IsLoopback(host) && !o.TrustedProxyAuthentication)
            {
                errors.Add($"Modules:Dashboard:Urls: '{url}' is reachable from other hosts; the dashboard has no login of its own, " +
                           "so bind it to 127.0.0.1 or set Modules:Dashboard:TrustedProxyAuthentication=true behind an authenticating reverse proxy");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

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
