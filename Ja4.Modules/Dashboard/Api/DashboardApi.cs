using System.Net;
using Ja4.Modules.Dashboard.Data;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Queries;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using CampaignMember = Ja4.Modules.Dashboard.Data.CampaignMember;

namespace Ja4.Modules.Dashboard.Api;

/// <summary>A time-bound answer: the range it covers and the data.</summary>
public sealed record RangeResponse<T>(DateTimeOffset From, DateTimeOffset To, T Data);

/// <summary>A detector score as the API shows it.</summary>
public sealed record ScoreView(DateTimeOffset Time, DateTimeOffset WindowStart, DateTimeOffset WindowEnd, string Host, string ClientIp,
    string Ja4, double Score, string ThreatLevel, string BotName, bool IsAnomaly, string ModelVersion,
    IReadOnlyDictionary<string, double> Features, string Explanation);

/// <summary>The IP endpoint's answer: one address (drill-down and scores) or a CIDR block (its busiest addresses).</summary>
public sealed record IpResponse(string Addr, string Kind, IpDrilldown? Ip, IReadOnlyList<ScoreView>? Scores, IReadOnlyList<SearchHit>? Addresses);

/// <summary>The REST API under <c>/api</c>: read-only, time-bound, bounded, parameterised.</summary>
public static class DashboardApi
{
    private static readonly string[] TopDimensions = ["ja4", "host", "ip", "path"];

    /// <summary>Maps every endpoint; they share parameter checks (400) and store errors (503).</summary>
    public static IEndpointRouteBuilder MapDashboardApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("dashboard").AddEndpointFilter(Errors);

        api.MapGet("/stats", async ([FromQuery] string? range, [FromQuery] string? from, [FromQuery] string? to,
            DashboardStore store, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            return Results.Ok(new RangeResponse<TrafficStats>(r.From, r.To, await store.Storage.StatsAsync(r.From, r.To, ct)));
        }).WithName("Stats").WithSummary("Requests, unique IPs, JA4s and hosts, bytes, 4xx/5xx and TLS matches over the range");

        api.MapGet("/top", async ([FromQuery] string? dimension, [FromQuery] string? limit, [FromQuery] string? range,
            [FromQuery] string? from, [FromQuery] string? to, DashboardStore store, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var d = ApiArgs.Choice("dimension", dimension, TopDimensions) switch
            {
                "host" => TopDimension.Host,
                "ip" => TopDimension.ClientIp,
                "path" => TopDimension.Path,
                _ => TopDimension.Ja4,
            };
            var n = ApiArgs.Int("limit", limit, 10, 1, 1000);
            var items = await store.Storage.TopAsync(d, r.From, r.To, n, ct);
            if (d == TopDimension.ClientIp)
            {
                items = items.Select(e => e with { Key = ShowAddress(e.Key) }).ToList();
            }
            return Results.Ok(new RangeResponse<IReadOnlyList<TopEntry>>(r.From, r.To, items));
        }).WithName("Top").WithSummary("The biggest JA4s, hosts, client IPs or paths by requests (dimension=ja4|host|ip|path, limit 1-1000)");

        api.MapGet("/timeseries", async ([FromQuery] string? metric, [FromQuery] string? range, [FromQuery] string? from,
            [FromQuery] string? to, AnomalyQueries queries, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var m = ApiArgs.Choice("metric", metric, "requests", "anomalies");
            return Results.Ok(new RangeResponse<IReadOnlyList<SeriesPoint>>(r.From, r.To, await queries.TimeseriesAsync(m, r, ct)));
        }).WithName("Timeseries").WithSummary("Requests or anomalies per bucket (the bucket follows the range: 1 min to 1 day)");

        api.MapGet("/anomalies", async ([FromQuery] string? level, [FromQuery] string? ip, [FromQuery] string? ja4,
            [FromQuery] string? bot, [FromQuery] string? host, [FromQuery] string? sort, [FromQuery] string? order,
            [FromQuery] string? page, [FromQuery] string? pageSize, [FromQuery] string? range, [FromQuery] string? from,
            [FromQuery] string? to, AnomalyQueries queries, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var filter = AnomalyFilter.Parse(level, ip, ja4, bot, host);
            var result = await queries.PageAsync(r, filter, ApiArgs.Sort(sort), ApiArgs.Descending(order),
                ApiArgs.Int("page", page, 1, 1, 1_000_000), ApiArgs.Int("pageSize", pageSize, 50, 1, AnomalyQueries.MaxPageSize), ct);
            return Results.Ok(new RangeResponse<AnomalyPage>(r.From, r.To, result));
        }).WithName("Anomalies").WithSummary("Anomalous clients (address × JA4 × host), filtered, sorted and paged");

