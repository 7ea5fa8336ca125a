using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection.Campaigns;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Detection.Model;
using Ja4.Modules.Detection.Rules;
using Ja4.Modules.Detection.Verdicts;

namespace Ja4.Modules.Detection;

/// <summary>The knobs of a detection run (bound from <c>Modules:Detection</c> by the module).</summary>
public sealed record DetectionSettings
{
    public ThreatThresholds Thresholds { get; init; } = new();
    /// <summary>Verdicts at or above this level become <see cref="Anomaly"/> events.</summary>
    public ThreatLevel AlertLevel { get; init; } = ThreatLevel.Medium;
    /// <summary>Anomaly score at which the model starts to add risk (sklearn's "auto" offset is 0.5).</summary>
    public double ModelFloor { get; init; } = 0.5;
    /// <summary>Anomaly score at which the model alone gives risk 1.</summary>
    public double ModelCeiling { get; init; } = 0.62;
    public IsolationForestParameters Forest { get; init; } = new();
    /// <summary>Fewest entities to train on; below it the run uses the rules only.</summary>
    public int MinTrainingEntities { get; init; } = 64;
    /// <summary>How often the forest is retrained on the current window.</summary>
    public TimeSpan RetrainInterval { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Risk an entity needs to be considered for a campaign (a fired rule also suffices).</summary>
    public double CampaignMinRisk { get; init; } = 0.5;
    /// <summary>Fewest addresses that make a campaign.</summary>
    public int CampaignMinSize { get; init; } = 3;
    /// <summary>Risk a campaign adds to each member: risk' = 1 − (1 − risk)(1 − weight).</summary>
    public double CampaignWeight { get; init; } = 0.5;
    /// <summary>Risk cap of a crawler verified by forward-confirmed reverse DNS.</summary>
    public double VerifiedCrawlerMaxRisk { get; init; } = 0.2;
    /// <summary>Quiet time after which a flagged address or campaign seen again is "returning".</summary>
    public TimeSpan QuietPeriod { get; init; } = TimeSpan.FromHours(24);
    /// <summary>How many top features an explanation names.</summary>
    public int TopFeatures { get; init; } = 3;
}

/// <summary>The outcome of one run.</summary>
public sealed record DetectionResult(
    DateTimeOffset At,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    IReadOnlyList<Verdict> Verdicts,
    IReadOnlyList<Campaign> Campaigns,
    bool Retrained,
    string ModelVersion);

/// <summary>
/// One detection run over a window's features: Isolation Forest score → model risk; consistency
/// rules → rule risk; noisy-OR of both → risk → threat level; campaigns over the suspicious
/// entities; recurrence across runs. Keeps the model and the recurrence memory between runs.
/// </summary>
public sealed class DetectionEngine
{
    private const int MaxRemembered = 200_000;
    private readonly DetectionSettings _settings;
    private readonly KnownFingerprintTable _known;
    private readonly ConsistencyRules _rules;
    private readonly CrawlerVerifier? _crawlers;
    private readonly Dictionary<string, DateTimeOffset> _flaggedIps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _campaignsSeen = new(StringComparer.Ordinal);

    public DetectionEngine(DetectionSettings settings, KnownFingerprintTable known, ConsistencyRules rules, CrawlerVerifier? crawlers)
    {
        _settings = settings;
        _known = known;
        _rules = rules;
        _crawlers = crawlers;
    }

    /// <summary>The JA4 → client table the rules and bot names use.</summary>
    public KnownFingerprintTable Known => _known;

    /// <summary>The current forest (null until trained or loaded).</summary>
    public IsolationForest? Model { get; set; }

    /// <summary>When <see cref="Model"/> was trained.</summary>
    public DateTimeOffset? TrainedAt { get; set; }

    public string ModelVersion => Model is null
        ? "rules-only"
        : $"iforest-v{IsolationForest.FormatVersion}-f{FeatureSchema.Version}-{TrainedAt?.ToUnixTimeSeconds() ?? 0}";

