using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ja4.Host;

/// <summary>
/// <c>/readyz</c> body: overall status and one entry per module check (status, one-line
/// description, error, and the figures behind it such as the spill size), as JSON. HTTP 200 when
/// healthy or degraded, 503 when unhealthy (set by the health-check middleware). The checks are
/// in <see cref="ReadinessChecks"/>.
/// </summary>
internal static class ReadinessReport
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new Dictionary<string, object?>
        {
            ["status"] = report.Status.ToString(),
            ["checks"] = report.Entries.ToDictionary(e => e.Key, e => new Dictionary<string, object?>
            {
                ["status"] = e.Value.Status.ToString(),
                ["description"] = e.Value.Description,
                ["error"] = e.Value.Exception?.Message,
                ["data"] = e.Value.Data.Count == 0 ? null : e.Value.Data,
            }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