        api.MapGet("/ip", async ([FromQuery] string? addr, [FromQuery] string? limit, [FromQuery] string? range,
            [FromQuery] string? from, [FromQuery] string? to, DashboardStore store, SearchQueries search, TimeProvider clock,
            CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var text = Text.Check("addr", addr, 64) ?? throw new BadParameterException("addr", "'addr' is required: an address or a CIDR block");
            if (!AddressRange.TryParse(text, out var a))
            {
                throw new BadParameterException("addr", "'addr' must be an IPv4/IPv6 address or a CIDR block such as 192.0.2.0/24");
            }
            var n = ApiArgs.Int("limit", limit, 100, 1, 10_000);
            IpResponse body;
            if (a.IsSingle)
            {
                var ipAddress = IPAddress.Parse(a.Text);
                var drill = await store.Storage.IpAsync(ipAddress, r.From, r.To, n, ct);
                var scores = await store.Storage.ScoresForIpAsync(ipAddress, r.From, r.To, ct);
                body = new IpResponse(a.Text, "ip", drill with { ClientIp = a.Text, RecentRequests = drill.RecentRequests.Select(q => q with { ClientIp = ShowAddress(q.ClientIp) }).ToList() },
                    scores.Select(View).ToList(), null);
            }
            else
            {
                body = new IpResponse(a.Text, "cidr", null, null, await search.AddressesAsync(a, r, n, ct));
            }
            return Results.Ok(new RangeResponse<IpResponse>(r.From, r.To, body));
        }).WithName("Ip").WithSummary("One address (hours, latest requests, scores) or a CIDR block (its busiest addresses)");

        api.MapGet("/ja4", async ([FromQuery] string? ja4, [FromQuery] string? limit, [FromQuery] string? range,
            [FromQuery] string? from, [FromQuery] string? to, DashboardStore store, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var value = Text.Check("ja4", ja4, 64) ?? throw new BadParameterException("ja4", "'ja4' is required");
            var n = ApiArgs.Int("limit", limit, 10, 1, 1000);
            var drill = await store.Storage.Ja4Async(value, r.From, r.To, n, ct);
            drill = drill with { TopIps = drill.TopIps.Select(e => e with { Key = ShowAddress(e.Key) }).ToList() };
            return Results.Ok(new RangeResponse<Ja4Drilldown>(r.From, r.To, drill));
        }).WithName("Ja4").WithSummary("One JA4: volume, its busiest addresses and hosts, and what it is known to be");

        api.MapGet("/campaigns", async ([FromQuery] string? limit, [FromQuery] string? range, [FromQuery] string? from,
            [FromQuery] string? to, CampaignQueries queries, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var n = ApiArgs.Int("limit", limit, 200, 1, 10_000);
            return Results.Ok(new RangeResponse<IReadOnlyList<CampaignSummary>>(r.From, r.To, await queries.ListAsync(r, n, ct)));
        }).WithName("Campaigns").WithSummary("Campaigns the detector updated in the range, riskiest first");

