using System.ComponentModel.DataAnnotations;
using System.Net;
using Ja4.Modules.Core.Events;
using Ja4.Modules.Detection.Alerts;
using Ja4.Modules.Detection.Rules;
using Microsoft.Extensions.Options;

namespace Ja4.Modules.Detection;

/// <summary><c>Modules:Detection</c>: bot detection with an Isolation Forest, consistency rules and campaigns.</summary>
public sealed class DetectionOptions
{
    /// <summary>Switches the module on. Default: false when absent.</summary>
    public bool Enabled { get; set; }

    /// <summary>Time between detection runs. Default: 00:05:00.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Traffic judged by each run: the last <c>Window</c> of requests. Default: 01:00:00.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Risk thresholds of the threat levels.</summary>
    public DetectionThresholdOptions Thresholds { get; set; } = new();

    /// <summary>Verdicts at or above this level are anomalies (events, blocklist). Default: Medium.</summary>
    public ThreatLevel AlertLevel { get; set; } = ThreatLevel.Medium;

    /// <summary>Isolation Forest score where the model starts adding risk. Default: 0.5.</summary>
    [Range(0.0, 1.0)]
    public double ModelFloor { get; set; } = 0.5;

    /// <summary>Isolation Forest score at which the model alone gives risk 1. Default: 0.62.</summary>
    [Range(0.0, 1.0)]
    public double ModelCeiling { get; set; } = 0.62;

    /// <summary>Trees in the forest. Default: 100.</summary>
    [Range(1, 10_000)]
    public int Trees { get; set; } = 100;

    /// <summary>Sub-sample size ψ of each tree. Default: 256.</summary>
    [Range(2, 1_000_000)]
    public int SampleSize { get; set; } = 256;

    /// <summary>Seed of the forest: the same seed and data give the same model. Default: 42.</summary>
    public ulong Seed { get; set; } = 42;

    /// <summary>Fewest entities in a window to train a model; fewer means rules only. Default: 64.</summary>
    [Range(2, 100_000_000)]
    public int MinTrainingEntities { get; set; } = 64;

    /// <summary>How often the forest is retrained on the current window. Default: 01:00:00.</summary>
    public TimeSpan RetrainInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Where the trained model is saved and reloaded from on start. Default: /var/lib/ja4/detection/model.bin.</summary>
    [Required]
    public string ModelPath { get; set; } = "/var/lib/ja4/detection/model.bin";

    /// <summary>Shipped JA4 → client table; relative paths are under the program directory. Default: known-fingerprints.csv.</summary>
    [Required]
    public string KnownFingerprintsPath { get; set; } = "known-fingerprints.csv";

    /// <summary>Operator's own table (FoxIO ja4plus-mapping.csv columns), merged on top. Default: none.</summary>
    public string OperatorFingerprintsPath { get; set; } = "";

    /// <summary>Rule weight overrides by rule id, each in [0, 1]. Default: the rules' own weights.</summary>
    public Dictionary<string, double> RuleWeights { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Share of an entity's requests that must break a User-Agent rule for it to fire. Default: 0.2.</summary>
    [Range(0.0, 1.0)]
    public double RuleMinShare { get; set; } = 0.2;

    /// <summary>Crawler verification by forward-confirmed reverse DNS.</summary>
    public DetectionDnsOptions Dns { get; set; } = new();

    /// <summary>Campaign grouping.</summary>
    public DetectionCampaignOptions Campaigns { get; set; } = new();

    /// <summary>Blocklist files.</summary>
    public DetectionBlocklistOptions Blocklist { get; set; } = new();

    /// <summary>Alert sinks (webhook, syslog), off by default.</summary>
    public DetectionAlertOptions Alerts { get; set; } = new();

    /// <summary>Most requests kept in memory for the in-memory feature path; older ones are dropped and counted. Default: 2000000.</summary>
    [Range(1_000, 100_000_000)]
    public int MaxBufferedRequests { get; set; } = 2_000_000;
}

/// <summary><c>Modules:Detection:Thresholds</c>: a risk at or above a value has that level.</summary>
public sealed class DetectionThresholdOptions
{
    /// <summary>Default: 0.5.</summary>
    [Range(0.0, 1.0)]
    public double Low { get; set; } = 0.5;

    /// <summary>Default: 0.7.</summary>
    [Range(0.0, 1.0)]
    public double Medium { get; set; } = 0.7;

    /// <summary>Default: 0.85.</summary>
    [Range(0.0, 1.0)]
    public double High { get; set; } = 0.85;

    /// <summary>Default: 0.95.</summary>
    [Range(0.0, 1.0)]
    public double Critical { get; set; } = 0.95;
}

/// <summary><c>Modules:Detection:Dns</c>.</summary>
public sealed class DetectionDnsOptions
{
    /// <summary>
    /// DNS server as <c>address</c> or <c>address:port</c>; empty uses the system resolver; <c>none</c>
    /// disables lookups (declared crawlers are then reported "unverified"). Default: empty.
    /// </summary>
    public string Server { get; set; } = "";

    /// <summary>Time to wait for one answer. Default: 00:00:02.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a verification result is reused. Default: 06:00:00.</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromHours(6);
}

/// <summary><c>Modules:Detection:Campaigns</c>.</summary>
public sealed class DetectionCampaignOptions
{
    /// <summary>Risk an entity needs to join a campaign (a fired rule also suffices). Default: 0.5.</summary>
    [Range(0.0, 1.0)]
    public double MinRisk { get; set; } = 0.5;

    /// <summary>Fewest client addresses that make a campaign. Default: 3.</summary>
    [Range(2, 1_000_000)]
    public int MinSize { get; set; } = 3;

