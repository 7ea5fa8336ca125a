using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.Model;
using Ja4.Modules.Storage.Engines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Detection;

/// <summary>The run summary as the API returns it.</summary>
public sealed record DetectionRunInfo(DateTimeOffset At, double DurationMs, string Source, long Requests, int Entities, int Anomalies,
    int Campaigns, string ModelVersion, bool Retrained)
{
    public static DetectionRunInfo Of(DetectionRunSummary s) => new(s.At, Math.Round(s.Duration.TotalMilliseconds, 1), s.Source, s.Requests,
        s.Entities, s.Anomalies, s.Campaigns, s.ModelVersion, s.Retrained);
}

/// <summary><c>GET /api/detection/status</c>.</summary>
public sealed record DetectionStatus(bool Enabled, bool Running, string FeatureSource, TimeSpan Interval, TimeSpan Window,
    string AlertLevel, DetectionRunInfo? LastRun, string ModelVersion, DateTimeOffset? TrainedAt, FeatureSchemaInfo FeatureSchema);

/// <summary>The feature schema the model reads.</summary>
public sealed record FeatureSchemaInfo(int Version, IReadOnlyList<string> Features);

/// <summary>One model input with the median of its training data.</summary>
public sealed record ModelFeature(string Name, string Words, double Median);

/// <summary><c>GET /api/detection/model</c>.</summary>
public sealed record DetectionModelInfo(string Version, DateTimeOffset? TrainedAt, int FormatVersion, int FeatureSchemaVersion, int Trees,
    int SampleSize, int EffectiveSampleSize, ulong Seed, IReadOnlyList<ModelFeature> Features);

/// <summary>
/// The detection REST endpoints: status, manual run, model. Mapped only when the module is on;
/// the host's authorisation policy applies to them like to every other <c>/api</c> route.
/// </summary>
public static class DetectionApi
{
    /// <summary>Maps <c>/api/detection/*</c>; does nothing when detection is off.</summary>
    public static WebApplication MapDetectionApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Asks whether the module registered its worker without building it (building reads the
        // options, whose problems the host reports later, all at once).
        if (app.Services.GetService<IServiceProviderIsService>()?.IsService(typeof(DetectionWorker)) != true)
        {
            return app;
        }
        var api = app.MapGroup("/api/detection");
        api.MapGet("/status", Status);
        api.MapPost("/run", RunAsync);
        api.MapGet("/model", Model);
        return app;
    }

    private static DetectionStatus Status(DetectionWorker worker, DetectionEngine engine, IOptions<DetectionOptions> options)
    {
        var o = options.Value;
        return new DetectionStatus(true, worker.IsRunning, worker.FeatureSource, o.Interval, o.Window, o.AlertLevel.ToString(),
            worker.LastSummary is { } s ? DetectionRunInfo.Of(s) : null, engine.ModelVersion, engine.TrainedAt,
            new FeatureSchemaInfo(FeatureSchema.Version, FeatureSchema.Names));
    }

    private static async Task<IResult> RunAsync(HttpContext context, DetectionWorker worker)
    {
        if (context.Request.Query.Count > 0 || context.Request.ContentLength > 0)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "POST /api/detection/run takes no parameters",
                detail: "The run judges the last Modules:Detection:Window of traffic ending now; send an empty body.");
        }
        try
        {
            var result = await worker.TryRunNowAsync(context.RequestAborted).ConfigureAwait(false);
            return result is null
                ? Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "a detection run is in progress",
                    detail: "Wait for it to finish (GET /api/detection/status shows running: false), then try again.")
                : Results.Ok(DetectionRunInfo.Of(worker.LastSummary!));
        }
        catch (StoreException e)
        {
            return Results.Problem(statusCode: e.Transient ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError,
                title: "the detection run could not read or write the store", detail: e.Message);
        }
    }

    private static IResult Model(DetectionEngine engine, IOptions<DetectionOptions> options)
    {
        if (engine.Model is not { } model)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "no model yet",
                detail: $"A model is trained by the first run with at least Modules:Detection:MinTrainingEntities ({options.Value.MinTrainingEntities}) entities; until then runs use the rules only.");
        }
        var features = model.FeatureNames.Select((name, i) =>
        {
            var def = FeatureSchema.All[FeatureSchema.IndexOf(name)];
            return new ModelFeature(name, def.Words, model.Medians[i]);
        }).ToArray();
        return Results.Ok(new DetectionModelInfo(engine.ModelVersion, engine.TrainedAt, IsolationForest.FormatVersion, FeatureSchema.Version,
            model.TreeCount, model.Parameters.SampleSize, model.EffectiveSampleSize, model.Parameters.Seed, features));
    }
}