        api.MapGet("/campaigns/{id}", async (string id, [FromQuery] string? range, [FromQuery] string? from, [FromQuery] string? to,
            CampaignQueries queries, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var detail = await queries.GetAsync(CampaignQueries.CheckId(id), r, ct);
            return detail is null
                ? Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "no such campaign in the range")
                : Results.Ok(new RangeResponse<CampaignDetail>(r.From, r.To, detail));
        }).WithName("Campaign").WithSummary("One campaign: members, shared fingerprints, path sequences, timeline");

        api.MapGet("/search", async ([FromQuery] string? q, [FromQuery] string? limit, [FromQuery] string? range,
            [FromQuery] string? from, [FromQuery] string? to, SearchQueries queries, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var query = SearchQueries.CheckQuery(q);
            var n = ApiArgs.Int("limit", limit, 50, 1, 500);
            return Results.Ok(new RangeResponse<SearchResult>(r.From, r.To, await queries.SearchAsync(query, r, n, ct)));
        }).WithName("Search").WithSummary("Search by address, CIDR block, JA4 (or its start), JA3, or User-Agent/host/path substring");

        MapExports(api);
        return app;
    }

    private static void MapExports(RouteGroupBuilder api)
    {
        api.MapGet("/export/anomalies", async (HttpContext http, [FromQuery] string? format, [FromQuery] string? level,
            [FromQuery] string? ip, [FromQuery] string? ja4, [FromQuery] string? bot, [FromQuery] string? host, [FromQuery] string? sort,
            [FromQuery] string? order, [FromQuery] string? limit, [FromQuery] string? range, [FromQuery] string? from,
            [FromQuery] string? to, AnomalyQueries queries, IOptions<DashboardOptions> options, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var filter = AnomalyFilter.Parse(level, ip, ja4, bot, host);
            var f = ExportWriter<AnomalyRow>.ParseFormat(format);
            var max = options.Value.ExportMaxRows;
            var n = ApiArgs.Int("limit", limit, max, 1, max);
            var s = ApiArgs.Sort(sort);
            var desc = ApiArgs.Descending(order);
            await using var w = new ExportWriter<AnomalyRow>(http, f, AnomalyColumns, "ja4-anomalies");
            await queries.ExportAsync(r, filter, s, desc, n, w.WriteAsync, ct);
            await w.CompleteAsync();
            return Results.Empty;
        }).WithName("ExportAnomalies").WithSummary("The anomaly table (same filters) as CSV or JSON lines, at most ExportMaxRows rows");

        api.MapGet("/export/search", async (HttpContext http, [FromQuery] string? q, [FromQuery] string? format, [FromQuery] string? limit,
            [FromQuery] string? range, [FromQuery] string? from, [FromQuery] string? to, SearchQueries queries,
            IOptions<DashboardOptions> options, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var query = SearchQueries.CheckQuery(q);
            var f = ExportWriter<ExportRequest>.ParseFormat(format);
            var max = options.Value.ExportMaxRows;
            var n = ApiArgs.Int("limit", limit, max, 1, max);
            await using var w = new ExportWriter<ExportRequest>(http, f, RequestColumns, "ja4-search");
            await queries.ExportAsync(query, r, n, w.WriteAsync, ct);
            await w.CompleteAsync();
            return Results.Empty;
        }).WithName("ExportSearch").WithSummary("The requests a search matches, newest first, as CSV or JSON lines");

        api.MapGet("/export/campaigns/{id}", async (HttpContext http, string id, [FromQuery] string? format, [FromQuery] string? range,
            [FromQuery] string? from, [FromQuery] string? to, CampaignQueries queries, TimeProvider clock, CancellationToken ct) =>
        {
            var r = ApiArgs.Range(range, from, to, clock);
            var f = ApiArgs.Choice("format", format, ["csv", "jsonl", .. Blocklist.Formats]);
            var detail = await queries.GetAsync(CampaignQueries.CheckId(id), r, ct);
            if (detail is null)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "no such campaign in the range");
            }
            if (Blocklist.Formats.Contains(f))
            {
                http.Response.Headers.ContentDisposition = $"attachment; filename=\"ja4-campaign-{f}.{(f == "nftables" ? "nft" : f == "apache" ? "conf" : "txt")}\"";
                return Results.Text(Blocklist.Render(f, detail.Campaign.Id, detail.Members.Select(m => m.ClientIp)), "text/plain; charset=utf-8");
            }
            await using var w = new ExportWriter<CampaignMember>(http, f == "csv" ? ExportFormat.Csv : ExportFormat.JsonLines, MemberColumns, "ja4-campaign");
            foreach (var m in detail.Members)
            {
                await w.WriteAsync(m);
            }
            await w.CompleteAsync();
            return Results.Empty;
        }).WithName("ExportCampaign").WithSummary("A campaign's addresses: csv, jsonl, or a block list (plain, apache, nftables)");
    }

    private static readonly ExportColumn<AnomalyRow>[] AnomalyColumns =
    [
        new("threat_level", a => a.ThreatLevel), new("score", a => a.Score), new("risk", a => a.Risk), new("client_ip", a => a.ClientIp),
        new("ja4", a => a.Ja4), new("bot_name", a => a.BotName), new("host", a => a.Host), new("first_seen", a => a.FirstSeen),
        new("last_seen", a => a.LastSeen), new("detections", a => a.Detections), new("requests", a => a.Requests),
        new("explanation", a => a.Explanation), new("campaign_id", a => a.CampaignId),
    ];

    private static readonly ExportColumn<ExportRequest>[] RequestColumns =
    [
        new("time", q => q.Time), new("client_ip", q => q.ClientIp), new("host", q => q.Host), new("method", q => q.Method),
        new("path", q => q.Path), new("status", q => q.Status), new("user_agent", q => q.UserAgent), new("ja4", q => q.Ja4),
        new("ja3", q => q.Ja3),
    ];

    private static readonly ExportColumn<CampaignMember>[] MemberColumns =
    [
        new("client_ip", m => m.ClientIp), new("ja4", m => m.Ja4), new("host", m => m.Host),
    ];

    private static ScoreView View(ScoreRecord s) => new(s.Time, s.WindowStart, s.WindowEnd, s.Host,
        (s.ClientIp.IsIPv4MappedToIPv6 ? s.ClientIp.MapToIPv4() : s.ClientIp).ToString(), s.Ja4, s.Score, s.ThreatLevel, s.BotName,
        s.IsAnomaly, s.ModelVersion, s.Features, s.Explanation);

    private static string ShowAddress(string stored) =>
        IPAddress.TryParse(stored, out var ip) && ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4().ToString() : stored;

    /// <summary>Bad parameters become 400 problems naming them; a store that cannot answer, 503.</summary>
    private static async ValueTask<object?> Errors(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (BadParameterException e)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: $"bad parameter '{e.Parameter}'", detail: e.Message,
                extensions: new Dictionary<string, object?> { ["parameter"] = e.Parameter });
        }
        catch (StoreException e) when (!context.HttpContext.Response.HasStarted)
        {
            var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Ja4.Modules.Dashboard.Api");
            ApiLog.StoreFailed(logger, context.HttpContext.Request.Path, e.Message);
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "the store could not answer", detail: e.Message);
        }
    }
}
