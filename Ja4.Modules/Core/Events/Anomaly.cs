namespace Ja4.Modules.Core.Events;

/// <summary>How serious a detection verdict is; thresholds are set in <c>Modules:Detection:Thresholds</c>.</summary>
public enum ThreatLevel : byte
{
    None = 0,
    Low = 1,
    Medium = 2,
    High = 3,
    Critical = 4,
}

/// <summary>
/// A client entity (client IP × JA4 × host) that the detection module judged at or above the alert
/// level in one run. Produced by detection; consumed by storage (<c>ml_detected_anomalies</c>), the
/// dashboard's live feed and the alert sinks.
/// </summary>
/// <param name="DetectedAt">Time of the detection run.</param>
/// <param name="WindowStart">Start of the traffic window that was judged.</param>
/// <param name="WindowEnd">End of that window.</param>
/// <param name="ClientIp">Client address (text form).</param>
/// <param name="Ja4">JA4 of the entity's handshakes, empty for plain HTTP.</param>
/// <param name="Host">HTTP Host of the entity's requests.</param>
/// <param name="Requests">Requests of the entity in the window.</param>
/// <param name="AnomalyScore">Isolation Forest score s(x, ψ) in (0, 1); 0 when no model was trained yet.</param>
/// <param name="Risk">Combined risk in [0, 1] from the model and the consistency rules.</param>
/// <param name="Level">Threat level of the risk (raised by campaign membership).</param>
/// <param name="BotName">Known client or declared crawler, or empty.</param>
/// <param name="RuleIds">Consistency rules that fired.</param>
/// <param name="TopFeatures">Features that isolated the entity most, strongest first.</param>
/// <param name="Explanation">The reasons in plain words.</param>
/// <param name="CampaignId">Campaign the entity belongs to, or empty.</param>
/// <param name="Returning">True when the address or campaign came back after a quiet period.</param>
public sealed record Anomaly(
    DateTimeOffset DetectedAt,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    string ClientIp,
    string Ja4,
    string Host,
    int Requests,
    double AnomalyScore,
    double Risk,
    ThreatLevel Level,
    string BotName,
    IReadOnlyList<string> RuleIds,
    IReadOnlyList<string> TopFeatures,
    string Explanation,
    string CampaignId,
    bool Returning);
