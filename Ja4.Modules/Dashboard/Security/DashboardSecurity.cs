using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Dashboard.Security;

/// <summary>
/// Sign-in for the dashboard: a cookie for local accounts, a header for a trusted reverse proxy,
/// and a fallback authorization policy that covers every endpoint (pages, <c>/api/*</c>, the
/// Blazor hub, other modules' endpoints) except the ones listed in <see cref="IsOpenPath"/>.
/// </summary>
public static class DashboardSecurity
{
    /// <summary>The scheme that picks the proxy header or the cookie for each request.</summary>
    public const string Scheme = "ja4";

    public const string CookieName = "ja4.session";
    public const string LogoutPath = "/logout";

    internal static void AddDashboardSecurity(this IServiceCollection services)
    {
        services.AddSingleton(sp => new DashboardAccess(sp.GetRequiredService<IOptions<DashboardOptions>>().Value));
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<IAuthorizationHandler, DashboardAccessHandler>();
        services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "ja4 dashboard", o => o.ForwardDefaultSelector = ctx =>
            {
                var access = ctx.RequestServices.GetRequiredService<DashboardAccess>();
                return access.ProxyMode && access.IsTrustedProxy(ctx.Connection.RemoteIpAddress) &&
                       !string.IsNullOrWhiteSpace(ctx.Request.Headers[access.ProxyHeader])
                    ? TrustedProxyHandler.SchemeName
                    : CookieAuthenticationDefaults.AuthenticationScheme;
            })
            .AddScheme<AuthenticationSchemeOptions, TrustedProxyHandler>(TrustedProxyHandler.SchemeName, null)
            .AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, _ => { });
        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<IOptions<DashboardOptions>>((o, dashboard) =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = dashboard.Value.SessionTimeout;
                o.SlidingExpiration = true;
                o.LoginPath = Data.Links.Login;
                o.LogoutPath = LogoutPath;
                o.AccessDeniedPath = Data.Links.Login;
                o.ReturnUrlParameter = "returnUrl";
                o.Events.OnRedirectToLogin = ctx => Challenge(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => Challenge(ctx, StatusCodes.Status403Forbidden);
                o.Events.OnValidatePrincipal = ctx =>
                {
                    // An account removed from the configuration loses its sessions at once.
                    var access = ctx.HttpContext.RequestServices.GetRequiredService<DashboardAccess>();
                    if (ctx.Principal?.Identity?.Name is not { } name || !access.IsAccount(name))
                    {
                        ctx.RejectPrincipal();
                    }
                    return Task.CompletedTask;
                };
            });
        services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder()
            .AddRequirements(new DashboardAccessRequirement()).Build());
    }

    /// <summary>Pages are sent to the login page; the API, the OpenAPI document and the Blazor hub answer with a status.</summary>
    private static Task Challenge(RedirectContext<CookieAuthenticationOptions> ctx, int status)
    {
        if (IsMachinePath(ctx.Request.Path))
        {
            ctx.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }

    internal static bool IsMachinePath(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/openapi") || path.StartsWithSegments("/_blazor");

    /// <summary>
    /// Always anonymous: the health probes, the Prometheus scrape endpoint (it carries counters
    /// with module and channel names only, and scrapers hold no login), the login page and the
    /// static assets it needs.
    /// </summary>
    internal static bool IsOpenPath(PathString path) =>
        path == "/healthz" || path == "/readyz" || path == "/metrics" || path == Data.Links.Login ||
        path.StartsWithSegments("/_framework") || path.StartsWithSegments("/_content");

    internal static void MapDashboardSecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapPost(LogoutPath, LogoutAsync).AllowAnonymous().ExcludeFromDescription();
    }

    private static async Task<IResult> LogoutAsync(HttpContext context, IAntiforgery antiforgery, ILoggerFactory loggers)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "a valid antiforgery token is required to sign out");
        }
        if (context.User.Identity?.Name is { } name)
        {
            SecurityLog.SignedOut(loggers.CreateLogger("Ja4.Modules.Dashboard.Security"), name);
        }
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.Redirect(Data.Links.Login);
    }
}

/// <summary>The fallback policy's one requirement: see <see cref="DashboardAccessHandler"/>.</summary>
internal sealed class DashboardAccessRequirement : IAuthorizationRequirement;

/// <summary>Met when no login is required, the path is always open, or the user is signed in.</summary>
internal sealed class DashboardAccessHandler(DashboardAccess access) : AuthorizationHandler<DashboardAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, DashboardAccessRequirement requirement)
    {
        var path = context.Resource switch
        {
            HttpContext http => http.Request.Path,
            _ => PathString.Empty,
        };
        if (!access.LoginRequired || DashboardSecurity.IsOpenPath(path) || context.User.Identity?.IsAuthenticated == true)
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
