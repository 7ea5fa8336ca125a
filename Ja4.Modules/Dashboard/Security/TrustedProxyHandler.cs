using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Dashboard.Security;

/// <summary>
/// Authenticates a request by the user name an authenticating reverse proxy put in
/// <see cref="DashboardAccess.ProxyHeader"/>, only when the connection comes from one of the
/// configured proxy addresses: from anywhere else the header is ignored.
/// </summary>
internal sealed class TrustedProxyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder, DashboardAccess access) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ja4-proxy";

    /// <summary>Longest user name taken from the header.</summary>
    private const int MaxNameLength = 256;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!access.ProxyMode || !access.IsTrustedProxy(Context.Connection.RemoteIpAddress))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        var name = Request.Headers[access.ProxyHeader].ToString().Trim();
        if (name.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            return Task.FromResult(AuthenticateResult.Fail($"the {access.ProxyHeader} header is not a user name"));
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
