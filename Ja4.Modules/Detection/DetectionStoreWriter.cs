using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.KnownFingerprints;
using Ja4.Modules.Storage.Engines;
using Ja4.Modules.Storage.Queries;

namespace Ja4.Modules.Detection;

/// <summary>Rows written by one run.</summary>
public readonly record struct StoredCounts(int Scores, int Anomalies, int Campaigns);

/// <summary>
/// Writes a run's outcome to the store: every verdict to <c>ml_all_scores</c>, those at or above
/// the alert level to <c>ml_detected_anomalies</c>, every campaign to <c>ml_campaigns</c>.
/// </summary>
public sealed class DetectionStoreWriter(StorageQueries queries, IStoreExecutor writer, ThreatLevel alertLevel)
{
    public async Task<StoredCounts> WriteAsync(DetectionResult result, CancellationToken cancellationToken)
    {
        var scores = result.Verdicts.Select(v => ToScore(v, result, alertLevel)).ToArray();
        await queries.WriteScoresAsync(scores, writer, cancellationToken).ConfigureAwait(false);
        var campaigns = result.Campaigns.Select(c => new CampaignRecord(result.At, c.Id, c.Key, c.Size, c.UserAgents, c.FirstSeen,
                c.LastSeen, (float)c.Risk, LevelName(c.Level), c.Returning, result.ModelVersion,
                c.Entities.Select(e => new CampaignMember(System.Net.IPAddress.Parse(e.ClientIp), e.Ja4, e.Host)).ToArray()))
            .ToArray();
        await queries.WriteCampaignsAsync(campaigns, writer, cancellationToken).ConfigureAwait(false);
        return new StoredCounts(scores.Length, scores.Count(s => s.IsAnomaly), campaigns.Length);
    }

    /// <summary>Loads the known-fingerprint table into <c>known_fingerprints</c> (the dashboard's JA4 → application lookups).</summary>
    public Task UpsertKnownFingerprintsAsync(KnownFingerprintTable known, CancellationToken cancellationToken) =>
        queries.UpsertKnownFingerprintsAsync(known.All.Select(k => new Storage.Queries.KnownFingerprint(k.Ja4, k.Application, k.Library,
            k.Device, k.Os, k.IsBrowser ? "browser" : "library", "shipped", k.Notes)).ToArray(), writer, cancellationToken);

    /// <summary>The stored form of a verdict; <c>features</c> holds the model's inputs by name.</summary>
    public static ScoreRecord ToScore(Verdicts.Verdict v, DetectionResult run, ThreatLevel alertLevel)
    {
        var features = new Dictionary<string, double>(FeatureSchema.All.Count, StringComparer.Ordinal);
        for (var f = 0; f < FeatureSchema.All.Count; f++)
        {
            features[FeatureSchema.All[f].Name] = v.Features[f];
        }
        var e = v.Entity;
        return new ScoreRecord(run.At, run.WindowStart, run.WindowEnd, e.Key.Host, e.Address, e.Key.Ja4, (float)v.AnomalyScore,
            LevelName(v.Level), v.BotName, v.Level >= alertLevel && v.Level > ThreatLevel.None, run.ModelVersion, features, v.Explanation)
        {
            Risk = (float)v.Risk,
            Requests = e.Requests,
            RuleIds = v.FiredRuleIds.ToArray(),
            CampaignId = v.CampaignId,
            Returning = v.Returning,
        };
    }

    /// <summary>The level as stored: lower case (<c>none</c>, <c>low</c>, ...).</summary>
    public static string LevelName(ThreatLevel level) => level.ToString().ToLowerInvariant();
}
