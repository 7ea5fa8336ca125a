using System.Globalization;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Detection.Rules;
using Ja4.Modules.Detection.Simulation;
using Ja4.Modules.Detection.Verdicts;

namespace Ja4.Bench.Detection;

/// <summary>
/// Detection quality on labelled simulator traffic: per bot kind and overall, ROC AUC of the risk,
/// precision and recall at the alert level, and recall at a 1 % false-positive rate on humans.
/// Usage: detection-quality REPO_ROOT [seed] [tuning|evaluation]. The defaults (seed 2027, the
/// evaluation mix) differ from the seed and mix the thresholds were tuned on (seed 7, tuning mix).
/// </summary>
public sealed class DetectionQualityMeasurement : IMeasurement
{
    public static readonly SimulationMix TuningMix = new();

    public static readonly SimulationMix EvaluationMix = new()
    {
        Humans = 500, Scrapers = 20, CredentialStuffers = 10, UaSpoofers = 40, RotatorCampaigns = 4, RotatorAddresses = 15,
        LowAndSlow = 15, GoodCrawlers = 5,
    };

    public string Name => "detection-quality";
    public string Description => "precision/recall/ROC AUC per bot kind on simulator traffic not used for tuning";

    public async Task<int> RunAsync(string[] args)
    {
        var root = args.Length > 0 ? args[0] : ".";
        var seed = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2027;
        var mix = args.Length > 2 && args[2] == "tuning" ? TuningMix : EvaluationMix;
        var start = new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero);
        var traffic = TrafficSimulator.Generate(seed, mix, start);
        var known = KnownFingerprintTable.Load(Path.Combine(root, "data", "known-fingerprints.csv"), null);
        var settings = new DetectionSettings();
        var engine = new DetectionEngine(settings, known, new ConsistencyRules(known), null);
        var window = FeatureExtractor.Compute(traffic.Requests, traffic.Start, traffic.End);
        var result = await engine.RunAsync(window, traffic.End, CancellationToken.None);

        var byKind = result.Verdicts.GroupBy(v => traffic.KindOf(v.Entity.Address)).ToDictionary(g => g.Key, g => g.ToArray());
        var humans = byKind[TrafficKind.Human].Select(v => v.Risk).ToArray();
        var threshold = Evaluation.ThresholdAtFalsePositiveRate(humans, 0.01);
        var humanAlerts = byKind[TrafficKind.Human].Count(v => v.Level >= settings.AlertLevel);
        Console.WriteLine($"seed {seed}, {traffic.Requests.Count} requests, {window.Entities.Count} entities, " +
                          $"{result.Campaigns.Count} campaigns; risk threshold at 1% human FP: {threshold:0.000}");
        var bots = new List<double>();
        int botAlerts = 0, botCount = 0;
        foreach (var kind in Enum.GetValues<TrafficKind>().Where(k => k is not TrafficKind.Human and not TrafficKind.GoodCrawler))
        {
            if (!byKind.TryGetValue(kind, out var verdicts))
            {
                continue;
            }
            var risks = verdicts.Select(v => v.Risk).ToArray();
            bots.AddRange(risks);
            var alerts = verdicts.Count(v => v.Level >= settings.AlertLevel);
            botAlerts += alerts;
            botCount += verdicts.Length;
            var name = kind.ToString();
            Row.Print("detection-quality", $"{name} entities", verdicts.Length);
            Row.Print("detection-quality", $"{name} ROC AUC %", 100 * Evaluation.RocAuc(risks, humans));
            // The forest alone, without rules or campaigns: what a single model catches.
            Row.Print("detection-quality", $"{name} forest-only ROC AUC %", 100 * Evaluation.RocAuc(
                verdicts.Select(v => v.AnomalyScore).ToArray(), byKind[TrafficKind.Human].Select(v => v.AnomalyScore).ToArray()));
            Row.Print("detection-quality", $"{name} recall@alert %", 100.0 * alerts / verdicts.Length);
            Row.Print("detection-quality", $"{name} precision@alert %", 100.0 * alerts / Math.Max(1, alerts + humanAlerts));
            Row.Print("detection-quality", $"{name} caught@1%FP %", 100.0 * risks.Count(r => r > threshold) / risks.Length);
        }
        Row.Print("detection-quality", "overall ROC AUC %", 100 * Evaluation.RocAuc(bots, humans));
        Row.Print("detection-quality", "overall precision@alert %", 100.0 * botAlerts / Math.Max(1, botAlerts + humanAlerts));
        Row.Print("detection-quality", "overall recall@alert %", 100.0 * botAlerts / Math.Max(1, botCount));
        Row.Print("detection-quality", "human FP@alert %", 100.0 * humanAlerts / humans.Length);
        Row.Print("detection-quality", "overall caught@1%FP %", 100.0 * bots.Count(r => r > threshold) / bots.Count);
        if (byKind.TryGetValue(TrafficKind.GoodCrawler, out var crawlers))
        {
            Row.Print("detection-quality", "GoodCrawler named %",
                100.0 * crawlers.Count(v => v.BotName.StartsWith("Googlebot", StringComparison.Ordinal)) / crawlers.Length);
        }
        if (args.Contains("--verbose"))
        {
            foreach (var v in result.Verdicts.OrderByDescending(v => v.Risk))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{traffic.KindOf(v.Entity.Address),-18} {v.Risk:0.000} {v.AnomalyScore:0.000} {v.Level,-8} {v.Entity.Key} {v.BotName} | {v.Explanation}"));
            }
        }
        return 0;
    }
}
