using Microsoft.AspNetCore.Http.Features;

namespace Ja4.Host;

/// <summary>
/// Keeps a browser from holding the daemon's stop: once the stop began, new requests get 503
/// with the connection closed, and upgraded connections (the dashboard's WebSocket circuits) are
/// aborted.
/// </summary>
/// <remarks>
/// The web server stops first and waits for open requests until the host's shutdown deadline.
/// A dashboard's circuit is closed at the stop, but its browser re-opens one at once, and one
/// opened after the close went round would be waited for until the deadline (30 s), which also
/// leaves the data path's drain no time. Ordinary requests already running finish normally.
/// </remarks>
internal static class StoppingGate
{
    public static void UseStoppingGate(this WebApplication app)
    {
        var stopping = app.Lifetime.ApplicationStopping;
        app.Use(async (context, next) =>
        {
            if (stopping.IsCancellationRequested)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.Connection = "close";
                context.Response.Headers.RetryAfter = "10";
                await context.Response.WriteAsync("ja4 is stopping\n").ConfigureAwait(false);
                return;
            }
            using var abort = IsLongLived(context) ? stopping.Register(static c => ((HttpContext)c!).Abort(), context) : default;
            await next(context).ConfigureAwait(false);
        });
    }

    /// <summary>A WebSocket: an HTTP/1.1 upgrade or an HTTP/2 extended CONNECT.</summary>
    private static bool IsLongLived(HttpContext context) =>
        context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true ||
        context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;
}