    public async Task<DetectionResult> RunAsync(WindowFeatures window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var retrained = false;
        var matrix = window.Matrix;
        var due = Model is null || TrainedAt is null || now - TrainedAt.Value >= _settings.RetrainInterval;
        if (due && matrix.Rows >= _settings.MinTrainingEntities)
        {
            Model = IsolationForest.Train(matrix, FeatureSchema.Names, _settings.Forest);
            TrainedAt = now;
            retrained = true;
        }
        var scores = new float[matrix.Rows];
        Model?.Score(matrix, scores);

        var span = _settings.ModelCeiling - _settings.ModelFloor;
        var verdicts = new Verdict[matrix.Rows];
        for (var i = 0; i < matrix.Rows; i++)
        {
            var entity = window.Entities[i];
            CrawlerVerification? crawler = null;
            if (ConsistencyRules.DeclaredCrawlerOf(entity) is { } declared)
            {
                crawler = _crawlers is null
                    ? new CrawlerVerification(CrawlerCheck.Unverified, declared.Name, "no resolver configured")
                    : await _crawlers.VerifyAsync(entity.Address, declared, cancellationToken).ConfigureAwait(false);
            }
            var hits = _rules.Evaluate(entity, crawler);
            var modelRisk = Model is null ? 0 : Math.Clamp((scores[i] - _settings.ModelFloor) / span, 0, 1);
            var keep = 1 - modelRisk;
            foreach (var h in hits)
            {
                if (h.Fired)
                {
                    keep *= 1 - h.Weight;
                }
            }
            var risk = 1 - keep;
            if (crawler?.Check == CrawlerCheck.Verified)
            {
                risk = Math.Min(risk, _settings.VerifiedCrawlerMaxRisk);
            }
            var row = matrix.Row(i).ToArray();
            verdicts[i] = new Verdict(entity, row, scores[i], modelRisk, risk, ThreatLevel.None, BotName(entity, crawler),
                hits, [], "", false);
        }

        var campaigns = BuildCampaigns(verdicts, now);
        // Recurrence is judged against earlier runs only: an address with two entities in this run
        // must not see the first one's mark.
        var flaggedNow = new List<string>();
        for (var i = 0; i < verdicts.Length; i++)
        {
            var v = verdicts[i];
            var level = _settings.Thresholds.LevelOf(v.Risk);
            var top = level >= ThreatLevel.Low && Model is not null && v.ModelRisk > 0 ? TopFeatures(v.Features) : [];
            var returning = false;
            if (level >= _settings.AlertLevel)
            {
                returning = _flaggedIps.TryGetValue(v.Entity.Key.ClientIp, out var last) && now - last >= _settings.QuietPeriod;
                flaggedNow.Add(v.Entity.Key.ClientIp);
            }
            verdicts[i] = v with { Level = level, TopFeatures = top, Returning = returning };
        }
        foreach (var ip in flaggedNow)
        {
            _flaggedIps[ip] = now;
        }
        Prune(_flaggedIps);
        Prune(_campaignsSeen);
        return new DetectionResult(now, window.Start, window.End, verdicts, campaigns, retrained, ModelVersion);
    }

    private List<Campaign> BuildCampaigns(Verdict[] verdicts, DateTimeOffset now)
    {
        var index = new Dictionary<EntityKey, int>();
        for (var i = 0; i < verdicts.Length; i++)
        {
            index[verdicts[i].Entity.Key] = i;
        }
        var candidates = verdicts.Where(v => v.Risk >= _settings.CampaignMinRisk || v.Rules.Any(r => r.Fired))
            .Select(v => new CampaignGrouper.Candidate(v.Entity, v.Risk));
        var campaigns = new List<Campaign>();
        foreach (var (id, key, members) in CampaignGrouper.Group(candidates, _settings.CampaignMinSize))
        {
            double keep = 1;
            foreach (var m in members)
            {
                var i = index[m.Entity.Key];
                var boosted = 1 - ((1 - verdicts[i].Risk) * (1 - _settings.CampaignWeight));
                verdicts[i] = verdicts[i] with { Risk = boosted, CampaignId = id };
                keep *= 1 - boosted;
            }
            var risk = 1 - keep;
            var returning = _campaignsSeen.TryGetValue(id, out var last) && now - last >= _settings.QuietPeriod;
            _campaignsSeen[id] = now;
            campaigns.Add(new Campaign(id, key,
                members.Select(m => m.Entity.Key.ClientIp).Distinct(StringComparer.Ordinal).Count(),
                members.Select(m => m.Entity.Key).ToArray(),
                members.SelectMany(m => m.Entity.UserAgents.Keys).Distinct(StringComparer.Ordinal).Count(),
                members.Min(m => m.Entity.FirstSeen), members.Max(m => m.Entity.LastSeen),
                risk, _settings.Thresholds.LevelOf(risk), returning));
        }
        return campaigns;
    }

    private FeatureContribution[] TopFeatures(float[] row)
    {
        var model = Model!;
        var credit = model.Contributions(row);
        return Enumerable.Range(0, credit.Length)
            .Where(f => Math.Abs(row[f] - model.Medians[f]) > 1e-6)
            .OrderByDescending(f => credit[f])
            .Take(_settings.TopFeatures)
            .Select(f =>
            {
                var def = FeatureSchema.All[f];
                return new FeatureContribution(def.Name, def.Words, credit[f], def.Natural(row[f]), def.Natural(model.Medians[f]));
            })
            .ToArray();
    }

    /// <summary>Declared crawler, else the known client of the JA4 when it is not a browser, else a library User-Agent.</summary>
    private string BotName(EntityProfile entity, CrawlerVerification? crawler)
    {
        if (crawler is not null)
        {
            return crawler.Check switch
            {
                CrawlerCheck.Verified => crawler.Crawler,
                CrawlerCheck.Failed => crawler.Crawler + " (fake)",
                _ => crawler.Crawler + " (unverified)",
            };
        }
        if (_known.TryGet(entity.Key.Ja4, out var known) && !known.IsBrowser)
        {
            return known.Application;
        }
        var ua = UserAgentParser.Parse(entity.UserAgents.MaxBy(kv => kv.Value).Key);
        return ua.Family == ClientFamily.Library ? ua.Browser : "";
    }

    private static void Prune(Dictionary<string, DateTimeOffset> seen)
    {
        if (seen.Count <= MaxRemembered)
        {
            return;
        }
        // Forget the oldest entries first; they are the least likely to return.
        foreach (var key in seen.OrderBy(kv => kv.Value).Take(seen.Count - (MaxRemembered * 9 / 10)).Select(kv => kv.Key).ToArray())
        {
            seen.Remove(key);
        }
    }
}
