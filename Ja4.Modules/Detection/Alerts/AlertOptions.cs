using System.ComponentModel.DataAnnotations;

namespace Ja4.Modules.Detection.Alerts;

/// <summary><c>Modules:Detection:Alerts</c>: where anomalies are sent besides the store and the log. Both sinks are off by default.</summary>
public sealed class DetectionAlertOptions
{
    /// <summary>JSON POST of each anomaly to an HTTP endpoint.</summary>
    public WebhookAlertOptions Webhook { get; set; } = new();

    /// <summary>RFC 5424 syslog messages over UDP, TCP or a UNIX socket.</summary>
    public SyslogAlertOptions Syslog { get; set; } = new();
}

/// <summary><c>Modules:Detection:Alerts:Webhook</c>.</summary>
public sealed class WebhookAlertOptions
{
    /// <summary>Sends anomalies to <see cref="Url"/>. Default: false.</summary>
    public bool Enabled { get; set; }

    /// <summary>http:// or https:// endpoint that receives one JSON object per anomaly. Default: empty.</summary>
    public string Url { get; set; } = "";

    /// <summary>Extra request headers (e.g. <c>Authorization</c>). Default: none.</summary>
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Time to wait for one answer. Default: 00:00:05.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts per anomaly (network errors, 408, 429 and 5xx are retried). Default: 4.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Delay before the first retry; doubled per attempt up to <see cref="MaxRetryDelay"/>. Default: 00:00:01.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between attempts. Default: 00:00:30.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Transport of the syslog sink.</summary>
public enum SyslogTransport
{
    /// <summary>One datagram per message (RFC 5426).</summary>
    Udp,
    /// <summary>A stream with octet-counting framing (RFC 6587).</summary>
    Tcp,
    /// <summary>A UNIX datagram socket such as <c>/dev/log</c>.</summary>
    Unix,
}

/// <summary><c>Modules:Detection:Alerts:Syslog</c>.</summary>
public sealed class SyslogAlertOptions
{
    /// <summary>Sends anomalies as syslog messages. Default: false.</summary>
    public bool Enabled { get; set; }

    /// <summary><c>Udp</c>, <c>Tcp</c> or <c>Unix</c>. Default: Udp.</summary>
    public SyslogTransport Transport { get; set; } = SyslogTransport.Udp;

    /// <summary>Syslog server address or name (Udp, Tcp). Default: 127.0.0.1.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Syslog server port (Udp, Tcp). Default: 514.</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 514;

    /// <summary>UNIX datagram socket (Unix). Default: /dev/log.</summary>
    public string SocketPath { get; set; } = "/dev/log";

    /// <summary>Facility number 0–23 (4 = auth, 10 = authpriv, 16–23 = local0–local7). Default: 10.</summary>
    [Range(0, 23)]
    public int Facility { get; set; } = 10;

    /// <summary>APP-NAME of the messages. Default: ja4.</summary>
    public string AppName { get; set; } = "ja4";
}
