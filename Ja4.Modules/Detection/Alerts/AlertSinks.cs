using System.Globalization;
using System.Text;
using System.Text.Json;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Core.Metrics;
using Ja4.Modules.Core.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ja4.Modules.Detection.Alerts;

/// <summary>One destination of anomalies. Implementations count and log their own failures and never throw for them.</summary>
public interface IAlertSink : IDisposable
{
    /// <summary>"webhook" or "syslog" (metric label).</summary>
    string Name { get; }

    /// <summary>Delivers one anomaly; returns whether it was delivered.</summary>
    Task<bool> SendAsync(Anomaly anomaly, CancellationToken cancellationToken);
}

/// <summary>
/// Reads the <c>Anomalies</c> channel — the sinks' bounded queue: when the sinks fall behind, new
/// anomalies are dropped and counted in <c>ja4_channel_dropped_total{channel="Anomalies"}</c> —
/// and hands each anomaly to every enabled sink at once. With no sink enabled it only drains.
/// </summary>
public sealed class AlertWorker : BackgroundService, IPipelineStage
{
    public PipelineStage Stage => PipelineStage.Deliver;

    private readonly EventPipeline _pipeline;
    private readonly IReadOnlyList<IAlertSink> _sinks;
    private readonly Dictionary<string, (Counter Sent, Counter Failed)> _counters = new(StringComparer.Ordinal);

    public AlertWorker(EventPipeline pipeline, IEnumerable<IAlertSink> sinks, Ja4Metrics metrics)
    {
        _pipeline = pipeline;
        _sinks = sinks.ToArray();
        foreach (var s in _sinks)
        {
            _counters[s.Name] = (
                metrics.Counter("ja4_detection_alerts_sent_total", "Anomalies delivered to an alert sink.", ("sink", s.Name)),
                metrics.Counter("ja4_detection_alerts_failed_total", "Anomalies an alert sink gave up on (after its retries).", ("sink", s.Name)));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _pipeline.Reader<Anomaly>(Edges.Anomalies);
        if (reader is null)
        {
            return;
        }
        try
        {
            await foreach (var anomaly in reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                if (_sinks.Count == 0)
                {
                    continue;
                }
                var results = await Task.WhenAll(_sinks.Select(s => s.SendAsync(anomaly, stoppingToken))).ConfigureAwait(false);
                for (var i = 0; i < results.Length; i++)
                {
                    var (sent, failed) = _counters[_sinks[i].Name];
                    (results[i] ? sent : failed).Increment();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        foreach (var s in _sinks)
        {
            s.Dispose();
        }
        base.Dispose();
    }
}

/// <summary>The JSON form of an anomaly (webhook body): snake_case names as in <c>ml_detected_anomalies</c>.</summary>
public static class AnomalyJson
{
    public static byte[] Serialize(Anomaly a)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("type", "ja4.anomaly");
            w.WriteString("detected_at", a.DetectedAt.UtcDateTime);
            w.WriteString("window_start", a.WindowStart.UtcDateTime);
            w.WriteString("window_end", a.WindowEnd.UtcDateTime);
            w.WriteString("client_ip", a.ClientIp);
            w.WriteString("ja4", a.Ja4);
            w.WriteString("host", a.Host);
            w.WriteNumber("requests", a.Requests);
            w.WriteNumber("anomaly_score", Math.Round(a.AnomalyScore, 4));
            w.WriteNumber("risk", Math.Round(a.Risk, 4));
            w.WriteString("threat_level", DetectionStoreWriter.LevelName(a.Level));
            w.WriteString("bot_name", a.BotName);
            w.WriteStartArray("rule_ids");
            foreach (var r in a.RuleIds)
            {
                w.WriteStringValue(r);
            }
            w.WriteEndArray();
            w.WriteStartArray("top_features");
            foreach (var f in a.TopFeatures)
            {
                w.WriteStringValue(f);
            }
            w.WriteEndArray();
            w.WriteString("explanation", a.Explanation);
            w.WriteString("campaign_id", a.CampaignId);
            w.WriteBoolean("returning", a.Returning);
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}

/// <summary>
/// RFC 5424 messages: <c>&lt;PRI&gt;1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG</c>, the
/// verdict's fields as structured data, the explanation as the message.
/// </summary>
public static class SyslogFormatter
{
    /// <summary>Private enterprise number of the structured-data id (RFC 5424 §7.2.2 example number).</summary>
    public const string SdId = "ja4@32473";

    /// <summary>Syslog severity of a threat level (RFC 5424 table 2).</summary>
    public static int Severity(ThreatLevel level) => level switch
    {
        ThreatLevel.Critical => 2,
        ThreatLevel.High => 3,
        ThreatLevel.Medium => 4,
        ThreatLevel.Low => 5,
        _ => 6,
    };

    public static string Format(Anomaly a, int facility, string hostName, string appName, int processId)
    {
        var sb = new StringBuilder(256);
        sb.Append('<').Append((facility * 8) + Severity(a.Level)).Append(">1 ");
        sb.Append(a.DetectedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)).Append(' ');
        sb.Append(Field(hostName, 255)).Append(' ').Append(Field(appName, 48)).Append(' ');
        sb.Append(processId.ToString(CultureInfo.InvariantCulture)).Append(" anomaly [").Append(SdId);
        Param(sb, "client_ip", a.ClientIp);
        Param(sb, "ja4", a.Ja4);
        Param(sb, "host", a.Host);
        Param(sb, "level", DetectionStoreWriter.LevelName(a.Level));
        Param(sb, "risk", a.Risk.ToString("0.###", CultureInfo.InvariantCulture));
        Param(sb, "requests", a.Requests.ToString(CultureInfo.InvariantCulture));
        Param(sb, "bot", a.BotName);
        Param(sb, "rules", string.Join(",", a.RuleIds));
        Param(sb, "campaign", a.CampaignId);
        Param(sb, "returning", a.Returning ? "true" : "false");
        sb.Append("] ").Append(a.Explanation.ReplaceLineEndings(" "));
        return sb.ToString();
    }

    /// <summary>A header field: printable US-ASCII without spaces, "-" when empty (RFC 5424 §6).</summary>
    private static string Field(string value, int max)
    {
        var chars = value.Where(c => c is > ' ' and <= '~').Take(max).ToArray();
        return chars.Length == 0 ? "-" : new string(chars);
    }

    /// <summary>An SD-PARAM; '"', '\' and ']' are escaped with a backslash (RFC 5424 §6.3.3).</summary>
    private static void Param(StringBuilder sb, string name, string value)
    {
        sb.Append(' ').Append(name).Append("=\"");
        foreach (var c in value)
        {
            if (c is '"' or '\\' or ']')
            {
                sb.Append('\\');
            }
            sb.Append(c);
        }
        sb.Append('"');
    }
}
