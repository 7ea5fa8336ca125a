using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Detection.Blocklist;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Detection;

/// <summary>What the status API reports of a finished run.</summary>
/// <param name="At">End of the run's window (the time the run started).</param>
/// <param name="Duration">Wall time of the run.</param>
/// <param name="Source">"store" (SQL over <c>http_logs</c>) or "memory".</param>
/// <param name="Requests">Requests in the window.</param>
/// <param name="Entities">Entities scored.</param>
/// <param name="Anomalies">Verdicts at or above the alert level.</param>
/// <param name="Campaigns">Campaigns found.</param>
/// <param name="ModelVersion">Model of the run (<c>rules-only</c> before one is trained).</param>
/// <param name="Retrained">The run trained a new model.</param>
public sealed record DetectionRunSummary(DateTimeOffset At, TimeSpan Duration, string Source, long Requests, int Entities,
    int Anomalies, int Campaigns, string ModelVersion, bool Retrained);

/// <summary>
/// Runs detection every <c>Interval</c> over the last <c>Window</c> of requests — from the store when
/// the storage module is on, else from the <see cref="DetectionEventBuffer"/>: features, forest
/// (reloaded from <c>ModelPath</c> on start, retrained every <c>RetrainInterval</c> and saved),
/// rules, campaigns; writes the scores and campaigns to the store, publishes the verdicts at or
/// above the alert level as <see cref="Anomaly"/> events and refreshes the block list.
/// </summary>
public sealed class DetectionWorker : BackgroundService, IPipelineStage
{
    public PipelineStage Stage => PipelineStage.Consume;

    private readonly DetectionOptions _options;
    private readonly DetectionEngine _engine;
    private readonly DetectionEventBuffer _buffer;
    private readonly IFeatureSource _source;
    private readonly DetectionStoreWriter? _storeWriter;
    private readonly EventOutlet<Anomaly> _anomalies;
    private readonly TimeProvider _time;
    private readonly ILogger<DetectionWorker> _logger;
    private readonly Counter _runs;
    private readonly Counter _failures;
    private readonly Counter _anomalyCount;
    private readonly Counter _scored;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PeriodicTimer? _timer;
    private bool _knownStored;

    public DetectionWorker(IOptions<DetectionOptions> options, DetectionEngine engine, DetectionEventBuffer buffer,
        IFeatureSource source, EventPipeline pipeline, Ja4Metrics metrics, TimeProvider time, ILogger<DetectionWorker> logger,
        DetectionStoreWriter? storeWriter = null)
    {
        _options = options.Value;
        _engine = engine;
        _buffer = buffer;
        _source = source;
        _storeWriter = storeWriter;
        _anomalies = pipeline.Outlet<Anomaly>(ModuleNames.Detection);
        _time = time;
        _logger = logger;
        _runs = metrics.Counter("ja4_detection_runs_total", "Detection runs completed.");
        _failures = metrics.Counter("ja4_detection_run_failures_total", "Detection runs that failed.");
        _anomalyCount = metrics.Counter("ja4_detection_anomalies_total", "Verdicts at or above the alert level.");
        _scored = metrics.Counter("ja4_detection_entities_scored_total", "Entities scored.");
        metrics.Gauge("ja4_detection_buffered_requests", "Requests held for the in-memory feature path.", () => _buffer.Count);
        metrics.Gauge("ja4_detection_buffer_dropped", "Requests dropped because the detection buffer was full.", () => _buffer.Dropped);
    }

    /// <summary>The latest run's result (null before the first run).</summary>
    public DetectionResult? LastResult { get; private set; }

    /// <summary>The latest run's summary (null before the first run).</summary>
    public DetectionRunSummary? LastSummary { get; private set; }

    /// <summary>Where features come from: "store" or "memory".</summary>
    public string FeatureSource => _source.Name;

    /// <summary>True while a run is in progress.</summary>
    public bool IsRunning => _gate.CurrentCount == 0;