    /// <summary>Risk a campaign adds to each member (noisy-OR). Default: 0.5.</summary>
    [Range(0.0, 1.0)]
    public double Weight { get; set; } = 0.5;

    /// <summary>Quiet time after which an address or campaign seen again is "returning". Default: 1.00:00:00.</summary>
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromHours(24);
}

/// <summary><c>Modules:Detection:Blocklist</c>: files rewritten after every run.</summary>
public sealed class DetectionBlocklistOptions
{
    /// <summary>Writes the files. Default: false.</summary>
    public bool Enabled { get; set; }

    /// <summary>Addresses with a verdict at or above this level are listed. Default: High.</summary>
    public ThreatLevel Level { get; set; } = ThreatLevel.High;

    /// <summary>
    /// Directory of <c>blocklist.txt</c> (one address a line), <c>blocklist-apache.conf</c>
    /// (<c>Require not ip</c> lines inside <c>&lt;RequireAll&gt;</c>) and <c>blocklist.nft</c>
    /// (nftables sets). Default: /var/lib/ja4/blocklist.
    /// </summary>
    public string Directory { get; set; } = "/var/lib/ja4/blocklist";

    /// <summary>nftables table and set names used in <c>blocklist.nft</c>. Default: inet ja4 / ja4_block.</summary>
    public string NftTable { get; set; } = "ja4";

    /// <summary>Default: ja4_block (IPv4) and ja4_block6 (IPv6).</summary>
    public string NftSet { get; set; } = "ja4_block";
}

internal sealed class DetectionOptionsValidator : IValidateOptions<DetectionOptions>
{
    public ValidateOptionsResult Validate(string? name, DetectionOptions o)
    {
        var errors = new List<string>();
        if (o.Interval < TimeSpan.FromSeconds(10))
        {
            errors.Add("Modules:Detection:Interval must be at least 00:00:10");
        }
        if (o.Window < o.Interval)
        {
            errors.Add("Modules:Detection:Window must be at least Modules:Detection:Interval");
        }
        var t = o.Thresholds;
        if (!(t.Low > 0 && t.Low <= t.Medium && t.Medium <= t.High && t.High <= t.Critical && t.Critical <= 1))
        {
            errors.Add("Modules:Detection:Thresholds must satisfy 0 < Low <= Medium <= High <= Critical <= 1");
        }
        if (o.ModelCeiling <= o.ModelFloor)
        {
            errors.Add("Modules:Detection:ModelCeiling must be greater than Modules:Detection:ModelFloor");
        }
        if (o.RetrainInterval <= TimeSpan.Zero)
        {
            errors.Add("Modules:Detection:RetrainInterval must be positive");
        }
        foreach (var (id, weight) in o.RuleWeights)
        {
            if (!ConsistencyRules.Definitions.Any(d => d.Id == id))
            {
                errors.Add($"Modules:Detection:RuleWeights:{id} is not a rule (known: {string.Join(", ", ConsistencyRules.Definitions.Select(d => d.Id))})");
            }
            else if (weight is < 0 or > 1)
            {
                errors.Add($"Modules:Detection:RuleWeights:{id} must be between 0 and 1");
            }
        }
        if (o.Dns.Server.Length > 0 && o.Dns.Server != "none" && !IPEndPoint.TryParse(o.Dns.Server, out _))
        {
            errors.Add("Modules:Detection:Dns:Server must be an address, address:port, empty (system resolver) or \"none\"");
        }
        if (o.Dns.Timeout <= TimeSpan.Zero)
        {
            errors.Add("Modules:Detection:Dns:Timeout must be positive");
        }
        if (o.Campaigns.QuietPeriod <= TimeSpan.Zero)
        {
            errors.Add("Modules:Detection:Campaigns:QuietPeriod must be positive");
        }
        if (o.Blocklist.Enabled && string.IsNullOrWhiteSpace(o.Blocklist.Directory))
        {
            errors.Add("Modules:Detection:Blocklist:Directory is required when Modules:Detection:Blocklist:Enabled is true");
        }
        if (o.Blocklist.Level == ThreatLevel.None)
        {
            errors.Add("Modules:Detection:Blocklist:Level must be Low, Medium, High or Critical");
        }
        var webhook = o.Alerts.Webhook;
        if (webhook.Enabled && !(Uri.TryCreate(webhook.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
        {
            errors.Add("Modules:Detection:Alerts:Webhook:Url must be an http:// or https:// URL when the webhook is enabled");
        }
        if (webhook.Timeout <= TimeSpan.Zero || webhook.RetryDelay < TimeSpan.Zero || webhook.MaxRetryDelay < webhook.RetryDelay)
        {
            errors.Add("Modules:Detection:Alerts:Webhook: Timeout must be positive and 0 <= RetryDelay <= MaxRetryDelay");
        }
        var syslog = o.Alerts.Syslog;
        if (syslog.Enabled && syslog.Transport == SyslogTransport.Unix && string.IsNullOrWhiteSpace(syslog.SocketPath))
        {
            errors.Add("Modules:Detection:Alerts:Syslog:SocketPath is required when Transport is Unix");
        }
        if (syslog.Enabled && syslog.Transport != SyslogTransport.Unix && string.IsNullOrWhiteSpace(syslog.Host))
        {
            errors.Add("Modules:Detection:Alerts:Syslog:Host is required when Transport is Udp or Tcp");
        }
        if (syslog.AppName.Length is 0 or > 48 || syslog.AppName.Any(c => c is <= ' ' or > '~'))
        {
            errors.Add("Modules:Detection:Alerts:Syslog:AppName must be 1-48 printable ASCII characters without spaces");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
