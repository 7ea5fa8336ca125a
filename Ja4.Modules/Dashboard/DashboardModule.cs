using System.Text.Json.Serialization;
using Ja4.Modules.Core.Options;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Dashboard.Api;
using Ja4.Modules.Dashboard.Data;
using Ja4.Modules.Dashboard.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Queries;
using MudBlazor.Services;

namespace Ja4.Modules.Dashboard;

/// <summary>Entry point of the dashboard module.</summary>
public static class DashboardModule
{
    /// <summary>Registers the dashboard when <c>Modules:Dashboard:Enabled</c> is true; nothing otherwise.</summary>
    public static IServiceCollection AddDashboardModule(this IServiceCollection services, IConfiguration configuration)
    {
        if (!services.TryAddModuleOptions<DashboardOptions, DashboardOptionsValidator>(configuration, ModuleNames.Dashboard))
        {
            return services;
        }
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddSingleton<DashboardMarker>();
        services.AddSingleton<LiveFeed>();
        services.AddHostedService<LiveFeedWorker>();
        services.AddSingleton(sp => new Data.OverviewQueries(sp.GetService<StorageQueries>(), sp.GetService<IOptions<StorageOptions>>()?.Value));
        services.AddSingleton(sp => new Data.InvestigationQueries(sp.GetService<StorageQueries>(), sp.GetService<IOptions<StorageOptions>>()?.Value));
        services.AddDashboardApiServices();
        services.AddDashboardSecurity();
        return services;
    }

    /// <summary>Maps the pages and their assets; does nothing when the module is disabled.</summary>
    public static WebApplication MapDashboard(this WebApplication app)
    {
        if (app.Services.GetService<DashboardMarker>() is null)
        {
            return app;
        }
        app.Use(SecurityHeaders);
        app.Use(AbortWebSocketsOnStop);
        app.MapDashboardSecurity();
        app.UseAntiforgery();
        app.MapStaticAssets().AllowAnonymous();
        app.MapOpenApi().WithMetadata(new Microsoft.AspNetCore.Mvc.ApiExplorerSettingsAttribute { IgnoreApi = true });
        app.MapDashboardApi();
        // frame-ancestors is part of the policy above; Blazor's own header would duplicate it.
        app.MapRazorComponents<Components.App>()
            .AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
        return app;
    }

    /// <summary>The REST API's queries, its OpenAPI document and its JSON and error formats.</summary>
    private static void AddDashboardApiServices(this IServiceCollection services)
    {
        services.AddSingleton<DashboardStore>();
        services.AddSingleton<AnomalyQueries>();
        services.AddSingleton<CampaignQueries>();
        services.AddSingleton<SearchQueries>();
        services.AddProblemDetails();
        // Scores and features may hold NaN or infinities (a degenerate model): written as strings, never a failed response.
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
        });
        services.AddOpenApi("v1", o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "ja4 dashboard API";
            document.Info.Description = "Read-only access to the stored requests, detections and campaigns. " +
                                        "Every time-bound endpoint takes range=15m|1h|6h|24h|7d|30d or from/to (ISO 8601).";
            return Task.CompletedTask;
        }));
    }

    /// <summary>
    /// An open dashboard tab holds a WebSocket (its interactive circuit) for as long as it is open, and the web
    /// server's graceful stop waits for open connections until the host's stop timeout, which the ingest drain
    /// and the store's flush need after it. So a WebSocket is aborted as soon as the daemon starts stopping (the
    /// browser reconnects when the daemon is back); other requests finish as before.
    /// </summary>
    private static async Task AbortWebSocketsOnStop(HttpContext context, Func<Task> next)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await next().ConfigureAwait(false);
            return;
        }
        var stopping = context.RequestServices.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping;
        using var registration = stopping.Register(static c => ((HttpContext)c!).Abort(), context);
        await next().ConfigureAwait(false);
    }

    /// <summary>
    /// Everything shown comes from the network, so the pages allow no inline script, no framing
    /// and no MIME sniffing. MudBlazor sets inline styles, hence 'unsafe-inline' for styles only.
    /// </summary>
    private static Task SecurityHeaders(HttpContext context, Func<Task> next)
    {
        var h = context.Response.Headers;
        h.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
                                  "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
                                  "frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        return next();
    }
}

/// <summary>Present in the container only when the dashboard is enabled.</summary>
internal sealed class DashboardMarker;
