using System.Net;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Options;
using Ja4.Modules.Core.Pipeline;
using Ja4.Modules.Detection.Alerts;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Detection.Model;
using Ja4.Modules.Detection.Rules;
using Ja4.Modules.Detection.Verdicts;
using Ja4.Modules.Storage;
using Ja4.Modules.Storage.Queries;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Detection;

/// <summary>Entry point of the detection module.</summary>
public static class DetectionModule
{
    /// <summary>Registers detection when <c>Modules:Detection:Enabled</c> is true; nothing otherwise.</summary>
    public static IServiceCollection AddDetectionModule(this IServiceCollection services, IConfiguration configuration)
    {
        if (!services.TryAddModuleOptions<DetectionOptions, DetectionOptionsValidator>(configuration, ModuleNames.Detection))
        {
            return services;
        }
        services.AddSingleton(sp => new DetectionEventBuffer(sp.GetRequiredService<IOptions<DetectionOptions>>().Value.MaxBufferedRequests));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<DetectionOptions>>().Value;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DetectionModule).FullName!);
            var known = LoadKnownFingerprints(o);
            DetectionLog.FingerprintsLoaded(logger, known.Count, known.SkippedRows);
            var time = sp.GetRequiredService<TimeProvider>();
            return new DetectionEngine(Settings(o), known, new ConsistencyRules(known, o.RuleWeights, o.RuleMinShare),
                new CrawlerVerifier(Resolver(o.Dns, time), time, o.Dns.CacheFor));
        });
        if (ModuleNames.IsEnabled(configuration, ModuleNames.Storage))
        {
            // Storage on: features come from http_logs and the outcome goes to the ml_* tables.
            services.AddSingleton<IFeatureSource>(sp => new StoreFeatureSource(sp.GetRequiredService<StorageStore>().Reader,
                sp.GetRequiredService<StorageQueries>().TableName("http_logs")));
            services.AddSingleton(sp => new DetectionStoreWriter(sp.GetRequiredService<StorageQueries>(),
                sp.GetRequiredService<StorageStore>().Writer, sp.GetRequiredService<IOptions<DetectionOptions>>().Value.AlertLevel));
        }
        else
        {
            services.AddSingleton<IFeatureSource>(sp => new BufferFeatureSource(sp.GetRequiredService<DetectionEventBuffer>()));
        }
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<DetectionWorker>(sp,
            sp.GetService<DetectionStoreWriter>() is { } w ? [w] : []));
        services.AddHostedService(sp => sp.GetRequiredService<DetectionWorker>());
        services.AddHostedService<DetectionFeedWorker>();
        AddAlertSinks(services);
        return services;
    }

    private static void AddAlertSinks(IServiceCollection services)
    {
        services.AddSingleton<IReadOnlyList<IAlertSink>>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<DetectionOptions>>().Value.Alerts;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Ja4.Modules.Detection.Alerts");
            var sinks = new List<IAlertSink>();
            if (o.Webhook.Enabled)
            {
                sinks.Add(new WebhookAlertSink(o.Webhook, sp.GetRequiredService<TimeProvider>(), logger));
            }
            if (o.Syslog.Enabled)
            {
                sinks.Add(new SyslogAlertSink(o.Syslog, logger));
            }
            DetectionLog.Started(logger, sp.GetRequiredService<IFeatureSource>().Name,
                sinks.Count == 0 ? "none" : string.Join(", ", sinks.Select(s => s.Name)));
            return sinks;
        });
        services.AddHostedService(sp => new AlertWorker(sp.GetRequiredService<EventPipeline>(),
            sp.GetRequiredService<IReadOnlyList<IAlertSink>>(), sp.GetRequiredService<Ja4Metrics>()));
    }

    /// <summary>The engine settings of the options.</summary>
    public static DetectionSettings Settings(DetectionOptions o) => new()
    {
        Thresholds = new ThreatThresholds(o.Thresholds.Low, o.Thresholds.Medium, o.Thresholds.High, o.Thresholds.Critical),
        AlertLevel = o.AlertLevel,
        ModelFloor = o.ModelFloor,
        ModelCeiling = o.ModelCeiling,
        Forest = new IsolationForestParameters { Trees = o.Trees, SampleSize = o.SampleSize, Seed = o.Seed },
        MinTrainingEntities = o.MinTrainingEntities,
        RetrainInterval = o.RetrainInterval,
        CampaignMinRisk = o.Campaigns.MinRisk,
        CampaignMinSize = o.Campaigns.MinSize,
        CampaignWeight = o.Campaigns.Weight,
        QuietPeriod = o.Campaigns.QuietPeriod,
    };

    private static KnownFingerprintTable LoadKnownFingerprints(DetectionOptions o)
    {
        var shipped = Path.IsPathRooted(o.KnownFingerprintsPath)
            ? o.KnownFingerprintsPath
            : Path.Combine(AppContext.BaseDirectory, o.KnownFingerprintsPath);
        if (!File.Exists(shipped))
        {
            throw new OptionsValidationException(nameof(DetectionOptions), typeof(DetectionOptions),
                [$"Modules:Detection:KnownFingerprintsPath: file not found: {shipped}"]);
        }
        if (o.OperatorFingerprintsPath.Length > 0 && !File.Exists(o.OperatorFingerprintsPath))
        {
            throw new OptionsValidationException(nameof(DetectionOptions), typeof(DetectionOptions),
                [$"Modules:Detection:OperatorFingerprintsPath: file not found: {o.OperatorFingerprintsPath}"]);
        }
        try
        {
            return KnownFingerprintTable.Load(shipped, o.OperatorFingerprintsPath);
        }
        catch (InvalidDataException e)
        {
            throw new OptionsValidationException(nameof(DetectionOptions), typeof(DetectionOptions),
                [$"Modules:Detection:KnownFingerprintsPath/OperatorFingerprintsPath: {e.Message}"]);
        }
    }

    private static IDnsResolver Resolver(DetectionDnsOptions dns, TimeProvider time) => dns.Server switch
    {
        "" => new SystemDnsResolver(),
        "none" => new NoDnsResolver(),
        var s => new UdpDnsResolver(ParseEndpoint(s), dns.Timeout, time),
    };

    private static IPEndPoint ParseEndpoint(string s)
    {
        var e = IPEndPoint.Parse(s);
        return e.Port == 0 ? new IPEndPoint(e.Address, 53) : e;
    }
}
