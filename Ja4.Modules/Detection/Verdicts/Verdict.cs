using System.Globalization;
using System.Text;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection.Features;
using Ja4.Modules.Detection.Rules;

namespace Ja4.Modules.Detection.Verdicts;

/// <summary>Risk thresholds of each threat level (a risk at or above the value has that level).</summary>
public sealed record ThreatThresholds(double Low = 0.5, double Medium = 0.7, double High = 0.85, double Critical = 0.95)
{
    public ThreatLevel LevelOf(double risk) =>
        risk >= Critical ? ThreatLevel.Critical
        : risk >= High ? ThreatLevel.High
        : risk >= Medium ? ThreatLevel.Medium
        : risk >= Low ? ThreatLevel.Low
        : ThreatLevel.None;
}

/// <summary>A feature's share in isolating an entity, with its value and the training median.</summary>
public sealed record FeatureContribution(string Name, string Words, double Bits, double Value, double Usual);

/// <summary>The judgement of one entity in one run.</summary>
public sealed record Verdict(
    EntityProfile Entity,
    float[] Features,
    double AnomalyScore,
    double ModelRisk,
    double Risk,
    ThreatLevel Level,
    string BotName,
    IReadOnlyList<RuleHit> Rules,
    IReadOnlyList<FeatureContribution> TopFeatures,
    string CampaignId,
    bool Returning)
{
    public IEnumerable<string> FiredRuleIds => Rules.Where(r => r.Fired).Select(r => r.Id);

    /// <summary>The reasons in plain words: rules first (they name a cause), then what the model saw.</summary>
    public string Explanation
    {
        get
        {
            var sb = new StringBuilder();
            foreach (var r in Rules)
            {
                if (sb.Length > 0)
                {
                    sb.Append("; ");
                }
                sb.Append(r.Fired ? $"[{r.Id}] " : "").Append(r.Explanation);
            }
            if (TopFeatures.Count > 0)
            {
                if (sb.Length > 0)
                {
                    sb.Append("; ");
                }
                sb.Append(CultureInfo.InvariantCulture, $"unusual traffic (anomaly score {AnomalyScore:0.00}): ");
                sb.AppendJoin(", ", TopFeatures.Select(f =>
                    string.Create(CultureInfo.InvariantCulture, $"{f.Words} {Format(f.Value)} (usual {Format(f.Usual)})")));
            }
            if (CampaignId.Length > 0)
            {
                sb.Append("; member of campaign ").Append(CampaignId);
            }
            if (Returning)
            {
                sb.Append("; returning after a quiet period");
            }
            return sb.Length == 0 ? "nothing unusual" : sb.ToString();
        }
    }

    private static string Format(double v) =>
        Math.Abs(v) >= 100 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.##", CultureInfo.InvariantCulture);
}