    /// <summary>A run now unless one is in progress (then null): the manual run of the API.</summary>
    public async Task<DetectionResult?> TryRunNowAsync(CancellationToken cancellationToken)
    {
        if (!await _gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        try
        {
            return await RunLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        LoadModel();
        // The period starts now, not whenever the host gets round to running ExecuteAsync.
        _timer = new PeriodicTimer(_options.Interval, _time);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timer = _timer!;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _failures.Increment();
                    DetectionLog.RunFailed(_logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One run over the window ending now; waits for a run in progress to finish first.</summary>
    public async Task<DetectionResult> RunOnceAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RunLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<DetectionResult> RunLockedAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var now = _time.GetUtcNow();
        var start = now - _options.Window;
        var (features, requests) = await _source.ComputeAsync(start, now, cancellationToken).ConfigureAwait(false);
        var result = await _engine.RunAsync(features, now, cancellationToken).ConfigureAwait(false);
        if (result.Retrained)
        {
            SaveModel();
        }
        if (_storeWriter is not null)
        {
            if (!_knownStored)
            {
                await _storeWriter.UpsertKnownFingerprintsAsync(_engine.Known, cancellationToken).ConfigureAwait(false);
                _knownStored = true;
            }
            await _storeWriter.WriteAsync(result, cancellationToken).ConfigureAwait(false);
        }
        var alerts = result.Verdicts.Where(v => v.Level >= _options.AlertLevel && v.Level > ThreatLevel.None).ToArray();
        var dropped = 0;
        foreach (var v in alerts)
        {
            var e = v.Entity;
            DetectionLog.AnomalyFound(_logger, v.Level, e.Key.ClientIp, e.Key.Ja4, e.Key.Host, v.Risk,
                v.BotName.Length > 0 ? $" ({v.BotName})" : "", v.Explanation);
            if (_anomalies.HasConsumers && !_anomalies.TryPublish(ToAnomaly(v, result)))
            {
                dropped++;
            }
        }
        if (dropped > 0)
        {
            DetectionLog.AnomaliesDropped(_logger, dropped);
        }
        if (_options.Blocklist.Enabled)
        {
            WriteBlocklist(result, now);
        }
        _runs.Increment();
        _scored.Add(result.Verdicts.Count);
        _anomalyCount.Add(alerts.Length);
        LastResult = result;
        LastSummary = new DetectionRunSummary(now, _time.GetElapsedTime(started), _source.Name, requests, features.Entities.Count,
            alerts.Length, result.Campaigns.Count, result.ModelVersion, result.Retrained);
        DetectionLog.RunCompleted(_logger, features.Entities.Count, requests, start, now, alerts.Length,
            result.Campaigns.Count, result.ModelVersion, result.Retrained ? "retrained" : "reused");
        return result;
    }

    /// <summary>The event form of a verdict.</summary>
    public static Anomaly ToAnomaly(Verdicts.Verdict v, DetectionResult run) => new(
        run.At, run.WindowStart, run.WindowEnd, v.Entity.Key.ClientIp, v.Entity.Key.Ja4, v.Entity.Key.Host, v.Entity.Requests,
        v.AnomalyScore, v.Risk, v.Level, v.BotName, v.FiredRuleIds.ToArray(), v.TopFeatures.Select(f => f.Name).ToArray(),
        v.Explanation, v.CampaignId, v.Returning);

    private void WriteBlocklist(DetectionResult result, DateTimeOffset now)
    {
        var b = _options.Blocklist;
        try
        {
            var addresses = result.Verdicts.Where(v => v.Level >= b.Level && v.Level > ThreatLevel.None)
                .Select(v => v.Entity.Address);
            BlocklistExporter.Write(b.Directory, addresses, b.NftTable, b.NftSet, now);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DetectionLog.BlocklistFailed(_logger, b.Directory, e.Message);
        }
    }

    private void LoadModel()
    {
        var path = _options.ModelPath;
        if (!File.Exists(path))
        {
            return;
        }
        try
        {
            using var stream = File.OpenRead(path);
            var model = IsolationForest.Load(stream, FeatureSchema.Names);
            _engine.Model = model;
            _engine.TrainedAt = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
            DetectionLog.ModelLoaded(_logger, path, model.TreeCount, model.FeatureNames.Count);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            DetectionLog.ModelRejected(_logger, path, e.Message);
        }
    }

    private void SaveModel()
    {
        var path = _options.ModelPath;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var temp = path + ".tmp";
            using (var stream = File.Create(temp))
            {
                _engine.Model!.Save(stream);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DetectionLog.ModelSaveFailed(_logger, path, e.Message);
        }
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        _gate.Dispose();
        base.Dispose();
    }
}
